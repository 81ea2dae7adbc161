"""Issue, store, revoke and verify documents: the API the services' workers and the public pages call."""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, DateTimeField, F, IntegerField, Model, Q, QuerySet, Value, When
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import idnumber
from accounts.scoping import ALL, scoped_office_ids
from portal.documents.storage import private_storage
from portal.ratelimit import rate_limited_key, recently_limited, redis_client, redis_count_and_push, redis_failed

from .codes import new_code, normalize_code
from .models import DocumentStatus, IssuedDocument, IssuedDocumentAccess, VerificationLog

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.backends.utils import CursorWrapper
    from django.db.models.fields import Field
    from django.db.models.sql.compiler import SQLCompiler
    from redis import Redis

    from accounts.models import Office, User

logger = logging.getLogger("portal.verify")

ISSUED_DIR = "issued"


def verify_url(code: str) -> str:
    """The public address a QR code and a letter print: SITE_URL + /verify/<code>/."""
    return settings.SITE_URL + reverse("verify:detail", args=[code])


def issued_documents_for_source(source: Model) -> QuerySet[IssuedDocument]:
    """Every document issued for `source` (any model instance), newest generation first."""
    return IssuedDocument.objects.filter(
        source_type=ContentType.objects.get_for_model(type(source)), source_id=source.pk
    ).order_by("-generation")


# --- issuing -----------------------------------------------------------------------------------------


def issued_document_claim(
    *,
    source: Model,
    generation: int,
    kind: str,
    title: str,
    title_en: str,
    holder: User | None,
    holder_name: str,
    issuing_office: Office,
    valid_until: datetime.date | None,
    holder_birth_date: datetime.date | None = None,
) -> tuple[IssuedDocument, bool]:
    """The document for (source, generation), created in status "generating" if there is none yet.

    The unique constraint on (source, generation) is the idempotency key: a task run twice, or two workers
    at once, end with one row and one code. Returns (document, created).
    """
    source_type = ContentType.objects.get_for_model(type(source))
    key = {"source_type": source_type, "source_id": source.pk, "generation": generation}
    for _attempt in range(3):
        existing = IssuedDocument.objects.filter(**key).first()
        if existing:
            return existing, False
        try:
            with transaction.atomic():
                document = IssuedDocument.objects.create(
                    **key,
                    code=new_code(),
                    kind=kind,
                    title=title,
                    title_en=title_en,
                    holder=holder,
                    holder_name=holder_name,
                    holder_birth_date=holder_birth_date,
                    issuing_office=issuing_office,
                    issued_at=timezone.now(),
                    valid_until=valid_until,
                    status=DocumentStatus.GENERATING,
                )
        except IntegrityError:
            # Another worker claimed the same key a moment ago (or, at 2^-100, the code was taken): look again.
            continue
        logger.info("issued document %s claimed for %s #%s generation %s", document.code, kind, source.pk, generation)
        return document, True
    found = IssuedDocument.objects.filter(**key).first()
    if found is None:
        raise IntegrityError(f"could not claim an issued document for {source_type.model} #{source.pk}")
    return found, False


def issued_document_path(document: IssuedDocument) -> str:
    """The storage name of a document's PDF: deterministic, so a second run overwrites instead of adding."""
    return f"{ISSUED_DIR}/{document.code}.pdf"


