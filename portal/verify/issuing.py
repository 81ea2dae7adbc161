"""Issuing documents: claim, render, sign, store and mark issued, exactly once per (source, generation).

The one pipeline every service's worker runs. A service declares each kind of document it issues as a
`DocumentSpec` (certificates/documents.py, familyplanning/documents.py: the template, the PDF context, the titles,
the status that waits for it and the transition that marks it issued) and its tasks.py hands the spec and the ids
to `issue` and `requeue_missing`; portal never imports a service.

Every step re-reads the row and returns early when the work is done or no longer wanted. The idempotency key is
IssuedDocument's unique (source, generation): a task delivered twice, run by two workers at once, or killed half-way
and run again ends with one document, one code and one file. A fault of the database or the disk (PostgreSQL
restarting, a full disk) is retried a few times with growing pauses (TRANSIENT_RETRY); past that, the beat sweep
(`requeue_missing`) queues again what is left undone, as it does for a lost message.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.cases.services import TransitionError, transition
from portal.documents.storage import private_storage
from portal.notify.services import notify_user

from . import rowcache
from .codes import new_code
from .models import DocumentStatus, IssuedDocument

if TYPE_CHECKING:
    from accounts.models import Office, User
    from portal.cases.models import Case

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
        # Before the UPDATE and inside its transaction: no verification answers "valid" from the cache after it.
        rowcache.hold(document.code)
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


# --- the pipeline ------------------------------------------------------------------------------------------------

# The options of every issuing task (`@shared_task(..., **TRANSIENT_RETRY)`): faults that pass are retried after
# about 5, 10, 20, 40 and 80 seconds (jittered), then left to the re-queue sweep.
TRANSIENT_RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError, OSError),
    "retry_backoff": 5,
    "retry_backoff_max": 120,
    "max_retries": 5,
}


@dataclass(frozen=True)
class Particulars:
    """What the IssuedDocument row records of the document a source gets (the holder's account is its applicant's,
    the issuing office its office)."""

    kind: str  # IssuedDocument.kind: the service's code for the kind of document
    title: str  # fixed wordings of an official document, bilingual by design
    title_en: str
    holder_name: str
    valid_until: datetime.date | None
    holder_birth_date: datetime.date | None = None


@dataclass(frozen=True)
class IssuedStep:
    """The transition that marks a source issued once its document is stored, and the message its applicant gets."""

    to_status: str
    template: str  # the portal.notify message template
    context: Callable[[Any, IssuedDocument], dict[str, Any]]  # (source, document) -> the message's context


@dataclass(frozen=True)
class DocumentSpec:
    """One kind of document a service issues for its cases, declared once in the service's documents.py.

    The callables take the source (a case of `model`), the document, and `previous`: the document the new one
    supersedes (see `supersedes`), None for every other kind.
    """

    key: str  # names the kind in the logs: "certificates.certificate"
    model: type[Case]
    template: str  # the PDF template
    # (source, document, previous) -> the template's context; `pdf_context` adds the code, QR code and seal.
    context: Callable[[Any, IssuedDocument, IssuedDocument | None], dict[str, Any]]
    # (source, issued_on, previous) -> what the claimed row records.
    particulars: Callable[[Any, datetime.date, IssuedDocument | None], Particulars]
    waiting: str  # the status in which a source waits for this document
    # The source's field holding its current generation (a reissue counts it up), or the one generation there is.
    generation: str | int
    issued: IssuedStep | None = None  # None: storing the document moves nothing on (a refusal notice)
    unwanted: str = "not-approved"  # the task's answer for a source in a status that wants no document
    applies: Callable[[Any], bool] | None = None  # False: this source gets no document at all ("no-document")
    # The document a new one replaces, revoked once the new one is stored, with `supersede_reason` (code, case_number).
    supersedes: Callable[[Any], IssuedDocument | None] | None = None
    supersede_reason: str = "Superseded: {code} ({case_number})"
    # Further conditions on the sources the sweep looks at (a window, the services that issue anything).
    sweep_filter: Callable[[], Q] | None = None

    @property
    def statuses(self) -> tuple[str, ...]:
        """The statuses in which the task still has something to do or finish."""
        return (self.waiting, self.issued.to_status) if self.issued else (self.waiting,)

    def current_generation(self, source: Case) -> int:
        if isinstance(self.generation, str):
            return int(getattr(source, self.generation))
        return self.generation

    def pdf_context(
        self, source: Case, document: IssuedDocument, previous: IssuedDocument | None = None
    ) -> dict[str, Any]:
        """The template's whole context: the service's, then what every document prints for verification."""
        return {**self.context(source, document, previous), **verification_context(document)}

    def render(self, source: Case, document: IssuedDocument, previous: IssuedDocument | None = None) -> bytes:
        """The unsigned PDF (WeasyPrint via portal.pdf: escaped data, portal-only fetcher)."""
        from portal import pdf

        return pdf.render_pdf(self.template, self.pdf_context(source, document, previous))


def issue(spec: DocumentSpec, source_id: int, generation: int) -> str:
    """Render, sign and store the document of `generation`, then mark the source issued; returns what happened.

    "issued", or why nothing was (left) to do: "missing", spec.unwanted, "no-document", "stale-generation",
    "revoked", "exists", "not-stored".
    """
    source = spec.model.objects.select_related("office", "applicant").filter(pk=source_id).first()
    if source is None:
        return "missing"
    if source.status not in spec.statuses:
        return spec.unwanted
    if spec.applies is not None and not spec.applies(source):
        return "no-document"
    if spec.current_generation(source) != generation:
        return "stale-generation"
    previous = spec.supersedes(source) if spec.supersedes is not None else None
    existing = _document_for(source, generation)
    if existing is not None and existing.status != DocumentStatus.GENERATING:
        if existing.status == DocumentStatus.REVOKED and spec.issued is not None:
            return "revoked"  # (a kind that marks nothing issued, the refusal notice, answers "exists" here too)
        if existing.status == DocumentStatus.VALID:
            # Stored by an earlier run that may have died before superseding or the status change: finish that.
            _supersede(spec, source, existing, previous)
            if spec.issued is not None and source.status == spec.waiting:
                mark_issued(spec, source, existing)
        return "exists"
    with translation.override(settings.LANGUAGE_CODE):
        document = _produce(spec, source, generation, previous)
    if document.status != DocumentStatus.VALID:
        return "not-stored"
    _supersede(spec, source, document, previous)
    if spec.issued is None:
        return "issued"
    source.refresh_from_db()
    if source.status == spec.waiting and spec.current_generation(source) == generation:
        mark_issued(spec, source, document)
    return "issued"


def _document_for(source: Case, generation: int) -> IssuedDocument | None:
    return IssuedDocument.objects.filter(
        source_type=ContentType.objects.get_for_model(type(source)), source_id=source.pk, generation=generation
    ).first()


def _produce(spec: DocumentSpec, source: Case, generation: int, previous: IssuedDocument | None) -> IssuedDocument:
    """Claim (source, generation), render, sign and store; returns the document in whatever state it ended."""
    from portal import pdf

    particulars = spec.particulars(source, timezone.localdate(), previous)
    document, created = issued_document_claim(
        source=source,
        generation=generation,
        kind=particulars.kind,
        title=particulars.title,
        title_en=particulars.title_en,
        # The account through which the document is delivered: the applicant (an agent hands it on).
        holder=source.applicant,
        holder_name=particulars.holder_name,
        holder_birth_date=particulars.holder_birth_date,
        issuing_office=source.office,
        valid_until=particulars.valid_until,
    )
    if document.status != DocumentStatus.GENERATING:
        return document
    if not created:
        # A previous run claimed it and died before storing: finish it with the same code.
        logger.info("completing issued document %s claimed earlier", document.code)
    signed = pdf.sign_pdf(
        spec.render(source, document, previous),
        reason=particulars.title_en,
        location=source.office.name_en or "Henan",
    )
    return issued_document_store(document=document, pdf=signed)


def _supersede(spec: DocumentSpec, source: Case, document: IssuedDocument, previous: IssuedDocument | None) -> None:
    """The new document replaces `previous`: revoke that one (once; a no-op after)."""
    if previous is not None and previous.pk != document.pk and previous.status == DocumentStatus.VALID:
        issued_document_revoke(
            document=previous,
            by=None,
            reason=spec.supersede_reason.format(code=document.code, case_number=source.case_number),
            superseded=True,
        )


def mark_issued(spec: DocumentSpec, source: Case, document: IssuedDocument) -> bool:
    """spec.waiting -> spec.issued.to_status once the document is stored, and tell the applicant; only the winner
    notifies."""
    step = spec.issued
    if step is None:
        return False
    try:
        with transaction.atomic():
            transition(source, to=step.to_status, note=document.code, allowed_from=(spec.waiting,))
            notify_user(source.applicant, template=step.template, context=step.context(source, document))
    except TransitionError:
        return False  # issued meanwhile by another run, or withdrawn from approval: nothing to do
    return True


# --- the re-queue sweep ------------------------------------------------------------------------------------------


class IssuingTask(Protocol):
    """A service's Celery task that takes (source id, generation) and calls `issue`."""

    name: str

    def delay(self, *args: Any) -> Any: ...


