"""Issue, store, revoke and verify documents: the API the services' workers and the public pages call."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.scoping import ALL, scoped_office_ids
from portal.documents.storage import private_storage

from .codes import new_code, normalize_code
from .models import DocumentStatus, IssuedDocument, IssuedDocumentAccess, VerificationLog

logger = logging.getLogger("portal.verify")

ISSUED_DIR = "issued"


def verify_url(code: str) -> str:
    """The public address a QR code and a letter print: SITE_URL + /verify/<code>/."""
    return settings.SITE_URL + reverse("verify:detail", args=[code])


def issued_documents_for_source(source):
    """Every document issued for `source` (any model instance), newest generation first."""
    return IssuedDocument.objects.filter(
        source_type=ContentType.objects.get_for_model(type(source)), source_id=source.pk
    ).order_by("-generation")


# --- issuing -----------------------------------------------------------------------------------------


def issued_document_claim(
    *,
    source,
    generation: int,
    kind: str,
    title: str,
    title_en: str,
    holder,
    holder_name: str,
    issuing_office,
    valid_until: datetime.date | None,
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
    document = IssuedDocument.objects.filter(**key).first()
    if document is None:
        raise IntegrityError(f"could not claim an issued document for {source_type.model} #{source.pk}")
    return document, False


def issued_document_path(document: IssuedDocument) -> str:
    """The storage name of a document's PDF: deterministic, so a second run overwrites instead of adding."""
    return f"{ISSUED_DIR}/{document.code}.pdf"