def issued_document_store(*, document: IssuedDocument, pdf: bytes) -> IssuedDocument:
    """Write the signed PDF privately and mark the document valid, exactly once.

    Only the worker whose conditional update generating -> valid succeeds puts the file in place, inside the same
    transaction (`private_storage.save_if_claimed`: a fsynced temporary file renamed, or one atomic object PUT).
    So a worker killed at any point leaves either nothing that counts or a complete file, and a second worker
    that loses the race never replaces the winner's file (whose SHA-256 is the one recorded).
    """
    if not pdf.startswith(b"%PDF-"):
        raise ValueError("not a PDF")
    document.refresh_from_db()
    if document.status != DocumentStatus.GENERATING:
        return document  # already stored (or revoked while generating): nothing to do
    name = issued_document_path(document)
    won = private_storage.save_if_claimed(
        name,
        pdf,
        claim=lambda: IssuedDocument.objects.filter(pk=document.pk, status=DocumentStatus.GENERATING).update(
            status=DocumentStatus.VALID,
            file=name,
            sha256=hashlib.sha256(pdf).hexdigest(),
            size=len(pdf),
            generated_at=timezone.now(),
        ),
    )
    if won:
        logger.info("issued document %s stored (%d bytes)", document.code, len(pdf))
    document.refresh_from_db()
    return document