def documents_missing(
    specs: Sequence[DocumentSpec], *, older_than: datetime.timedelta, limit: int
) -> list[tuple[DocumentSpec, int, int]]:
    """(spec, source id, generation) of the sources waiting for a document, last changed before the cutoff, whose
    current generation has no stored one (none, or one still generating).

    Where storing moves the source on (spec.issued), a stored document whose source never moved on counts too, and
    only a revoked one ends the wait; otherwise (the source's status stays as it is for ever) a stored one does.
    Oldest first, spec by spec in the order given, at most `limit` in all.
    """
    cutoff = timezone.now() - older_than
    found: list[tuple[DocumentSpec, int, int]] = []
    for spec in specs:
        finished = (
            Q(status=DocumentStatus.REVOKED)
            if spec.issued is not None
            else Q(status__in=(DocumentStatus.VALID, DocumentStatus.REVOKED))
        )
        done = IssuedDocument.objects.filter(
            finished,
            source_type=ContentType.objects.get_for_model(spec.model),
            source_id=OuterRef("pk"),
            generation=OuterRef(spec.generation) if isinstance(spec.generation, str) else spec.generation,
        )
        sources = spec.model.objects.filter(status=spec.waiting, updated_at__lt=cutoff)
        if spec.sweep_filter is not None:
            sources = sources.filter(spec.sweep_filter())
        sources = sources.exclude(Exists(done)).order_by("updated_at")
        room = limit - len(found)
        if isinstance(spec.generation, str):
            rows: list[tuple[int, int]] = list(sources.values_list("pk", spec.generation)[:room])
        else:
            rows = [(pk, spec.generation) for pk in sources.values_list("pk", flat=True)[:room]]
        found += [(spec, pk, generation) for pk, generation in rows]
    return found


