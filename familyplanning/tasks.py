"""Worker tasks: render, sign and store the family-planning licences and certificates, exactly once each.

Like certificates.tasks: the task takes primary keys, re-reads the row and returns early when the work is done or
no longer wanted; the idempotency key is IssuedDocument's unique (source, generation). A validation's document
supersedes the one it validates once it is stored (familyplanning.services explains the model). The beat sweep
re-queues what a lost message left undone.
"""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation

from portal.cases.services import TransitionError, transition
from portal.notify.services import notify_user
from portal.verify.models import DocumentStatus, IssuedDocument

from . import catalogue
from .catalogue import DocumentKind, Effect
from .fields import Kind
from .models import FamilyPlanningApplication, Status
from .services import (
    DOCUMENT_GENERATION,
    affected_document,
    document_kind_code,
    document_valid_until,
    issued_kind,
)

logger = logging.getLogger("familyplanning.tasks")

# The documents' titles are fixed wordings of official documents (the glossary's terms,
# docs/architecture.md#glossary), bilingual by design.
TITLES = {
    DocumentKind.BIRTH_SERVICE_CERTIFICATE: ("生育服务证", "Birth Service Certificate"),
    DocumentKind.ONLY_CHILD_CERTIFICATE: ("独生子女父母光荣证", "Certificate of Honour for Parents of an Only Child"),
    DocumentKind.FLOATING_POPULATION_CERTIFICATE: (
        "流动人口婚育证明",
        "Marriage and Childbearing Certificate for the Floating Population",
    ),
    DocumentKind.PRACTICE_LICENCE: (
        "计划生育技术服务机构执业许可证",
        "Practice Licence for Family-Planning Technical Service Institutions",
    ),
    DocumentKind.QUALIFICATION_CERTIFICATE: (
        "计划生育技术服务人员合格证",
        "Qualification Certificate for Family-Planning Technical Service Personnel",
    ),
}
# The answer whose name is the holder's (verification shows it masked), first one present wins.
HOLDER_FIELDS = ("institution_name", "applicant", "holder", "wife", "mother")
# What each document prints of the answers, in this order (a field the form lacks is skipped).
PRINTED_FIELDS = {
    DocumentKind.BIRTH_SERVICE_CERTIFICATE: (
        "wife",
        "husband",
        "marriage_date",
        "residence_permit_number",
        "children_count",
        "child_order",
        "expected_birth_date",
    ),
    DocumentKind.ONLY_CHILD_CERTIFICATE: ("mother", "father", "child", "child_birth_date"),
    DocumentKind.FLOATING_POPULATION_CERTIFICATE: (
        "applicant",
        "spouse",
        "marital_status",
        "children_count",
        "hukou_address",
        "destination_province",
        "destination_address",
    ),
    DocumentKind.PRACTICE_LICENCE: (
        "institution_name",
        "institution_type",
        "address",
        "legal_representative",
        "approval_number",
        "scope",
    ),
    DocumentKind.QUALIFICATION_CERTIFICATE: ("applicant", "holder", "profession", "employer", "services"),
}


