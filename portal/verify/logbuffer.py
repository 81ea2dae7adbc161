"""The verification log buffer: every verification logged and counted without a database write on the request.

A verification's record is appended to a Redis list (one RPUSH) and the beat task drain_verification_log moves the
list into VerificationLog in batches, adding to each document's verification_count what was actually inserted. Every
record carries a uuid (VerificationLog.uid, unique), so a batch that is drained twice (a drainer killed after its
commit, a lease that ran out) inserts and counts once. Without Redis, or while it is unreachable, the record is
written to the database on the request. The list lives in the broker's Redis: like the task queue, it needs
persistence and `maxmemory-policy noeviction`.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.db import connection, transaction
from django.utils import timezone

from portal.ratelimit import redis_client, redis_failed

from .models import IssuedDocument, VerificationLog

if TYPE_CHECKING:
    from django.db.models.fields import Field
    from redis import Redis

logger = logging.getLogger("portal.verify")

LOG_QUEUE = "verify:log"
LOG_INFLIGHT = "verify:log:inflight"  # the batch being drained; drained again if its drainer died
LOG_LOCK = "verify:log:drain"  # one drainer at a time; its token guards every change to the lists
LOG_DEAD = "verify:log:dead"  # records that do not parse (never written by this code), kept for a person to see
LOG_LEASE_MS = 60_000
LOG_BATCH = 500

# Move up to ARGV[2] records from the queue to the in-flight list, or hand back the in-flight list as it is if a
# previous drainer left it there. Atomic, and only for the holder of the lock (whose lease it extends).
_CLAIM = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local items = redis.call('LRANGE', KEYS[3], 0, -1)
if #items > 0 then return items end
items = redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[2], #items, -1)
  redis.call('RPUSH', KEYS[3], unpack(items))
end
return items
"""
# Forget the in-flight batch (it is committed), still only for the lock's holder.
_ACK = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def verification_log_record(*, document_id: int | None, channel: str, result: str, ip: str | None) -> None:
    """Log one verification (and count it for the document): buffered in Redis, else written to the database."""
    import redis

    record = log_record(document_id=document_id, channel=channel, result=result, ip=ip)
    client = redis_client()
    if client is not None:
        try:
            client.rpush(LOG_QUEUE, log_item(record))
            return
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            # Written to the database instead. Had the push reached Redis after all, the drain later finds
            # the same uid already there and neither inserts nor counts it again.
            redis_failed(client, exc)
    verification_log_ingest(records=[record], documents_exist=True)


class LogRecord(TypedDict):
    """One buffered verification, as JSON in the Redis list (short keys: millions of them)."""

    u: str  # uuid4 hex: VerificationLog.uid
    d: int | None  # document id
    c: str  # channel
    r: str  # result
    a: str | None  # client address
    t: float  # POSIX time


def log_record(*, document_id: int | None, channel: str, result: str, ip: str | None) -> LogRecord:
    return {
        "u": uuid.uuid4().hex,
        "d": document_id,
        "c": channel,
        "r": result,
        "a": ip or None,
        "t": timezone.now().timestamp(),
    }


def log_item(record: LogRecord) -> str:
    return json.dumps(record, separators=(",", ":"))


def log_item_head(record: LogRecord) -> str:
    """log_item without the document, the result and the closing brace: a Redis script completes it (rowcache.py)."""
    head = {"u": record["u"], "c": record["c"], "a": record["a"], "t": record["t"]}
    return json.dumps(head, separators=(",", ":"))[:-1]


def verification_log_ingest(*, records: list[LogRecord], documents_exist: bool = False) -> int:
    """Insert log records not inserted before (by uid) and count them for their documents; returns how many.

    One transaction of three statements whatever the batch size: the documents still there, the INSERT .. ON
    CONFLICT DO NOTHING RETURNING of the new rows, one UPDATE of the counters of every document concerned.
    """
    unique: dict[uuid.UUID, LogRecord] = {}
    for record in records:
        unique.setdefault(uuid.UUID(record["u"]), record)
    if not unique:
        return 0
    with transaction.atomic():
        if not documents_exist:
            ids = {r["d"] for r in unique.values() if r["d"] is not None}
            present = set(IssuedDocument.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
            # A document deleted since takes its verifications along (as VerificationLog's CASCADE would have).
            unique = {u: r for u, r in unique.items() if r["d"] is None or r["d"] in present}
            if not unique:
                return 0
        inserted = _insert_new_log_rows(unique)
        counts: dict[int, tuple[int, datetime.datetime]] = {}  # document id -> (verifications, the latest)
        for uid in inserted:
            record = unique[uid]
            if record["d"] is None:
                continue
            at = _record_time(record)
            n, latest = counts.get(record["d"], (0, at))
            counts[record["d"]] = (n + 1, max(latest, at))
        if counts:
            _add_to_counts(counts)
    return len(inserted)


def _record_time(record: LogRecord) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(record["t"], tz=datetime.UTC)


def _insert_new_log_rows(records: dict[uuid.UUID, LogRecord]) -> set[uuid.UUID]:
    # Raw SQL because bulk_create(ignore_conflicts=True) cannot say which rows it inserted, and only those count.
    meta = VerificationLog._meta
    # Concrete fields of the model (never reverse relations), each with its column.
    fields = [
        cast("Field[Any, Any]", meta.get_field(name))
        for name in ("uid", "document", "channel", "result", "at", "client_ip")
    ]
    quote = connection.ops.quote_name
    params: list[Any] = []
    for uid, record in records.items():
        values = (uid, record["d"], record["c"], record["r"], _record_time(record), record["a"])
        params.extend(field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True))
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    uid_column = quote(cast("str", meta.get_field("uid").column))
    # Identifiers from the model's meta; every value is a parameter.
    columns = ", ".join(quote(cast("str", f.column)) for f in fields)
    rows = ", ".join([row] * len(records))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {rows} ON CONFLICT ({uid_column}) DO NOTHING"  # noqa: S608  # nosec B608
    sql += f" RETURNING {uid_column}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {uuid.UUID(str(value)) for (value,) in cursor.fetchall()}