def requeue_missing(
    tasks: Sequence[tuple[DocumentSpec, IssuingTask]],
    *,
    what: str,
    older_than_minutes: int | None = None,
    limit: int | None = None,
) -> list[list[int]]:
    """Beat: queue again the documents a lost message left unmade, with each spec's task; returns [id, generation]
    of each queued. `what` names the documents in the warning ("re-queued 2 certificate task(s) ...")."""
    minutes = settings.CERTIFICATE_REQUEUE_AFTER_MINUTES if older_than_minutes is None else older_than_minutes
    limit = settings.CERTIFICATE_REQUEUE_BATCH if limit is None else limit
    task_of = {spec.key: task for spec, task in tasks}
    queued: list[list[int]] = []
    for spec, pk, generation in documents_missing(
        [spec for spec, _task in tasks], older_than=datetime.timedelta(minutes=minutes), limit=limit
    ):
        task = task_of[spec.key]
        try:
            task.delay(pk, generation)
        except Exception as exc:  # noqa: BLE001 - the broker is down; the next sweep tries again
            logger.warning("re-queue of %s for %s #%s failed: %s", task.name, spec.key, pk, exc.__class__.__name__)
            break
        queued.append([pk, generation])
    if queued:
        logger.warning("re-queued %d %s task(s) that had not completed: %s", len(queued), what, queued)
    return queued