def _zh_date(day: datetime.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def _display(definition, value) -> str:
    if value in (None, "", [], {}):
        return ""
    if definition.kind == Kind.PERSON:
        return f"{value.get('name', '')}（{value.get('id_number', '')}）"
    if definition.kind == Kind.CHOICE:
        labels = dict(definition.choices)
        values = value if isinstance(value, list) else [value]
        return "、".join(str(labels.get(v, v)) for v in values)
    if definition.kind == Kind.YES_NO:
        return "是" if value else "否"
    return str(value)


def printed_rows(application: FamilyPlanningApplication, answers: dict) -> list[tuple[str, str]]:
    """(label, value) for each answer the document prints, labels from the service's FormDef."""
    form = application.service_def.form
    rows = []
    for name in PRINTED_FIELDS.get(issued_kind(application), ()):
        try:
            definition = form.field(name)
        except KeyError:
            continue
        value = _display(definition, answers.get(name))
        if value:
            rows.append((str(definition.label), value))
    return rows


def holder_name(application: FamilyPlanningApplication) -> str:
    for name in HOLDER_FIELDS:
        value = application.answers.get(name)
        if isinstance(value, dict) and value.get("name"):
            return value["name"][:60]
        if isinstance(value, str) and value:
            return value[:60]
    return (application.applicant.real_name or "")[:60]


def document_context(application: FamilyPlanningApplication, document: IssuedDocument, previous=None) -> dict:
    from portal.verify.issuing import verification_context

    office = application.office
    issued_on = timezone.localdate(document.issued_at)
    title, title_en = TITLES[issued_kind(application)]
    # The rows are printed in Chinese: the document is issued in the office's language (labels are msgids).
    return {
        "application": application,
        "document": document,
        "title": title,
        "title_en": title_en,
        "service_title": application.service_def.title,
        "holder_name": document.holder_name,
        "rows": printed_rows(application, application.answers),
        "office_name": office.name,
        "office_name_en": office.name_en,
        "issued_on": issued_on,
        "issued_on_zh": _zh_date(issued_on),
        "valid_until": document.valid_until,
        "valid_until_zh": _zh_date(document.valid_until),
        "previous": previous,
        **verification_context(document),
    }


def render_document(application: FamilyPlanningApplication, document: IssuedDocument, previous=None) -> bytes:
    from portal import pdf

    return pdf.render_pdf("familyplanning/pdf/issued_document.html", document_context(application, document, previous))


def _load(application_id) -> FamilyPlanningApplication | None:
    return FamilyPlanningApplication.objects.select_related("office", "applicant").filter(pk=application_id).first()


def _document_for(application, generation: int) -> IssuedDocument | None:
    return IssuedDocument.objects.filter(
        source_type=ContentType.objects.get_for_model(FamilyPlanningApplication),
        source_id=application.pk,
        generation=generation,
    ).first()


def _supersede(application: FamilyPlanningApplication, document: IssuedDocument, previous: IssuedDocument | None):
    """A validation's new document replaces the one validated: revoke the old one (once; a no-op after)."""
    from portal.verify.issuing import issued_document_revoke

    if previous is not None and previous.pk != document.pk and previous.status == DocumentStatus.VALID:
        issued_document_revoke(
            document=previous,
            by=None,
            reason=f"Superseded by validation: {document.code} ({application.case_number})",
            superseded=True,
        )


def _mark_issued(application: FamilyPlanningApplication, document: IssuedDocument) -> bool:
    """APPROVED -> ISSUED once the document is stored, and tell the applicant; only the winner notifies."""
    try:
        with transaction.atomic():
            transition(application, to=Status.ISSUED, note=document.code, allowed_from=(Status.APPROVED,))
            notify_user(
                application.applicant,
                template="familyplanning/ready",
                context={
                    "application": application,
                    "case_number": application.case_number,
                    "service_title": application.service_def.title,
                    "document_title": document.title,
                    "code": document.code,
                    "valid_until": document.valid_until,
                },
            )
    except TransitionError:
        return False
    return True


@shared_task(name="familyplanning.tasks.generate_document", acks_late=True, reject_on_worker_lost=True)
def generate_document(application_id: int, generation: int) -> str:
    """Render, sign and store the document of an approved application, then APPROVED -> ISSUED."""
    from portal import pdf
    from portal.verify.issuing import issued_document_claim, issued_document_store

    application = _load(application_id)
    if application is None:
        return "missing"
    if application.status not in (Status.APPROVED, Status.ISSUED):
        return "not-approved"
    service = application.service_def
    if not (service.issues or service.effect == Effect.EXTENDS):
        return "no-document"
    if generation != DOCUMENT_GENERATION:
        return "stale-generation"
    previous = affected_document(application=application) if service.effect == Effect.EXTENDS else None
    existing = _document_for(application, generation)
    if existing is not None and existing.status == DocumentStatus.REVOKED:
        return "revoked"
    if existing is not None and existing.status == DocumentStatus.VALID:
        # Stored by an earlier run that may have died before superseding or the status change: finish that.
        _supersede(application, existing, previous)
        if application.status == Status.APPROVED:
            _mark_issued(application, existing)
        return "exists"
    kind = issued_kind(application)
    title, title_en = TITLES[kind]
    issued_on = timezone.localdate()
    with translation.override(settings.LANGUAGE_CODE):
        document, created = issued_document_claim(
            source=application,
            generation=generation,
            kind=document_kind_code(kind),
            title=title,
            title_en=title_en,
            holder=application.applicant,
            holder_name=holder_name(application),
            issuing_office=application.office,
            valid_until=document_valid_until(application=application, issued_on=issued_on, previous=previous),
        )
        if document.status == DocumentStatus.GENERATING:
            if not created:
                logger.info("completing issued document %s claimed earlier", document.code)
            signed = pdf.sign_pdf(
                render_document(application, document, previous),
                reason=title_en,
                location=application.office.name_en or "Henan",
            )
            document = issued_document_store(document=document, pdf=signed)
    if document.status != DocumentStatus.VALID:
        return "not-stored"
    _supersede(application, document, previous)
    application.refresh_from_db()
    if application.status == Status.APPROVED:
        _mark_issued(application, document)
    return "issued"


def applications_missing_documents(*, older_than: datetime.timedelta, limit: int) -> list[int]:
    """Approved applications of services that issue a document, last changed before the cutoff, whose document
    is not stored (none, or one still generating; a stored one whose status never moved on counts too)."""
    keys = [s.key for s in catalogue.SERVICES.values() if s.issues or s.effect == Effect.EXTENDS]
    revoked = IssuedDocument.objects.filter(
        source_type=ContentType.objects.get_for_model(FamilyPlanningApplication),
        source_id=OuterRef("pk"),
        generation=DOCUMENT_GENERATION,
        status=DocumentStatus.REVOKED,
    )
    cutoff = timezone.now() - older_than
    return list(
        FamilyPlanningApplication.objects.filter(status=Status.APPROVED, service__in=keys, updated_at__lt=cutoff)
        .exclude(Exists(revoked))
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )


@shared_task(name="familyplanning.tasks.requeue_missing_documents")
def requeue_missing_documents(older_than_minutes: int | None = None, limit: int | None = None) -> list:
    """Beat, every 2 minutes: queue again the documents a lost message left unmade. Returns what it queued."""
    minutes = settings.CERTIFICATE_REQUEUE_AFTER_MINUTES if older_than_minutes is None else older_than_minutes
    limit = settings.CERTIFICATE_REQUEUE_BATCH if limit is None else limit
    queued = []
    for pk in applications_missing_documents(older_than=datetime.timedelta(minutes=minutes), limit=limit):
        try:
            generate_document.delay(pk, DOCUMENT_GENERATION)
        except Exception as exc:  # noqa: BLE001 - the broker is down; the next sweep tries again
            logger.warning("re-queue of the document of application %s failed: %s", pk, exc.__class__.__name__)
            break
        queued.append(pk)
    if queued:
        logger.warning("re-queued %d family-planning document task(s) that had not completed: %s", len(queued), queued)
    return queued
