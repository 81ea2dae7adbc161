"""The documents this service issues, declared for portal.verify.issuing: the five licences and certificates.

One DocumentSpec covers them all: which of them an application gets follows from its service (catalogue), and so do
its title, what it prints, its validity and, for a validation, the earlier document it supersedes once it is stored
(familyplanning.services explains the model). The pipeline itself (claim, render, sign, store, mark issued, the
re-queue sweep) is portal.verify.issuing's; familyplanning.tasks only names the tasks.
"""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.utils import timezone

from portal.verify.issuing import DocumentSpec, IssuedStep, Particulars
from portal.verify.models import IssuedDocument

from . import catalogue
from .catalogue import DocumentKind, Effect
from .fields import Kind
from .models import FamilyPlanningApplication, Status
from .services import DOCUMENT_GENERATION, affected_document, document_kind_code, document_valid_until, issued_kind

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
    }


def _makes_document(service: catalogue.ServiceDef) -> bool:
    """Approval makes a new document: a first issue or a validation (a cancellation only revokes)."""
    return bool(service.issues or service.effect == Effect.EXTENDS)


def _issues(application: FamilyPlanningApplication) -> bool:
    return _makes_document(application.service_def)


def _issuing_services() -> Q:
    return Q(service__in=[service.key for service in catalogue.SERVICES.values() if _makes_document(service)])


def _supersedes(application: FamilyPlanningApplication) -> IssuedDocument | None:
    """A validation's new document replaces the one it validates."""
    if application.service_def.effect != Effect.EXTENDS:
        return None
    return affected_document(application=application)


def _particulars(application: FamilyPlanningApplication, issued_on: datetime.date, previous) -> Particulars:
    kind = issued_kind(application)
    title, title_en = TITLES[kind]
    return Particulars(
        kind=document_kind_code(kind),
        title=title,
        title_en=title_en,
        holder_name=holder_name(application),
        valid_until=document_valid_until(application=application, issued_on=issued_on, previous=previous),
    )


def _ready_context(application: FamilyPlanningApplication, document: IssuedDocument) -> dict:
    return {
        "application": application,
        "case_number": application.case_number,
        "service_title": application.service_def.title,
        "document_title": document.title,
        "code": document.code,
        "valid_until": document.valid_until,
    }


DOCUMENT = DocumentSpec(
    key="familyplanning.document",
    model=FamilyPlanningApplication,
    template="familyplanning/pdf/issued_document.html",
    context=document_context,
    particulars=_particulars,
    waiting=Status.APPROVED,
    generation=DOCUMENT_GENERATION,
    issued=IssuedStep(to_status=Status.ISSUED, template="familyplanning/ready", context=_ready_context),
    applies=_issues,
    supersedes=_supersedes,
    supersede_reason="Superseded by validation: {code} ({case_number})",
    sweep_filter=_issuing_services,
)
