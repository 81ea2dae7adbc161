"""Looking a code up: the verdict, its reason in words, and the minimum a verifier may see of the document.

`verify_code` is the public path (the pages, the API, the QR target): a cached row (rowcache.py) or one indexed
SELECT, logged and counted through the log buffer (logbuffer.py). The reason codes and texts are the API's (docs/api/verify.md).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, fields
from time import monotonic
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import idnumber
from portal.ratelimit import (
    note_limited,
    rate_limited_key,
    recently_limited,
    redis_client,
    redis_count_and_push,
    redis_failed,
)

from . import rowcache
from .codes import normalize_code
from .logbuffer import (
    LOG_QUEUE,
    LogRecord,
    log_item,
    log_item_head,
    log_record,
    verification_log_ingest,
    verification_log_record,
)
from .models import DocumentStatus, IssuedDocument
from .rowcache import cached_row

logger = logging.getLogger("portal.verify")

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.backends.utils import CursorWrapper
    from django.db.models.sql.compiler import SQLCompiler
    from redis import Redis


class State:
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_FOUND = "not_found"
    GENERATING = "generating"


class Verdict:
    """The one answer every verification opens with (docs/api/verify.md#the-verdict)."""

    VALID = "valid"  # genuine, unaltered, current and not revoked: may be accepted
    NOT_VALID = "not_valid"


class Reason:
    """Why a verdict is "not_valid": stable machine codes of the API (docs/api/verify.md#reasons)."""

    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"
    UNKNOWN_CODE = "unknown_code"
    BEING_ISSUED = "being_issued"
    ALTERED = "altered"
    NOT_ISSUED_HERE = "not_issued_here"

    ALL = (REVOKED, SUPERSEDED, EXPIRED, UNKNOWN_CODE, BEING_ISSUED, ALTERED, NOT_ISSUED_HERE)


def reason_text(
    reason: str | None,
    *,
    revoked_on: datetime.date | None = None,
    public_reason: str = "",
    valid_until: datetime.date | None = None,
) -> str:
    """The verdict in words, in the active language: "Valid, may be accepted" or "Not valid: <why>"."""
    from django.utils.formats import date_format

    def day(value: datetime.date | None) -> str:
        return date_format(value, "DATE_FORMAT") if value else ""

    if reason is None:
        return _("Valid, may be accepted: issued by this portal, unaltered, current and not revoked.")
    if reason == Reason.REVOKED:
        if revoked_on and public_reason:
            return _("Not valid: revoked on %(date)s. Reason: %(reason)s") % {
                "date": day(revoked_on),
                "reason": public_reason,
            }
        if revoked_on:
            return _("Not valid: revoked on %(date)s.") % {"date": day(revoked_on)}
        if public_reason:
            return _("Not valid: revoked. Reason: %(reason)s") % {"reason": public_reason}
        return _("Not valid: revoked.")
    if reason == Reason.SUPERSEDED:
        if public_reason:
            return _(
                "Not valid: superseded by a newer document on %(date)s. Ask the holder for the current one. "
                "Reason: %(reason)s"
            ) % {"date": day(revoked_on), "reason": public_reason}
        return _("Not valid: superseded by a newer document on %(date)s. Ask the holder for the current one.") % {
            "date": day(revoked_on)
        }
    if reason == Reason.EXPIRED:
        return _("Not valid: expired. Its validity ended on %(date)s.") % {"date": day(valid_until)}
    if reason == Reason.BEING_ISSUED:
        return _("Not valid yet: the document is still being issued. Check again in a few minutes.")
    if reason == Reason.ALTERED:
        return _("Not valid: the file was changed after it was signed.")
    if reason == Reason.NOT_ISSUED_HERE:
        return _("Not valid: this file was not issued by this portal.")
    return _("Not valid: no document with this code was issued by this portal. Check the code you typed.")


class VerificationJSON(TypedDict):
    """The API's answer (views.api; schema version 2, docs/api/verify.md)."""

    code: str
    verdict: str
    reason: str | None
    reason_text: str
    public_reason: str | None
    state: str
    document_type: str | None
    holder: str | None
    issued_on: str | None
    issuing_office: str | None
    valid_until: str | None
    revoked_on: str | None


@dataclass(frozen=True)
class VerificationResult:
    """The minimum a verifier may see: never the ID number, phone or address.

    See docs/architecture.md#security-and-privacy.
    """

    code: str
    state: str
    title: str = ""
    title_en: str = ""
    holder: str = ""  # masked: 张*三
    issued_on: datetime.date | None = None
    office_name: str = ""
    office_name_en: str = ""
    valid_until: datetime.date | None = None
    revoked_on: datetime.date | None = None
    public_reason: str = ""
    superseded: bool = False
    document_id: int | None = None

    @property
    def found(self) -> bool:
        return self.state != State.NOT_FOUND

    @property
    def verdict(self) -> str:
        return Verdict.VALID if self.state == State.VALID else Verdict.NOT_VALID

    @property
    def valid(self) -> bool:
        return self.verdict == Verdict.VALID

    @property
    def reason(self) -> str | None:
        """None when valid; otherwise one of Reason."""
        if self.state == State.VALID:
            return None
        if self.state == State.REVOKED:
            return Reason.SUPERSEDED if self.superseded else Reason.REVOKED
        if self.state == State.EXPIRED:
            return Reason.EXPIRED
        if self.state == State.GENERATING:
            return Reason.BEING_ISSUED
        return Reason.UNKNOWN_CODE

    @property
    def reason_text(self) -> str:
        return reason_text(
            self.reason, revoked_on=self.revoked_on, public_reason=self.public_reason, valid_until=self.valid_until
        )

    @property
    def document_type(self) -> str:
        return self.title_en or self.title if _english() else self.title

    @property
    def issuing_office(self) -> str:
        return self.office_name_en or self.office_name if _english() else self.office_name

    @property
    def fragment_key(self) -> str:
        """A digest of every field: the page's cached fragment of this result is found under it (with the language),
        so a result that changes (a revocation, an expiry) never meets the fragment of what it was."""
        # The fields' values as they are (all flat): astuple would deep-copy each of them on every page view.
        return hashlib.sha256(repr(tuple(getattr(self, f.name) for f in fields(self))).encode()).hexdigest()

    def as_json(self) -> VerificationJSON:
        return {
            "code": self.code,
            "verdict": self.verdict,
            "reason": self.reason,
            "reason_text": self.reason_text,
            "public_reason": self.public_reason or None,
            "state": self.state,
            "document_type": self.document_type or None,
            "holder": self.holder or None,
            "issued_on": self.issued_on.isoformat() if self.issued_on else None,
            "issuing_office": self.issuing_office or None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "revoked_on": self.revoked_on.isoformat() if self.revoked_on else None,
        }


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


def _state(status: str, valid_until: datetime.date | None, *, today: datetime.date | None = None) -> str:
    if status == DocumentStatus.REVOKED:
        return State.REVOKED
    if status == DocumentStatus.GENERATING:
        return State.GENERATING
    today = today or timezone.localdate()
    if valid_until and valid_until < today:
        return State.EXPIRED
    return State.VALID


def document_state(document: IssuedDocument, *, today: datetime.date | None = None) -> str:
    return _state(document.status, document.valid_until, today=today)


# What a result shows, read straight from the row (and the office's names by join): no model instances.
_LOOKUP_FIELDS = (
    "id",
    "code",
    "status",
    "title",
    "title_en",
    "holder_name",
    "issued_at",
    "valid_until",
    "revoked_at",
    "public_reason",
    "superseded",
    "issuing_office__name",
    "issuing_office__name_en",
)


# A row of _LOOKUP_FIELDS, as QuerySet.values() gives it.
LookupRow = dict[str, Any]


def lookup_row(queryset: QuerySet[IssuedDocument]) -> LookupRow | None:
    rows = list(queryset.values(*_LOOKUP_FIELDS)[:1])
    return rows[0] if rows else None


# (SQL, compiler, converters, column names) of the look-up by code, for one database vendor.
_CompiledLookup = tuple[str, "SQLCompiler", dict[int, Any], list[str]]


class _LookupByCode:
    """The look-up by code as SQL the ORM writes once per process; each call only binds the code.

    Compiling the queryset costs about twice PostgreSQL's own index look-up (~0.25 ms against ~0.1 ms), and on the
    public verification path that was most of the request. Django's converters still turn the row into values.
    """

    _MARK = "\x00code\x00"
    _STATEMENT = "portal_verify_lookup"

    def _prepare(self, connection: BaseDatabaseWrapper, cursor: CursorWrapper, sql: str) -> None:
        # On PostgreSQL a server-side prepared statement, once per database session: planning the join each time
        # cost as much again as the look-up (0.19 ms against 0.10 ms per call). A session is one DB-API connection
        # (PREPARE outlives a rolled-back transaction); a new one, after CONN_MAX_AGE or a failed health check,
        # prepares again. (A transaction-pooling proxy in front of PostgreSQL would need this removed.)
        raw = connection.connection
        if getattr(connection, "_portal_verify_prepared", None) is raw:
            return
        cursor.execute(f"PREPARE {self._STATEMENT} (varchar) AS {sql.replace('%s', '$1')}")
        connection._portal_verify_prepared = raw  # type: ignore[attr-defined]  # our marker on the wrapper

    def __init__(self) -> None:
        self._compiled: dict[str, _CompiledLookup] = {}

    def _compile(self, connection: BaseDatabaseWrapper) -> _CompiledLookup:
        queryset = IssuedDocument.objects.filter(code=self._MARK).order_by().values(*_LOOKUP_FIELDS)[:1]
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        if tuple(params) != (self._MARK,):  # never: the code is the statement's one parameter
            raise RuntimeError(f"unexpected parameters in the verification look-up: {params!r}")
        names = [alias for _expr, _sql, alias in compiler.select]
        converters = compiler.get_converters([expr for expr, _sql, _alias in compiler.select])
        return sql, compiler, converters, names

    def __call__(self, code: str) -> LookupRow | None:
        # One statement per database vendor (the test tiers and `make run` use SQLite, production PostgreSQL).
        compiled = self._compiled.get(connection.vendor)
        if compiled is None:
            compiled = self._compiled[connection.vendor] = self._compile(connection)
        sql, compiler, converters, names = compiled
        # The look-up is its own health check: the connection's (a "SELECT 1" round trip before the first statement
        # of each request, CONN_HEALTH_CHECKS) is skipped, and a connection found dead by the look-up itself is
        # closed and the look-up made once more on a new one (a read, so nothing is done twice). Not inside a
        # transaction, where a failed statement cannot be retried.
        # (health_check_done is Django's own flag, reset at each request's start; the stubs do not know it.)
        done = getattr(connection, "health_check_done", True)
        optimistic = connection.connection is not None and not done and not connection.in_atomic_block
        if optimistic:
            connection.health_check_done = True  # type: ignore[attr-defined]
        rows: Iterable[Any]
        try:
            rows = self._execute(sql, code)
        except (OperationalError, InterfaceError):
            if not optimistic:
                raise
            connection.close()
            rows = self._execute(sql, code)
        if converters:  # SQLite's dates and times; none on PostgreSQL
            rows = compiler.apply_converters(rows, converters)
        for row in rows:
            return dict(zip(names, row, strict=True))
        return None

    def _execute(self, sql: str, code: str) -> list[Any]:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                self._prepare(connection, cursor, sql)
                cursor.execute(f"EXECUTE {self._STATEMENT} (%s)", [code])
            else:
                cursor.execute(sql, [code])
            rows: list[Any] = cursor.fetchall()
            return rows


_lookup_by_code = _LookupByCode()


def result_for(row: LookupRow | None, code: str, *, today: datetime.date | None = None) -> VerificationResult:
    if row is None:
        return VerificationResult(code=code, state=State.NOT_FOUND)
    state = _state(row["status"], row["valid_until"], today=today)
    if state == State.GENERATING:
        # Not issued yet: say only that, nothing about the holder.
        return VerificationResult(code=row["code"], state=state)
    return VerificationResult(
        code=row["code"],
        state=state,
        title=row["title"],
        title_en=row["title_en"],
        holder=idnumber.mask_name(row["holder_name"]),
        issued_on=timezone.localdate(row["issued_at"]),
        office_name=row["issuing_office__name"],
        office_name_en=row["issuing_office__name_en"] or "",
        valid_until=row["valid_until"],
        revoked_on=timezone.localdate(row["revoked_at"]) if row["revoked_at"] else None,
        public_reason=row["public_reason"] if state == State.REVOKED else "",
        superseded=bool(row["superseded"]) and state == State.REVOKED,
        document_id=row["id"],
    )


def verify_code(*, code: str, channel: str, ip: str | None) -> VerificationResult:
    """Look a code up (any spelling normalize_code accepts), log the verification and count it.

    The row may come from the short-lived cache (rowcache.py), which a revocation keeps from ever answering "valid".
    """
    row, result = _verify(code)
    verification_log_record(document_id=row["id"] if row else None, channel=channel, result=result.state, ip=ip)
    return result


def verification_result(*, code: str) -> VerificationResult:
    """The result for `code` without logging it: for a page that answers a holder check on a code just verified."""
    return _verify(code)[1]


def verify_code_within_limit(
    *, code: str, channel: str, ip: str | None, limit_key: str, limit: int, period: int
) -> VerificationResult | None:
    """verify_code for a client under a rate limit (limit_key from ratelimit.window_key); None past the limit.

    With Redis the client's counter and the log record share one round trip after the look-up (a script that
    logs only within the limit), so a refused request costs one indexed SELECT and is neither logged nor counted;
    a client this process saw refused lately is checked against the counter first, before any database work.
    Without Redis, or while it is down, this is the rate limit (failing open) followed by verify_code.
    """
    import redis

    client = redis_client() if settings.REDIS_URL else None
    if client is None or recently_limited(limit_key):
        if rate_limited_key(limit_key, limit=limit, period=period):
            return None
        return verify_code(code=code, channel=channel, ip=ip)
    normalised = normalize_code(code)
    if normalised and rowcache.hit_enabled():
        return _verify_in_one_round_trip(
            client, normalised, channel=channel, ip=ip, limit_key=limit_key, limit=limit, period=period
        )
    row, result = _verify(code)
    record = log_record(document_id=row["id"] if row else None, channel=channel, result=result.state, ip=ip)
    try:
        count = redis_count_and_push(
            client, limit_key, limit=limit, period=period, list_key=LOG_QUEUE, item=log_item(record)
        )
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        # Let through (the rate limit fails open) and logged in the database, as in verification_log_record.
        redis_failed(client, exc)
        verification_log_ingest(records=[record], documents_exist=True)
        return result
    return result if count <= limit else None


def _verify_in_one_round_trip(
    client: Redis, code: str, *, channel: str, ip: str | None, limit_key: str, limit: int, period: int
) -> VerificationResult | None:
    """verify_code_within_limit for a canonical code with the rows cached in Redis: a cached row costs one round
    trip (rowcache.verify_hit counts, reads and logs); otherwise the database is read and the log record pushed (with
    the row, if it may be cached) in a second one. A refused request costs one round trip and no database work."""
    import redis

    record = log_record(document_id=None, channel=channel, result="", ip=ip)
    today = timezone.localdate()
    started = monotonic()
    try:
        count, found, logged_state = rowcache.verify_hit(
            client,
            code,
            counter=limit_key,
            limit=limit,
            period=period,
            log_list=LOG_QUEUE,
            record_head=log_item_head(record),
            today=today,
        )
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        # As in verify_code_within_limit: let through (the rate limit fails open), logged in the database.
        redis_failed(client, exc)
        row = _lookup_by_code(code)
        result = result_for(row, code, today=today)
        verification_log_ingest(records=[_completed(record, row, result)], documents_exist=True)
        return result
    if count > limit:
        note_limited(limit_key, period)
        return None
    if isinstance(found, dict):  # answered from the cache, and logged by the script
        result = result_for(found, code, today=today)
        if result.state != logged_state:  # never: the script's rule is _state's for the cached statuses
            logger.error("verification of %s logged as %s but answered %s", code, logged_state, result.state)
        return result
    row = _lookup_by_code(code)
    result = result_for(row, code, today=today)
    item = log_item(_completed(record, row, result))
    try:
        pipe = client.pipeline(transaction=False)
        pipe.rpush(LOG_QUEUE, item)
        if found is None and row is not None and rowcache.cacheable(row, started=started):
            pipe.set(rowcache.cache_key(code), rowcache.encode_row(row), nx=True, ex=rowcache.cache_seconds())
        pipe.execute()
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        # Logged in the database; had the push reached Redis after all, the drain finds the uid there already.
        redis_failed(client, exc)
        verification_log_ingest(records=[_completed(record, row, result)], documents_exist=True)
    return result


def _completed(record: LogRecord, row: LookupRow | None, result: VerificationResult) -> LogRecord:
    return {**record, "d": row["id"] if row else None, "r": result.state}


def _verify(code: str) -> tuple[LookupRow | None, VerificationResult]:
    normalised = normalize_code(code)
    # The cache, or one SELECT on the unique index joined to the office; no ORDER BY (Meta.ordering would only sort).
    row = cached_row(normalised, _lookup_by_code) if normalised else None
    return row, result_for(row, normalised or (code or "")[:40])