def issued_document_revoke(
    *,
    document: IssuedDocument,
    by: User | None,
    reason: str,
    public_reason: str = "",
    superseded: bool = False,
) -> IssuedDocument:
    """Revoke a document (valid or still generating); revoking a revoked one changes nothing.

    `reason` is internal (staff, the audit trail); `public_reason` is what verifiers and the holder are shown
    (docs/api/verify.md). `superseded`: a newer document replaces this one, and verifiers are told so. Every
    organisation that subscribed through a share code still valid is e-mailed once (on commit, via the outbox).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give a reason for the revocation."), code="reason_required")
    now = timezone.now()
    with transaction.atomic():
        revoked = IssuedDocument.objects.filter(
            pk=document.pk, status__in=(DocumentStatus.VALID, DocumentStatus.GENERATING)
        ).update(
            status=DocumentStatus.REVOKED,
            revoked_at=now,
            revoked_by=by,
            revoke_reason=reason,
            public_reason=(public_reason or "").strip(),
            superseded=superseded,
        )
        document.refresh_from_db()
        if revoked:
            from .sharing import share_subscribers_notify

            share_subscribers_notify(document=document, at=now)
    logger.info("issued document %s revoked by user %s", document.code, getattr(by, "pk", None))
    return document


class VerificationContext(TypedDict):
    verification_code: str
    verification_url: str
    verification_qr: str  # a data: URI
    seal: str  # a data: URI


def verification_context(document: IssuedDocument) -> VerificationContext:
    """What a certificate template prints for verification: the code, its URL, the QR code and the e-seal."""
    from portal import pdf

    url = verify_url(document.code)
    office = document.issuing_office
    return {
        "verification_code": document.code,
        "verification_url": url,
        "verification_qr": pdf.qr_data_uri(url),
        "seal": pdf.seal_data_uri(office.name),
    }


# --- verifying ---------------------------------------------------------------------------------------


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


def _lookup(queryset: QuerySet[IssuedDocument]) -> LookupRow | None:
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
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                self._prepare(connection, cursor, sql)
                cursor.execute(f"EXECUTE {self._STATEMENT} (%s)", [code])
            else:
                cursor.execute(sql, [code])
            rows = cursor.fetchall()
        if converters:  # SQLite's dates and times; none on PostgreSQL
            rows = compiler.apply_converters(rows, converters)
        for row in rows:
            return dict(zip(names, row, strict=True))
        return None


_lookup_by_code = _LookupByCode()


def _result_for(row: LookupRow | None, code: str) -> VerificationResult:
    if row is None:
        return VerificationResult(code=code, state=State.NOT_FOUND)
    state = _state(row["status"], row["valid_until"])
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

    The row is read on every call (never cached), so a revocation shows on the next verification.
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
    row, result = _verify(code)
    record = _log_record(document_id=row["id"] if row else None, channel=channel, result=result.state, ip=ip)
    try:
        count = redis_count_and_push(
            client, limit_key, limit=limit, period=period, list_key=LOG_QUEUE, item=_log_item(record)
        )
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        # Let through (the rate limit fails open) and logged in the database, as in verification_log_record.
        redis_failed(client, exc)
        verification_log_ingest(records=[record], documents_exist=True)
        return result
    return result if count <= limit else None


def _verify(code: str) -> tuple[LookupRow | None, VerificationResult]:
    normalised = normalize_code(code)
    # One SELECT on the unique index, joined to the office; no ORDER BY (Meta.ordering would only add a sort).
    row = _lookup_by_code(normalised) if normalised else None
    return row, _result_for(row, normalised or (code or "")[:40])


@dataclass(frozen=True)
class PdfVerification:
    signed: bool
    signature_valid: bool  # the portal's key signed it and the signed bytes check out
    signature_intact: bool  # nothing changed since signing (a document timestamp or DSS added later is no change)
    hash_matches: bool  # the exact bytes are those of a document the portal issued
    document: VerificationResult | None = None
    # The signed revision checks out, but something was appended or changed after it (pdfcheck.revision_changes).
    changed_after_signing: bool = False

    @property
    def genuine(self) -> bool:
        """Genuine and unaltered: a valid, intact signature AND the SHA-256 of an issued document."""
        return self.signature_valid and self.signature_intact and self.hash_matches

    @property
    def result(self) -> str:
        if self.genuine:
            return "genuine"
        if not self.signed:
            return "unsigned"
        if not self.signature_intact:
            return "altered"
        if not self.signature_valid:
            return "bad_signature"
        return "unknown_hash"

    @property
    def verdict(self) -> str:
        return self.document.verdict if self.genuine and self.document else Verdict.NOT_VALID

    @property
    def valid(self) -> bool:
        return self.verdict == Verdict.VALID

    @property
    def reason(self) -> str | None:
        if self.genuine and self.document:
            return self.document.reason
        if self.result == "altered":
            return Reason.ALTERED
        return Reason.NOT_ISSUED_HERE

    @property
    def reason_text(self) -> str:
        if self.genuine and self.document:
            return self.document.reason_text
        return reason_text(self.reason)

    def as_json(self) -> PdfVerificationJSON:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "reason_text": self.reason_text,
            "result": self.result,
            "signed": self.signed,
            "signature_valid": self.signature_valid,
            "signature_intact": self.signature_intact,
            "changed_after_signing": self.changed_after_signing,
            "hash_matches": self.hash_matches,
            "document": self.document.as_json() if self.document else None,
        }


class PdfVerificationJSON(TypedDict):
    """The answer of POST /api/verify/pdf/ (schema version 2, docs/api/verify.md#pdf-upload)."""

    verdict: str
    reason: str | None
    reason_text: str
    result: str
    signed: bool
    signature_valid: bool
    signature_intact: bool
    changed_after_signing: bool
    hash_matches: bool
    document: VerificationJSON | None


def verify_pdf(*, pdf: bytes, ip: str | None) -> PdfVerification:
    """Check an uploaded PDF: the embedded signature against the portal's certificate, and its SHA-256.

    A signature whose revision checks out but that does not cover the whole file is judged by what came after it
    (pdfcheck.revision_changes): a document timestamp or DSS (PAdES B-LT/B-LTA) is no change; anything else,
    bytes appended included, is a change after signing.
    """
    from portal.pdf import check_signature

    from .pdfcheck import Changes, revision_changes, signed_prefix

    check = check_signature(pdf)
    changes = revision_changes(pdf) if check.signed else Changes.UNREADABLE
    intact = check.intact or (check.valid and changes in (Changes.NONE, Changes.LTA_ONLY))
    changed_after = check.signed and check.valid and changes == Changes.CHANGED
    signed = check.signed
    if not check.valid and signed_prefix(pdf, check_signature) is not None:
        # Unreadable, or refused as a whole (portal.pdf refuses bytes after the last revision), but a validly signed
        # PDF followed by bytes that do not belong to it: changed after it was signed, not a broken signature.
        signed, intact, changed_after = True, False, True
    digest = hashlib.sha256(pdf).hexdigest()
    row = _lookup(
        IssuedDocument.objects.filter(sha256=digest)
        .exclude(Q(sha256="") | Q(status=DocumentStatus.GENERATING))
        .order_by("-issued_at")
    )
    outcome = PdfVerification(
        signed=signed,
        signature_valid=check.valid or changed_after,
        signature_intact=intact,
        hash_matches=row is not None,
        document=_result_for(row, row["code"]) if row else None,
        changed_after_signing=changed_after,
    )
    verification_log_record(
        document_id=row["id"] if row else None, channel=VerificationLog.Channel.PDF, result=outcome.result, ip=ip
    )
    return outcome


# --- the verification log ----------------------------------------------------------------------------
#
# A verification is logged and counted without a database write on the request: its record is appended to a Redis
# list (one RPUSH) and the beat task drain_verification_log moves the list into VerificationLog in batches, adding
# to each document's verification_count what was actually inserted. Every record carries a uuid (VerificationLog.uid,
# unique), so a batch that is drained twice (a drainer killed after its commit, a lease that ran out) inserts and
# counts once. Without Redis, or while it is unreachable, the record is written to the database on the request.
# The list lives in the broker's Redis: like the task queue, it needs persistence and `maxmemory-policy noeviction`.

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

    record = _log_record(document_id=document_id, channel=channel, result=result, ip=ip)
    client = redis_client()
    if client is not None:
        try:
            client.rpush(LOG_QUEUE, _log_item(record))
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


def _log_record(*, document_id: int | None, channel: str, result: str, ip: str | None) -> LogRecord:
    return {
        "u": uuid.uuid4().hex,
        "d": document_id,
        "c": channel,
        "r": result,
        "a": ip or None,
        "t": timezone.now().timestamp(),
    }


def _log_item(record: LogRecord) -> str:
    return json.dumps(record, separators=(",", ":"))


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
    """One UPDATE for every document of the batch: count += n, last_verified_at = the later of the two."""
    added: Expression
    newest: Expression
    if len(counts) == 1:
        ((pk, (n, latest)),) = counts.items()
        added, newest = Value(n), Value(latest, output_field=DateTimeField())
    else:
        added = Case(*(When(pk=pk, then=Value(n)) for pk, (n, _) in counts.items()), output_field=IntegerField())
        newest = Case(
            *(When(pk=pk, then=Value(latest)) for pk, (_, latest) in counts.items()), output_field=DateTimeField()
        )
    IssuedDocument.objects.filter(pk__in=list(counts)).update(
        verification_count=F("verification_count") + added,
        last_verified_at=Greatest(Coalesce(F("last_verified_at"), newest), newest),
    )


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


# --- downloading -------------------------------------------------------------------------------------


def issued_document_may_download(*, user: User | AnonymousUser, document: IssuedDocument) -> bool:
    """The holder (while the document is valid or expired, not revoked), or staff in scope of the issuing office, of
    the agency that handles the service which issued it."""
    if not (user.is_authenticated and user.is_active) or not document.file:
        return False
    if document.holder_id is not None and document.holder_id == user.pk:
        return document.status == DocumentStatus.VALID
    if not user.is_staff:
        return False
    if settings.STAFF_MFA_REQUIRED and not (hasattr(user, "is_verified") and user.is_verified()):
        return False
    service = ContentType.objects.get_for_id(document.source_type_id).app_label
    ids = scoped_office_ids(user, service=service)
    return ids is ALL or document.issuing_office_id in ids


def issued_document_record_access(
    *, document: IssuedDocument, user: User, ip: str | None = None
) -> IssuedDocumentAccess | None:
    """Log a download by someone other than the holder."""
    if document.holder_id == user.pk:
        return None
    access = IssuedDocumentAccess.objects.create(document=document, user=user, ip=ip or None)
    logger.info("issued document %s downloaded by user %s", document.code, user.pk)
    return access