def issued_document_store(*, document: IssuedDocument, pdf: bytes) -> IssuedDocument:
    """Write the signed PDF privately and mark the document valid, exactly once.

    The bytes go to a temporary file beside the target first (fsynced); only the worker whose conditional
    update generating -> valid succeeds renames it into place, inside the same transaction. So a worker killed
    at any point leaves either nothing that counts or a complete file, and a second worker that loses the race
    never replaces the winner's file (whose SHA-256 is the one recorded).
    """
    if not pdf.startswith(b"%PDF-"):
        raise ValueError("not a PDF")
    document.refresh_from_db()
    if document.status != DocumentStatus.GENERATING:
        return document  # already stored (or revoked while generating): nothing to do
    name = issued_document_path(document)
    final_path = private_storage.path(name)
    directory = os.path.dirname(final_path)
    os.makedirs(directory, mode=0o750, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".issued-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pdf)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o640)
        with transaction.atomic():
            won = IssuedDocument.objects.filter(pk=document.pk, status=DocumentStatus.GENERATING).update(
                status=DocumentStatus.VALID,
                file=name,
                sha256=hashlib.sha256(pdf).hexdigest(),
                size=len(pdf),
                generated_at=timezone.now(),
            )
            if won:
                os.replace(tmp_path, final_path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_path)
    if won:
        logger.info("issued document %s stored (%d bytes)", document.code, len(pdf))
    document.refresh_from_db()
    return document


def issued_document_revoke(*, document: IssuedDocument, by, reason: str) -> IssuedDocument:
    """Revoke a document (valid or still generating) with a reason; revoking a revoked one changes nothing."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give a reason for the revocation."), code="reason_required")
    IssuedDocument.objects.filter(pk=document.pk, status__in=(DocumentStatus.VALID, DocumentStatus.GENERATING)).update(
        status=DocumentStatus.REVOKED, revoked_at=timezone.now(), revoked_by=by, revoke_reason=reason
    )
    document.refresh_from_db()
    logger.info("issued document %s revoked by user %s", document.code, getattr(by, "pk", None))
    return document


def verification_context(document: IssuedDocument) -> dict:
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


@dataclass(frozen=True)
class VerificationResult:
    """The minimum a verifier may see (DESIGN.md section 10): never the ID number, phone or address."""

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

    @property
    def found(self) -> bool:
        return self.state != State.NOT_FOUND

    @property
    def document_type(self) -> str:
        return self.title_en or self.title if _english() else self.title

    @property
    def issuing_office(self) -> str:
        return self.office_name_en or self.office_name if _english() else self.office_name

    def as_json(self) -> dict:
        return {
            "code": self.code,
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


def document_state(document: IssuedDocument, *, today: datetime.date | None = None) -> str:
    if document.status == DocumentStatus.REVOKED:
        return State.REVOKED
    if document.status == DocumentStatus.GENERATING:
        return State.GENERATING
    today = today or timezone.localdate()
    if document.valid_until and document.valid_until < today:
        return State.EXPIRED
    return State.VALID


def _result_for(document: IssuedDocument | None, code: str) -> VerificationResult:
    if document is None:
        return VerificationResult(code=code, state=State.NOT_FOUND)
    state = document_state(document)
    if state == State.GENERATING:
        # Not issued yet: say only that, nothing about the holder.
        return VerificationResult(code=document.code, state=state)
    office = document.issuing_office
    return VerificationResult(
        code=document.code,
        state=state,
        title=document.title,
        title_en=document.title_en,
        holder=document.masked_holder_name,
        issued_on=timezone.localdate(document.issued_at),
        office_name=office.name,
        office_name_en=getattr(office, "name_en", "") or "",
        valid_until=document.valid_until,
        revoked_on=timezone.localdate(document.revoked_at) if document.revoked_at else None,
    )


def _record(*, document: IssuedDocument | None, channel: str, result: str, ip: str | None):
    # One transaction: the log row and the counter commit together (and cost one commit, not two).
    with transaction.atomic():
        VerificationLog.objects.create(document=document, channel=channel, result=result, client_ip=ip or None)
        if document is not None:
            IssuedDocument.objects.filter(pk=document.pk).update(
                verification_count=F("verification_count") + 1, last_verified_at=timezone.now()
            )


def verify_code(*, code: str, channel: str, ip: str | None) -> VerificationResult:
    """Look a code up (any spelling normalize_code accepts), log the verification and count it."""
    normalised = normalize_code(code)
    document = (
        IssuedDocument.objects.select_related("issuing_office").filter(code=normalised).first() if normalised else None
    )
    result = _result_for(document, normalised or (code or "")[:40])
    _record(document=document, channel=channel, result=result.state, ip=ip)
    return result


@dataclass(frozen=True)
class PdfVerification:
    signed: bool
    signature_valid: bool  # the portal's key signed it and the signature checks out
    signature_intact: bool  # not one byte changed since signing, nothing appended
    hash_matches: bool  # the exact bytes are those of a document the portal issued
    document: VerificationResult | None = None

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


def verify_pdf(*, pdf: bytes, ip: str | None) -> PdfVerification:
    """Check an uploaded PDF: the embedded signature against the portal's certificate, and its SHA-256."""
    from portal.pdf import check_signature

    check = check_signature(pdf)
    digest = hashlib.sha256(pdf).hexdigest()
    document = (
        IssuedDocument.objects.select_related("issuing_office")
        .filter(sha256=digest)
        .exclude(Q(sha256="") | Q(status=DocumentStatus.GENERATING))
        .first()
    )
    outcome = PdfVerification(
        signed=check.signed,
        signature_valid=check.valid,
        signature_intact=check.intact,
        hash_matches=document is not None,
        document=_result_for(document, document.code) if document else None,
    )
    _record(document=document, channel=VerificationLog.Channel.PDF, result=outcome.result, ip=ip)
    return outcome


# --- downloading -------------------------------------------------------------------------------------


def issued_document_may_download(*, user, document: IssuedDocument) -> bool:
    """The holder (while the document is valid or expired, not revoked), or staff in scope of the issuing office."""
    if not (user.is_authenticated and user.is_active) or not document.file:
        return False
    if document.holder_id is not None and document.holder_id == user.pk:
        return document.status == DocumentStatus.VALID
    if not user.is_staff:
        return False
    if settings.STAFF_MFA_REQUIRED and not (hasattr(user, "is_verified") and user.is_verified()):
        return False
    ids = scoped_office_ids(user)
    return ids is ALL or document.issuing_office_id in ids


def issued_document_record_access(*, document: IssuedDocument, user, ip: str | None = None):
    """Log a download by someone other than the holder."""
    if document.holder_id == user.pk:
        return None
    access = IssuedDocumentAccess.objects.create(document=document, user=user, ip=ip or None)
    logger.info("issued document %s downloaded by user %s", document.code, user.pk)
    return access
