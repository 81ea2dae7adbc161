"""No-criminal-record applications: every step a citizen, an officer or the worker takes, as one function each.

Views, admin pages and tasks call these; none of them sets `status` itself. Every status change goes through
portal.cases.services.transition (a conditional UPDATE, so of two officers acting at once one wins and the
other gets TransitionConflict), and every step that queues work does it with transaction.on_commit.
"""

from __future__ import annotations

import calendar
import datetime
import logging

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import idnumber
from accounts.identity import ensure_assurance
from portal.cases.kept import kept_problems
from portal.cases.services import (
    TransitionConflict,
    TransitionError,
    TransitionNotAllowed,
    create_with_case_number,
    delete_draft,
    ensure_status,
    record_event,
    required_text,
)
from portal.celery import publish_on_commit
from portal.documents.services import documents_for_case
from portal.verify.issuing import issued_document_revoke, issued_documents_for_source
from portal.verify.models import DocumentStatus, IssuedDocument
from portal.visits.services import EVENT_LABELS as VISIT_EVENTS

from .models import CLOCK_WORKING_DAYS, Application, Delivery, HolderIdType, Reason, Status
from .register import (
    register_blocking,
    register_import_cancel,
    register_import_restart,
    register_import_start,
    register_matches,
)
from .workflow import WORKFLOW

logger = logging.getLogger("certificates")

KIND_CERTIFICATE = "ncr_certificate"
# Timeline events that leave the status as it was (Transition.event), and how the timeline names them.
EVENT_REVOKED = "certificate_revoked"
EVENT_PAPER_PRINTED = "paper_printed"
EVENT_PAPER_COLLECTED = "paper_collected"
KIND_REFUSAL_NOTICE = "ncr_refusal_notice"
REQUIRED_DOCUMENTS = {
    HolderIdType.RESIDENT_ID: ("id_front", "id_back", "photo"),
    HolderIdType.PASSPORT: ("passport", "photo"),
}

__all__ = [
    "KIND_CERTIFICATE",
    "KIND_REFUSAL_NOTICE",
    "TransitionConflict",
    "TransitionError",
    "TransitionNotAllowed",
    "application_accept",
    "application_approve",
    "application_create_draft",
    "application_delete_draft",
    "application_missing",
    "application_refuse",
    "application_request_info",
    "application_resubmit",
    "application_submit",
    "application_withdraw",
    "available_actions",
    "certificate_reissue",
    "certificate_revoke",
    "certificate_valid_until",
    "current_certificate",
    "paper_mark_collected",
    "paper_mark_printed",
    "refusal_notice",
    "revoked_certificates",
    "status_label",
    "timeline_entries",
    "register_blocking",
    "register_import_cancel",
    "register_import_restart",
    "register_import_start",
    "register_matches",
]


# --- helpers -------------------------------------------------------------------------------------------


def _ensure_may_decide(by, application: Application, step: str):
    """The workflow's one rule of who may take a staff step (portal.cases.workflow.ensure_staff_may_act)."""
    return WORKFLOW.ensure_may_act(by, application, WORKFLOW[step])


def _on_commit_delay(task, *args):
    """Publish after commit; if the broker is down, the re-queue sweep finds the work later."""
    publish_on_commit(task, *args)