def _add_to_counts(counts: dict[int, tuple[int, datetime.datetime]]) -> None:
    """One UPDATE for every document of the batch: count += n, last_verified_at = the later of the two.

    Raw SQL joined to a VALUES list: the same statement through the ORM (a CASE branch per document for each column)
    cost more to build than the whole drain's database work: about 0.3 ms of the worker per verification, now 0.04."""
    meta = IssuedDocument._meta
    quote = connection.ops.quote_name
    fields = [
        cast("Field[Any, Any]", meta.get_field(name)) for name in ("id", "verification_count", "last_verified_at")
    ]
    latest_field = fields[2]
    table = quote(meta.db_table)
    pk, count, latest = (quote(cast("str", field.column)) for field in fields)
    params: list[Any] = []
    for document_id, (n, newest) in sorted(counts.items()):  # rows locked in id order, as every batch does
        params += [document_id, n, latest_field.get_db_prep_value(newest, connection)]
    # PostgreSQL needs the VALUES' types; SQLite has no GREATEST (its two-argument MAX is the same) and no casts needed.
    if connection.vendor == "postgresql":
        row, greatest = "(%s::bigint, %s::integer, %s::timestamptz)", "GREATEST"
    else:
        row, greatest = "(%s, %s, %s)", "MAX"
    values = ", ".join([row] * len(counts))
    # Identifiers from the model's meta; every value is a parameter.
    sql = (
        f"WITH added (id, n, newest) AS (VALUES {values}) "  # noqa: S608  # nosec B608
        f"UPDATE {table} SET {count} = {count} + added.n, "
        f"{latest} = {greatest}(COALESCE({latest}, added.newest), added.newest) "
        f"FROM added WHERE {table}.{pk} = added.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def verification_log_drain(*, batch_size: int = LOG_BATCH, time_budget: float = 8.0) -> int:
    """Move the buffered verifications into VerificationLog; returns the rows inserted (0 when another drains).

    Safe to run anywhere at any time: one drainer holds the lock, the batch it works on stays in Redis until its
    transaction has committed, and a batch committed twice is inserted and counted once.
    """
    import redis

    client = redis_client()
    if client is None:
        return 0
    token = uuid.uuid4().hex
    claim, ack, release = (client.register_script(s) for s in (_CLAIM, _ACK, _RELEASE))
    total = 0
    try:
        if not client.set(LOG_LOCK, token, nx=True, px=LOG_LEASE_MS):
            return 0
        deadline = time.monotonic() + time_budget
        try:
            while time.monotonic() < deadline:
                items = claim(keys=[LOG_LOCK, LOG_QUEUE, LOG_INFLIGHT], args=[token, batch_size, LOG_LEASE_MS])
                if not items:
                    break
                total += verification_log_ingest(records=_parse(client, items))
                if not ack(keys=[LOG_LOCK, LOG_INFLIGHT], args=[token]):
                    break  # lease lost: whoever holds the lock now drains this batch again, inserting nothing
        finally:
            release(keys=[LOG_LOCK], args=[token])
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        redis_failed(client, exc)
    if total:
        logger.info("verification log: %d buffered verifications stored", total)
    return total


def _parse(client: Redis, items: list[bytes]) -> list[LogRecord]:
    records: list[LogRecord] = []
    dead: list[bytes] = []
    for item in items:
        try:
            record = json.loads(item)
            uuid.UUID(record["u"])
            float(record["t"])
            records.append(record)
        except (ValueError, KeyError, TypeError):
            dead.append(item)
    if dead:
        client.rpush(LOG_DEAD, *dead)
        logger.error("verification log: %d unreadable records moved to %s", len(dead), LOG_DEAD)
    return records


def verification_log_backlog() -> int | None:
    """Records waiting in Redis (None without Redis): for monitoring and the load benchmark."""
    client = redis_client()
    if client is None:
        return None
    pipe = client.pipeline(transaction=False)
    pipe.llen(LOG_QUEUE)
    pipe.llen(LOG_INFLIGHT)
    lengths: list[int] = pipe.execute()
    return sum(lengths)
