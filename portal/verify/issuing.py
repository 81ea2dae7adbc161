"""Issuing documents: claim (source, generation) once, store the signed PDF once, revoke, and what a PDF prints to
be verified. The API the services' workers call."""

from __future__ import annotations

import datetime
import hashlib
import logging
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.documents.storage import private_storage

from .codes import new_code
from .models import DocumentStatus, IssuedDocument

if TYPE_CHECKING:
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
