"""Worker tasks: render, sign and store certificates and refusal notices, exactly once per generation.

Every task takes primary keys, re-reads the row and returns early when the work is done or no longer
wanted. The idempotency key is IssuedDocument's unique (source, generation): a task delivered twice, run
by two workers at once, or killed half-way and run again ends with one document, one code and one file.
A fault of the database or the disk (PostgreSQL restarting, a full disk) is retried a few times with growing
pauses; past that, the beat sweep below re-queues what is left undone, as it does for a lost message.
"""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation

from portal.cases.services import TransitionError, transition
from portal.notify.services import notify_user
from portal.verify.models import DocumentStatus, IssuedDocument

from .models import Application, HolderIdType, Reason, Status
from .services import KIND_CERTIFICATE, KIND_REFUSAL_NOTICE, certificate_valid_until

logger = logging.getLogger("certificates.tasks")

# Faults that pass: retried after about 5, 10, 20, 40 and 80 seconds (jittered), then left to the sweep.
TRANSIENT_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError, OSError),
    "retry_backoff": 5,
    "retry_backoff_max": 120,
    "max_retries": 5,
}

CERTIFICATE_TITLE = "无犯罪记录证明"
CERTIFICATE_TITLE_EN = "Certificate of No Criminal Record"
REFUSAL_TITLE = "不予出具无犯罪记录证明通知书"
REFUSAL_TITLE_EN = "Notice of Refusal to Issue a Certificate of No Criminal Record"

# The certificate is bilingual by design (Chinese with an English line under each heading), whatever the
# reader's language: these are fixed wordings of an official document, not interface text.
REASON_ZH = {Reason.EMPLOYMENT: "就业", Reason.ABROAD: "出国（境）", Reason.STUDY: "升学", Reason.OTHER: "其他"}
REASON_EN = {
    Reason.EMPLOYMENT: "Employment",
    Reason.ABROAD: "Going abroad",
    Reason.STUDY: "Further study",
    Reason.OTHER: "Other",
}
SEX = {"M": ("男", "Male"), "F": ("女", "Female")}
ID_TYPE = {HolderIdType.RESIDENT_ID: ("居民身份证", "Resident ID card"), HolderIdType.PASSPORT: ("护照", "Passport")}