def _notify(application: Application, template: str, **context):
    WORKFLOW.tell_applicant(application, template, **context)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Same day `months` later; the last day of the month when that day does not exist (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def certificate_valid_until(issued_on: datetime.date) -> datetime.date:
    """The last day a certificate issued on `issued_on` is valid (CERTIFICATE_VALIDITY_MONTHS, default 3)."""
    return add_months(issued_on, settings.CERTIFICATE_VALIDITY_MONTHS) - datetime.timedelta(days=1)


# --- the citizen's steps ---------------------------------------------------------------------------------


def application_create_draft(*, applicant, for_self: bool, office) -> Application:
    """A new draft at `office` with a case number; for oneself, the holder's data come from the profile."""
    fields = {}
    if for_self:
        fields = {
            "holder_name": applicant.real_name,
            "holder_id_type": HolderIdType.RESIDENT_ID,
            "holder_id_number": applicant.id_number or "",
            "holder_sex": applicant.sex or "",
            "holder_birth_date": applicant.birth_date,
        }
    application = create_with_case_number(
        Application,
        Application.CASE_PREFIX,
        applicant=applicant,
        office=office,
        status=Status.DRAFT,
        for_self=for_self,
        **fields,
    )
    logger.info("certificate draft %s created by user %s", application.case_number, applicant.pk)
    return application


def _current_document_kinds(application: Application) -> set[str]:
    return set(documents_for_case(application).values_list("kind", flat=True))


def application_missing(*, application: Application) -> list[tuple[str, str]]:
    """(section key, message) for everything still missing before the application can be submitted.

    What was typed on a page of the draft but could not be saved yet comes first (portal.cases.kept).
    """
    missing = list(kept_problems(application))
    if not application.holder_name.strip():
        missing.append(("holder", _("Enter the full name of the person the certificate is for.")))
    if not application.holder_id_number:
        missing.append(("holder", _("Enter the number of the holder's ID document.")))
    elif application.holder_id_type == HolderIdType.RESIDENT_ID:
        try:
            idnumber.parse(application.holder_id_number)
        except ValidationError as exc:
            missing.append(("holder", " ".join(exc.messages)))
    kinds = _current_document_kinds(application)
    if not application.for_self and "authorisation" not in kinds:
        missing.append(("holder", _("Upload the holder's signed authorisation.")))

    if not application.reason:
        missing.append(("purpose", _("Choose what the certificate is for.")))
    elif application.reason == Reason.ABROAD and not application.destination_country.strip():
        missing.append(("purpose", _("Enter the country or region you are going to.")))
    elif application.reason == Reason.OTHER and not application.reason_other.strip():
        missing.append(("purpose", _("Explain what the certificate is for.")))
    if not application.receiving_organisation.strip():
        missing.append(("purpose", _("Enter the organisation that will receive the certificate.")))

    if application.delivery == Delivery.COLLECT:
        office = application.collection_office
        if office is None:
            missing.append(("delivery", _("Choose the office where you will collect the paper copy.")))
        elif not (office.active and office.accepts_paper_collection):
            missing.append(
                (
                    "delivery",
                    _("Paper copies can no longer be collected at %(office)s; choose another office.")
                    % {"office": office},
                )
            )

    labels = {
        "id_front": _("Upload the front of the ID card."),
        "id_back": _("Upload the back of the ID card."),
        "passport": _("Upload the passport data page."),
        "photo": _("Upload a bareheaded colour photo."),
    }
    for kind in REQUIRED_DOCUMENTS.get(application.holder_id_type, REQUIRED_DOCUMENTS[HolderIdType.RESIDENT_ID]):
        if kind not in kinds:
            missing.append(("documents", labels[kind]))

    if application.declaration_at is None:
        missing.append(("declaration", _("Tick the declaration to confirm that the information is true.")))
    return missing


def _ensure_complete(application: Application, by):
    if not by.contact_confirmed:
        raise ValidationError(
            _("Confirm your e-mail address and mobile number in your profile before you submit."),
            code="contact_unconfirmed",
        )
    ensure_assurance(by, service="certificates")
    missing = application_missing(application=application)
    if missing:
        raise ValidationError([ValidationError(message, code=key) for key, message in missing])


@WORKFLOW.implements("submit")
def application_submit(*, application: Application, by) -> Application:
    """DRAFT -> SUBMITTED once nothing is missing; the citizen gets the case number by e-mail and SMS.

    Submission starts the acceptance clock (NCR_ACCEPTANCE_WORKING_DAYS) and tells the station; the 3 working days
    of the decision start when it accepts (docs/services.md#certificate-of-no-criminal-record).
    """
    WORKFLOW.ensure_may_act(by, application, WORKFLOW["submit"])
    if application.status != Status.DRAFT:
        raise TransitionNotAllowed(_("This application has already been submitted."))
    _ensure_complete(application, by)
    return WORKFLOW.run(
        "submit",
        application,
        by=by,
        checked=True,
        context={"working_days": CLOCK_WORKING_DAYS},
    )


@WORKFLOW.implements("resubmit")
def application_resubmit(*, application: Application, by, reply: str = "") -> Application:
    """INFO_REQUESTED -> ACCEPTED with the amended answers; the clock restarts with the days it had left."""
    WORKFLOW.ensure_may_act(by, application, WORKFLOW["resubmit"])
    if application.status != Status.INFO_REQUESTED:
        raise TransitionNotAllowed(_("No information was requested for this application."))
    _ensure_complete(application, by)
    return WORKFLOW.run("resubmit", application, by=by, checked=True, note=reply, note_fields=("citizen_reply",))


# Steps that do nothing but what their table row declares (certificates/workflow.py).
application_withdraw = WORKFLOW.function("withdraw")
application_accept = WORKFLOW.function("accept")
application_request_info = WORKFLOW.function("request_info")


def application_delete_draft(*, application: Application, by) -> None:
    """Delete a draft, its uploads (files removed after commit) and its timeline."""
    delete_draft(application, by=by)


# --- the officer's steps ---------------------------------------------------------------------------------


@WORKFLOW.implements("approve")
def application_approve(*, application: Application, by, note: str = "", internal_note: str = "") -> Application:
    """ACCEPTED -> APPROVED, refused while the register holds a record that is not sealed.

    Bumps the certificate generation in the same UPDATE and queues the certificate after commit.
    """
    office = WORKFLOW.ensure_may_take("approve", application, by=by)
    blocking = register_blocking(register_matches(id_number=application.holder_id_number))
    if blocking:
        raise TransitionNotAllowed(
            _(
                "The register holds %(count)d record(s) for this ID number that are not sealed, so the certificate "
                "cannot be issued. Refuse the application with a reason instead."
            )
            % {"count": len(blocking)}
        )
    with transaction.atomic():
        WORKFLOW.run(
            "approve",
            application,
            by=by,
            office=office,
            checked=True,
            note=note,
            internal_note=internal_note,
            changes=_decision(certificate_generation=F("certificate_generation") + 1),
        )
        _queue_certificate(application)
    return application


def _decision(**changes) -> dict:
    """What a decision writes besides who decided when (the table's `decides`): that the register was checked."""
    return {"register_checked_at": timezone.now(), **changes}


def _queue_certificate(application: Application):
    from . import tasks

    _on_commit_delay(tasks.generate_certificate, application.pk, application.certificate_generation)


@WORKFLOW.implements("refuse")
def application_refuse(*, application: Application, by, reason: str, internal_note: str = "") -> Application:
    """ACCEPTED or INFO_REQUESTED -> REFUSED with a reason; the refusal notice PDF is generated after commit.

    The notice is an IssuedDocument of its own generation (the generation counter numbers every document
    issued for the application), so the worker's idempotency key works for it exactly as for a certificate.
    """
    with transaction.atomic():
        WORKFLOW.run(
            "refuse",
            application,
            by=by,
            note=reason,
            internal_note=internal_note,
            changes=_decision(certificate_generation=F("certificate_generation") + 1),
        )
        from . import tasks

        _on_commit_delay(tasks.generate_refusal_notice, application.pk, application.certificate_generation)
    return application


def current_certificate(*, application: Application) -> IssuedDocument | None:
    """The certificate of the newest generation (valid, being generated, or revoked), or None."""
    return (
        issued_documents_for_source(application).filter(kind=KIND_CERTIFICATE).select_related("issuing_office").first()
    )


def refusal_notice(*, application: Application) -> IssuedDocument | None:
    return issued_documents_for_source(application).filter(kind=KIND_REFUSAL_NOTICE).first()


EVENT_LABELS = {
    EVENT_REVOKED: gettext_lazy("Certificate revoked"),
    EVENT_PAPER_PRINTED: gettext_lazy("Paper copy printed"),
    EVENT_PAPER_COLLECTED: gettext_lazy("Paper copy collected"),
}


def timeline_entries(application: Application) -> list[dict]:
    """The citizen's timeline: a change of status under its label, any other step under its own (never a second
    "Certificate issued" for a revocation)."""
    entries = []
    for entry in application.public_timeline():  # never the staff-only rows, never an internal note
        if entry.event or entry.from_status == entry.to_status:
            label = EVENT_LABELS.get(entry.event) or VISIT_EVENTS.get(entry.event, gettext_lazy("Update"))
        else:
            label = application.status_label(entry.to_status)
        entries.append({"at": entry.at, "label": label, "note": entry.note})
    return entries


def status_label(application: Application, certificate: IssuedDocument | None):
    """The application's status as the citizen sees it: an issued certificate since revoked says so."""
    if application.status == Status.ISSUED and certificate is not None and certificate.status == DocumentStatus.REVOKED:
        return gettext_lazy("Certificate superseded") if certificate.superseded else gettext_lazy("Certificate revoked")
    return application.get_status_display()


def revoked_certificates(application_ids) -> dict[int, IssuedDocument]:
    """Of these applications, those whose newest certificate is revoked: {application id: that certificate}.

    One query for a whole list (/me/).
    """
    ids = list(application_ids)
    if not ids:
        return {}
    newest: dict[int, IssuedDocument] = {}
    for document in IssuedDocument.objects.filter(
        source_type=ContentType.objects.get_for_model(Application), source_id__in=ids, kind=KIND_CERTIFICATE
    ).only("source_id", "generation", "status", "superseded", "revoked_at", "public_reason"):
        if document.source_id not in newest or document.generation > newest[document.source_id].generation:
            newest[document.source_id] = document
    return {pk: doc for pk, doc in newest.items() if doc.status == DocumentStatus.REVOKED}


def _valid_certificate(application: Application) -> IssuedDocument:
    document = current_certificate(application=application)
    if document is None or document.status != DocumentStatus.VALID:
        raise TransitionNotAllowed(_("This application has no valid certificate."))
    return document


@WORKFLOW.implements("revoke")
def certificate_revoke(
    *, application: Application, by, reason: str, public_reason: str = "", internal_note: str = ""
) -> IssuedDocument:
    """Revoke the issued certificate; the application stays ISSUED, its timeline says so.

    `reason` is internal (staff and the audit trail); `public_reason` is what the applicant, the timeline and every
    verifier are shown (docs/api/verify.md#the-verdict).
    """
    _ensure_may_decide(by, application, "revoke")
    reason = required_text(reason, _("Give the internal reason for the revocation."))
    public_reason = required_text(public_reason, _("Give the reason to show the holder and verifiers."))
    if application.status != Status.ISSUED:
        raise TransitionNotAllowed(_("Only an issued certificate can be revoked."))
    document = _valid_certificate(application)
    with transaction.atomic():
        record_event(
            application,
            by=by,
            office=getattr(by, "office", None),
            event=EVENT_REVOKED,
            note=_("Certificate %(code)s revoked: %(reason)s") % {"code": document.code, "reason": public_reason},
            internal_note=internal_note,
        )
        document = issued_document_revoke(document=document, by=by, reason=reason, public_reason=public_reason)
        _notify(application, "revoked", code=document.code, reason=public_reason)
    return document


@WORKFLOW.implements("reissue")
def certificate_reissue(*, application: Application, by, reason: str, internal_note: str = "") -> Application:
    """Revoke the current certificate and issue a new one (next generation): ISSUED -> APPROVED -> (worker) ISSUED."""
    office = _ensure_may_decide(by, application, "reissue")
    reason = required_text(reason, _("Give the reason for reissuing the certificate."))
    ensure_status(application, (Status.ISSUED,))
    blocking = register_blocking(register_matches(id_number=application.holder_id_number))
    if blocking:
        raise TransitionNotAllowed(
            _(
                "The register now holds a record for this ID number that is not sealed; the certificate cannot be "
                "reissued. Revoke it instead."
            )
        )
    document = current_certificate(application=application)
    with transaction.atomic():
        WORKFLOW.run(
            "reissue",
            application,
            by=by,
            office=office,
            checked=True,
            note=_("Reissue: %(reason)s") % {"reason": reason},
            internal_note=internal_note,
            changes={"register_checked_at": timezone.now(), "certificate_generation": F("certificate_generation") + 1},
        )
        if document is not None and document.status in (DocumentStatus.VALID, DocumentStatus.GENERATING):
            issued_document_revoke(
                document=document,
                by=by,
                reason=_("Replaced by a reissued certificate: %(reason)s") % {"reason": reason},
                superseded=True,
            )
        _queue_certificate(application)
    return application


@WORKFLOW.implements("paper_printed")
def paper_mark_printed(*, application: Application, by, internal_note: str = "") -> Application:
    """The paper copy is printed: the applicant is told where and when to collect it (SMS and e-mail)."""
    _ensure_may_decide(by, application, "paper_printed")
    if application.delivery != Delivery.COLLECT:
        raise TransitionNotAllowed(_("The applicant did not ask for a paper copy to collect."))
    if application.status != Status.ISSUED:
        raise TransitionNotAllowed(_("The paper copy can be printed once the certificate is issued."))
    _ensure_certificate_valid(application)
    if application.paper_printed_at is not None:
        raise TransitionNotAllowed(_("The paper copy is already marked as printed."))
    with transaction.atomic():
        _paper_event(application, by, _("Paper copy printed."), internal_note, EVENT_PAPER_PRINTED, "paper_printed_at")
        office = application.collection_office or application.office
        _notify(application, "paper_ready", office=office)
    return application


@WORKFLOW.implements("paper_collected")
def paper_mark_collected(*, application: Application, by, internal_note: str = "") -> Application:
    _ensure_may_decide(by, application, "paper_collected")
    if application.delivery != Delivery.COLLECT or application.paper_printed_at is None:
        raise TransitionNotAllowed(_("There is no printed paper copy to hand over."))
    if application.paper_collected_at is not None:
        raise TransitionNotAllowed(_("The paper copy is already marked as collected."))
    _ensure_certificate_valid(application)
    _paper_event(
        application,
        by,
        _("Paper copy collected."),
        internal_note,
        EVENT_PAPER_COLLECTED,
        "paper_collected_at",
        guard={"paper_printed_at__isnull": False},
    )
    return application


def _paper_event(application: Application, by, note, internal_note: str, event: str, stamp: str, guard=None) -> None:
    """Record a step of the paper copy on the timeline (the officer's office), stamping `stamp` now, only if it is not
    stamped yet (and `guard` holds): a second officer's click at the same moment changes nothing."""
    record_event(
        application,
        by=by,
        office=getattr(by, "office", None),
        note=note,
        internal_note=internal_note,
        event=event,
        guard={**(guard or {}), f"{stamp}__isnull": True},
        **{stamp: timezone.now()},
    )


def _ensure_certificate_valid(application):
    """A paper copy is only printed or handed over for a certificate that is still valid (not revoked)."""
    certificate = current_certificate(application=application)
    if certificate is None or certificate.status != DocumentStatus.VALID:
        raise TransitionNotAllowed(_("The certificate is not valid (revoked or not yet issued): no paper copy."))


# --- what the review page offers -------------------------------------------------------------------------

ACTIONS = tuple(step.name for step in WORKFLOW.officer_steps())


def available_actions(*, application: Application, certificate: IssuedDocument | None = None) -> list[str]:
    """The officer's actions that make sense in the current state (the services still check everything)."""
    valid = certificate is not None and certificate.status == DocumentStatus.VALID
    return WORKFLOW.available(application, certificate_valid=valid)
