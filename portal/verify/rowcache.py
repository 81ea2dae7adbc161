"""Found verification codes cached briefly in the shared cache, and how a revocation keeps it from answering "valid".

The public look-up (lookup.py) reads a code's row here first. Only rows of issued documents are kept (valid or
revoked; one still being issued changes within seconds and an unknown code is not worth a cache entry), for
VERIFY_CACHE_SECONDS (0: no cache; the default is 60 s with Redis, 0 without it, because a cache of one process
could not be told of a revocation made in another).

A revocation must never be answered "valid" from the cache, even by a reader that raced it. So the cache never
holds a verdict that a revocation could leave behind:

- A revocation (issuing.issued_document_revoke) writes a HOLD marker under the code's key inside its transaction,
  before its UPDATE, and writes it again once the transaction commits. The marker lives HOLD_SECONDS; a
  revocation that cannot write it fails and rolls back (a revocation is refused rather than left to a stale cache).
- A reader that finds the marker reads the database and leaves the cache alone. A reader that finds nothing reads
  the database and adds the row only if the key is still empty (SET NX): a marker written meanwhile is never
  overwritten, and a row added before the marker is replaced by it.
- The one reader left is one whose read began before the revocation committed and whose add comes after the marker
  has gone, HOLD_SECONDS after the commit: a reader only adds a row read less than HOLD_SECONDS / 2 ago.

A revocation rolled back leaves the marker: that code is read from the database for an hour, nothing worse. The
cache shares the broker's Redis, which runs with `maxmemory-policy noeviction` (docs/deploy.md), so a marker is
not evicted. Other edits to a row (an office renamed) show after at most VERIFY_CACHE_SECONDS.

With Redis the rows are kept as JSON under plain keys (not the Django cache's pickles), so that one script can read a
row, count the client's request and log the verification in one round trip (`verify_hit`): the public path's warm
case. The marker is written both there and in the Django cache (where a process of the release before looks).
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from portal.ratelimit import redis_client

from .models import DocumentStatus

if TYPE_CHECKING:
    from redis import Redis
    from redis.commands.core import Script

logger = logging.getLogger("portal.verify")

HOLD = "hold"  # the marker: "read this code from the database"
HOLD_SECONDS = 3600
CACHED_STATUSES = (DocumentStatus.VALID, DocumentStatus.REVOKED)

LookupRow = dict[str, Any]


def cache_key(code: str) -> str:
    return f"verify:row:{code}"


def _seconds() -> int:
    return int(getattr(settings, "VERIFY_CACHE_SECONDS", 0) or 0)


def cache_seconds() -> int:
    """How long a row is kept (VERIFY_CACHE_SECONDS; 0: not cached)."""
    return _seconds()


# --- the store: plain Redis keys with Redis, the Django cache without it ----------------------------------------------

_DATETIMES = ("issued_at", "revoked_at")


def encode_row(row: LookupRow) -> str:
    """A row as the JSON kept in Redis (dates and times in ISO 8601; verify_hit compares valid_until as text)."""

    def iso(value: object) -> str:
        if isinstance(value, datetime.date):  # datetimes too
            return value.isoformat()
        raise TypeError(f"not JSON: {value!r}")

    return json.dumps(row, default=iso, ensure_ascii=False, separators=(",", ":"))


def decode_row(raw: bytes | str) -> LookupRow:
    row: LookupRow = json.loads(raw)
    for name in _DATETIMES:
        if row.get(name):
            row[name] = datetime.datetime.fromisoformat(row[name])
    if row.get("valid_until"):
        row["valid_until"] = datetime.date.fromisoformat(row["valid_until"])
    return row


def _client() -> Redis | None:
    """The Redis client when the rows are kept in Redis (None without Redis). Raises while Redis is known down."""
    if not settings.REDIS_URL:
        return None
    client = redis_client()
    if client is None:
        raise ConnectionError("Redis is down (portal.ratelimit.redis_failed)")
    return client


def _get(key: str) -> LookupRow | str | None:
    client = _client()
    if client is None:
        found = cache.get(key)
        return found if isinstance(found, dict | str) else None
    raw = client.get(key)
    if raw is None:
        return None
    return HOLD if raw == HOLD.encode() else decode_row(raw)


def _add(key: str, row: LookupRow, seconds: int) -> None:
    client = _client()
    if client is None:
        cache.add(key, row, seconds)
    else:
        client.set(key, encode_row(row), nx=True, ex=seconds)


def peek(code: str) -> LookupRow | str | None:
    """What the cache holds for `code`: its row, HOLD, or None (for tests and a person investigating)."""
    return _get(cache_key(code))


def cached_row(code: str, load: Callable[[str], LookupRow | None]) -> LookupRow | None:
    """The row of `code` from the cache, or from `load(code)` (the database), cached when that is safe."""
    seconds = _seconds()
    if seconds <= 0:
        return load(code)
    key = cache_key(code)
    started = monotonic()  # before the get: the age of what a reader adds is measured from here
    try:
        found = _get(key)
    except Exception as exc:  # noqa: BLE001 - the cache is an optimisation: any fault of it reads the database
        logger.warning("verification cache unreadable (%s); reading the database", exc.__class__.__name__)
        return load(code)
    if isinstance(found, dict):
        return found
    row = load(code)
    if found is None:
        add_loaded(key, row, started=started, seconds=seconds)
    return row


def cacheable(row: LookupRow | None, *, started: float) -> bool:
    """Whether a row read from the database after finding the key empty (at `started`) may be added."""
    return row is not None and row["status"] in CACHED_STATUSES and monotonic() - started < HOLD_SECONDS / 2


def add_loaded(key: str, row: LookupRow | None, *, started: float, seconds: int) -> None:
    if cacheable(row, started=started):
        try:
            _add(key, row, seconds)  # type: ignore[arg-type]  # cacheable: not None
        except Exception as exc:  # noqa: BLE001 - as above: not cached this time
            logger.warning("verification cache not written (%s)", exc.__class__.__name__)


# --- the warm public path in one round trip ------------------------------------------------------------------------

# KEYS: the client's window counter, the code's row, the log list. ARGV: the counter's TTL, the limit, HOLD, today
# (ISO date), the log record without its document and result (JSON without the closing brace).
# Counts the request; past the limit returns {n}. Otherwise reads the row: none {n}, the marker {n, HOLD}; a row is
# answered here, so its verification is logged here ({n, row, state}), its state worked out as lookup._state does
# for the cached statuses (revoked, else expired once valid_until is before today, else valid).
_HIT = """
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
if n > tonumber(ARGV[2]) then return {n} end
local raw = redis.call('GET', KEYS[2])
if not raw then return {n} end
if raw == ARGV[3] then return {n, raw} end
local row = cjson.decode(raw)
local state = 'valid'
if row['status'] == 'revoked' then
  state = 'revoked'