def _zh_date(day: datetime.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def _local_date(value) -> datetime.date | None:
    if value is None:
        return None
    return timezone.localdate(value) if isinstance(value, datetime.datetime) else value


def _common_context(application: Application, document: IssuedDocument) -> dict:
    from accounts.pinyin import passport_pinyin
    from portal.verify.issuing import verification_context

    office = application.office
    issued_on = _local_date(document.issued_at)
    return {
        "application": application,
        "document": document,
        "holder_name": application.holder_name,
        # The English lines spell the holder's name as the passport does (OUYANG Nana), never the characters.
        "holder_name_en": passport_pinyin(application.holder_name),
        "holder_sex": SEX.get(application.holder_sex, ("", "")),
        "holder_id_type": ID_TYPE.get(application.holder_id_type, ("", "")),
        "holder_id_number": application.holder_id_number,
        # The full name (city bureau, branch, station): "经八路派出所" alone names no one outside the city.
        "office_name": office.full_name(),
        "office_name_en": office.full_name_en(),
        "office_short_name": office.name,
        "office_address": office.address,
        "office_phone": office.phone,
        "issued_on": issued_on,
        "issued_on_zh": _zh_date(issued_on),
        **verification_context(document),
    }


def certificate_context(application: Application, document: IssuedDocument) -> dict:
    query_date = _local_date(application.register_checked_at or application.decided_at or document.issued_at)
    purpose_detail = ""
    if application.reason == Reason.ABROAD:
        purpose_detail = application.destination_country
    elif application.reason == Reason.OTHER:
        purpose_detail = application.reason_other
    return {
        **_common_context(application, document),
        "purpose_zh": REASON_ZH.get(application.reason, ""),
        "purpose_en": REASON_EN.get(application.reason, ""),
        "purpose_detail": purpose_detail,
        "receiving_organisation": application.receiving_organisation,
        "query_date": query_date,
        "query_date_zh": _zh_date(query_date),
        "valid_until": document.valid_until,
        "valid_until_zh": _zh_date(document.valid_until),
        "validity_months": settings.CERTIFICATE_VALIDITY_MONTHS,
    }


def refusal_context(application: Application, document: IssuedDocument) -> dict:
    decided_on = _local_date(application.decided_at or document.issued_at)
    return {
        **_common_context(application, document),
        "reason": application.refusal_reason,
        "decided_on": decided_on,
        "decided_on_zh": _zh_date(decided_on),
        "submitted_on_zh": _zh_date(_local_date(application.submitted_at)),
    }


def render_certificate(application: Application, document: IssuedDocument) -> bytes:
    """The unsigned certificate PDF (WeasyPrint via portal.pdf: escaped data, portal-only fetcher)."""
    from portal import pdf

    return pdf.render_pdf("certificates/pdf/certificate.html", certificate_context(application, document))


def render_refusal_notice(application: Application, document: IssuedDocument) -> bytes:
    from portal import pdf

    return pdf.render_pdf("certificates/pdf/refusal_notice.html", refusal_context(application, document))


def _load(application_id) -> Application | None:
    return Application.objects.select_related("office", "applicant").filter(pk=application_id).first()


def _document_for(application: Application, generation: int) -> IssuedDocument | None:
    return IssuedDocument.objects.filter(
        source_type=ContentType.objects.get_for_model(Application), source_id=application.pk, generation=generation
    ).first()


def _produce(
    application: Application, generation: int, *, kind, title, title_en, valid_until, render
) -> IssuedDocument:
    """Claim (source, generation), render, sign and store; returns the document in whatever state it ended."""
    from portal import pdf
    from portal.verify.issuing import issued_document_claim, issued_document_store

    document, created = issued_document_claim(
        source=application,
        generation=generation,
        kind=kind,
        title=title,
        title_en=title_en,
        # The account through which the document is delivered: the applicant (an agent hands it on).
        holder=application.applicant,
        holder_name=application.holder_name,
        holder_birth_date=application.holder_birth_date,
        issuing_office=application.office,
        valid_until=valid_until,
    )
    if document.status != DocumentStatus.GENERATING:
        return document
    if not created:
        # A previous run claimed it and died before storing: finish it with the same code.
        logger.info("completing issued document %s claimed earlier", document.code)
    signed = pdf.sign_pdf(
        render(application, document), reason=title_en, location=application.office.name_en or "Henan"
    )
    return issued_document_store(document=document, pdf=signed)


def _mark_issued(application: Application, document: IssuedDocument) -> bool:
    """APPROVED -> ISSUED once the certificate is stored, and tell the applicant; only the winner notifies."""
    try:
        with transaction.atomic():
            transition(
                application,
                to=Status.ISSUED,
                note=document.code,
                allowed_from=(Status.APPROVED,),
            )
            notify_user(
                application.applicant,
                template="certificates/ready",
                context={
                    "application": application,
                    "case_number": application.case_number,
                    "code": document.code,
                    "valid_until": document.valid_until,
                },
            )
    except TransitionError:
        return False  # issued meanwhile by another run, or withdrawn from approval: nothing to do
    return True


@shared_task(
    name="certificates.tasks.generate_certificate", acks_late=True, reject_on_worker_lost=True, **TRANSIENT_RETRY
)
def generate_certificate(application_id: int, generation: int) -> str:
    """Render, sign and store the certificate of `generation`, then APPROVED -> ISSUED."""
    application = _load(application_id)
    if application is None:
        return "missing"
    if application.status not in (Status.APPROVED, Status.ISSUED):
        return "not-approved"
    if application.certificate_generation != generation:
        return "stale-generation"
    existing = _document_for(application, generation)
    if existing is not None and existing.status == DocumentStatus.REVOKED:
        return "revoked"
    if existing is not None and existing.status == DocumentStatus.VALID:
        # Stored by an earlier run that may have died before the status change: finish that.
        if application.status == Status.APPROVED:
            _mark_issued(application, existing)
        return "exists"
    issued_on = timezone.localdate()
    with translation.override(settings.LANGUAGE_CODE):
        document = _produce(
            application,
            generation,
            kind=KIND_CERTIFICATE,
            title=CERTIFICATE_TITLE,
            title_en=CERTIFICATE_TITLE_EN,
            valid_until=certificate_valid_until(issued_on),
            render=render_certificate,
        )
    if document.status != DocumentStatus.VALID:
        return "not-stored"
    application.refresh_from_db()
    if application.status == Status.APPROVED and application.certificate_generation == generation:
        _mark_issued(application, document)
    return "issued"


@shared_task(
    name="certificates.tasks.generate_refusal_notice", acks_late=True, reject_on_worker_lost=True, **TRANSIENT_RETRY
)
def generate_refusal_notice(application_id: int, generation: int) -> str:
    """The Notice of Refusal (reason and the ways to object), stored and verifiable like a certificate."""
    application = _load(application_id)
    if application is None:
        return "missing"
    if application.status != Status.REFUSED:
        return "not-refused"
    if application.certificate_generation != generation:
        return "stale-generation"
    existing = _document_for(application, generation)
    if existing is not None and existing.status != DocumentStatus.GENERATING:
        return "exists"
    with translation.override(settings.LANGUAGE_CODE):
        document = _produce(
            application,
            generation,
            kind=KIND_REFUSAL_NOTICE,
            title=REFUSAL_TITLE,
            title_en=REFUSAL_TITLE_EN,
            valid_until=None,
            render=render_refusal_notice,
        )
    return "issued" if document.status == DocumentStatus.VALID else "not-stored"


def applications_missing_documents(*, older_than: datetime.timedelta, limit: int):
    """Approved or refused applications, last changed before the cutoff, whose current generation has no
    stored document (none, or one still generating); approvals whose certificate is stored but whose status
    never moved on are included too. Refusals are looked for within CERTIFICATE_REQUEUE_WINDOW_DAYS only (their
    status stays "refused" for ever). Oldest first, at most `limit`."""
    cutoff = timezone.now() - older_than
    done = IssuedDocument.objects.filter(
        source_type=ContentType.objects.get_for_model(Application),
        source_id=OuterRef("pk"),
        generation=OuterRef("certificate_generation"),
        status__in=(DocumentStatus.VALID, DocumentStatus.REVOKED),
    )
    revoked = IssuedDocument.objects.filter(
        source_type=ContentType.objects.get_for_model(Application),
        source_id=OuterRef("pk"),
        generation=OuterRef("certificate_generation"),
        status=DocumentStatus.REVOKED,
    )
    approved = Application.objects.filter(status=Status.APPROVED, updated_at__lt=cutoff).exclude(Exists(revoked))
    window_start = timezone.now() - datetime.timedelta(days=settings.CERTIFICATE_REQUEUE_WINDOW_DAYS)
    refused = Application.objects.filter(
        status=Status.REFUSED, updated_at__lt=cutoff, updated_at__gte=window_start, certificate_generation__gt=0
    )
    refused = refused.exclude(Exists(done))
    rows = list(approved.order_by("updated_at").values_list("pk", "certificate_generation", "status")[:limit])
    rows += list(
        refused.order_by("updated_at").values_list("pk", "certificate_generation", "status")[: limit - len(rows)]
    )
    return rows


@shared_task(name="certificates.tasks.requeue_missing_certificates")
def requeue_missing_certificates(older_than_minutes: int | None = None, limit: int | None = None) -> list:
    """Beat, every 2 minutes: queue again the documents a lost message left unmade. Returns what it queued."""
    minutes = settings.CERTIFICATE_REQUEUE_AFTER_MINUTES if older_than_minutes is None else older_than_minutes
    limit = settings.CERTIFICATE_REQUEUE_BATCH if limit is None else limit
    queued = []
    for pk, generation, status in applications_missing_documents(
        older_than=datetime.timedelta(minutes=minutes), limit=limit
    ):
        task = generate_certificate if status == Status.APPROVED else generate_refusal_notice
        try:
            task.delay(pk, generation)
        except Exception as exc:  # noqa: BLE001 - the broker is down; the next sweep tries again
            logger.warning("re-queue of %s for application %s failed: %s", task.name, pk, exc.__class__.__name__)
            break
        queued.append([pk, generation])
    if queued:
        logger.warning("re-queued %d certificate task(s) that had not completed: %s", len(queued), queued)
    return queued


# --- the criminal-record register --------------------------------------------------------------------------------
# On the default queue (CELERY_TASK_ROUTES sends only generate_* to the pdf queue). One import runs at a time; a job
# delivered while another runs waits and tries again. Not retried on a fault: a failed job says so on its page and the
# administrator runs it again.


@shared_task(name="certificates.tasks.register_import", bind=True, max_retries=None)
def register_import(self, job_id: int) -> str:
    """Run the register import job `job_id` (certificates.register.run_import_job)."""
    from .register import run_import_job

    outcome = run_import_job(job_id)
    if outcome == "busy":
        raise self.retry(countdown=settings.REGISTER_IMPORT_BUSY_RETRY_SECONDS)
    return outcome


@shared_task(name="certificates.tasks.sweep_register_imports")
def sweep_register_imports() -> dict:
    """Beat, every minute: jobs whose worker died are marked failed; staging tables left behind are dropped."""
    from .register import register_import_sweep

    return register_import_sweep()
