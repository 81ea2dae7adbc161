"""The documents this service issues, declared for portal.verify.issuing: the certificate and the refusal notice.

Each is a DocumentSpec: its template and PDF context, what its IssuedDocument row records, the status that waits for
it and, for the certificate, the transition that marks the application issued. The pipeline itself (claim, render,
sign, store, mark issued, the re-queue sweep) is portal.verify.issuing's; certificates.tasks only names the tasks.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from portal.verify.issuing import DocumentSpec, IssuedStep, Particulars
from portal.verify.models import IssuedDocument

from .models import Application, HolderIdType, Reason, Status
from .services import KIND_CERTIFICATE, KIND_REFUSAL_NOTICE, certificate_valid_until

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
    }


def certificate_context(application: Application, document: IssuedDocument, previous=None) -> dict:
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


def refusal_context(application: Application, document: IssuedDocument, previous=None) -> dict:
    decided_on = _local_date(application.decided_at or document.issued_at)
    return {
        **_common_context(application, document),
        "reason": application.refusal_reason,
        "decided_on": decided_on,
        "decided_on_zh": _zh_date(decided_on),
        "submitted_on_zh": _zh_date(_local_date(application.submitted_at)),
    }


def _ready_context(application: Application, document: IssuedDocument) -> dict:
    return {
        "application": application,
        "case_number": application.case_number,
        "code": document.code,
        "valid_until": document.valid_until,
    }


def _refusals_within_window() -> Q:
    """Refusals keep their status for ever: the sweep looks back CERTIFICATE_REQUEUE_WINDOW_DAYS only."""
    window_start = timezone.now() - datetime.timedelta(days=settings.CERTIFICATE_REQUEUE_WINDOW_DAYS)
    return Q(updated_at__gte=window_start, certificate_generation__gt=0)


def _holder_particulars(kind: str, title: str, title_en: str, valid_until=None):
    """What the IssuedDocument row records of a certificate or notice: its kind and titles, the holder, and the
    validity `valid_until(issued_on)` gives (none without it)."""

    def particulars(application: Application, issued_on: datetime.date, _previous) -> Particulars:
        return Particulars(
            kind=kind,
            title=title,
            title_en=title_en,
            holder_name=application.holder_name,
            holder_birth_date=application.holder_birth_date,
            valid_until=valid_until(issued_on) if valid_until else None,
        )

    return particulars


CERTIFICATE = DocumentSpec(
    key="certificates.certificate",
    model=Application,
    template="certificates/pdf/certificate.html",
    context=certificate_context,
    particulars=_holder_particulars(KIND_CERTIFICATE, CERTIFICATE_TITLE, CERTIFICATE_TITLE_EN, certificate_valid_until),
    waiting=Status.APPROVED,
    generation="certificate_generation",
    issued=IssuedStep(to_status=Status.ISSUED, template="certificates/ready", context=_ready_context),
)

# The Notice of Refusal (reason and the ways to object), stored and verifiable like a certificate.
REFUSAL_NOTICE = DocumentSpec(
    key="certificates.refusal_notice",
    model=Application,
    template="certificates/pdf/refusal_notice.html",
    context=refusal_context,
    particulars=_holder_particulars(KIND_REFUSAL_NOTICE, REFUSAL_TITLE, REFUSAL_TITLE_EN),
    waiting=Status.REFUSED,
    generation="certificate_generation",
    unwanted="not-refused",
    sweep_filter=_refusals_within_window,
)