elseif type(row['valid_until']) == 'string' and row['valid_until'] < ARGV[4] then
  state = 'expired'
end
redis.call('RPUSH', KEYS[3], ARGV[5] .. ',"d":' .. string.format('%d', row['id']) .. ',"r":"' .. state .. '"}')
return {n, raw, state}
"""
_hit_scripts: dict[int, Script] = {}


def hit_enabled() -> bool:
    """Whether verify_hit can be used: rows cached, in Redis."""
    return _seconds() > 0 and bool(settings.REDIS_URL)


def verify_hit(
    client: Redis,
    code: str,
    *,
    counter: str,
    limit: int,
    period: int,
    log_list: str,
    record_head: str,
    today: datetime.date,
) -> tuple[int, LookupRow | str | None, str | None]:
    """(count, row or HOLD or None, the state logged or None) in one round trip; see _HIT.

    With a row the verification is logged already; otherwise the caller reads the database and logs it. Raises
    redis.ConnectionError / TimeoutError (the caller falls back).
    """
    script = _hit_scripts.get(id(client))
    if script is None:
        script = _hit_scripts[id(client)] = client.register_script(_HIT)
    reply = script(
        keys=[counter, cache_key(code), log_list],
        args=[period + 1, limit, HOLD, today.isoformat(), record_head],
    )
    count = int(reply[0])
    if len(reply) == 1:
        return count, None, None
    if len(reply) == 2:
        return count, HOLD, None
    return count, decode_row(reply[1]), reply[2].decode()


def hold(code: str) -> None:
    """Within a revocation's transaction, before its UPDATE: keep `code` out of the cache, now and after commit.

    Raises if the cache cannot be written, so that the revocation rolls back rather than leave a cached "valid".
    """
    if _seconds() <= 0:
        return
    key = cache_key(code)
    _hold(key)

    def again() -> None:
        # For a long transaction whose first marker is about to expire; the first one covers the usual case.
        try:
            _hold(key)
        except Exception:  # noqa: BLE001 - committed already; the first marker holds for HOLD_SECONDS
            logger.exception("verification cache: marker for %s not renewed after commit", code)

    transaction.on_commit(again)


def _hold(key: str) -> None:
    client = _client()
    if client is not None:
        client.set(key, HOLD, ex=HOLD_SECONDS)
    cache.set(key, HOLD, HOLD_SECONDS)  # where the release before looks (and the only store without Redis)
