"""Family-planning applications: every step a citizen, an officer or the worker takes, as one function each.

Views, admin pages and tasks call these; none of them sets `status` itself. Every status change goes through
portal.cases.services.transition (a conditional UPDATE: of two officers acting at once one wins, the other gets
TransitionConflict), and the document task is queued with transaction.on_commit.

Issued documents. An application issues at most one document, so its generation is always DOCUMENT_GENERATION
(the IssuedDocument (source, generation) key keeps the worker idempotent). What a service does to a document
issued earlier (catalogue.Effect) is decided by the number the citizen gives on the form, which is the
verification code printed on every document issued here:
- REVOKES (a cancellation): approval revokes that document at once; nothing new is issued.
- EXTENDS (a validation): approval issues a new document whose validity runs on from the old one; once the new
  one is stored the old one is revoked as "superseded by validation", so exactly one of them is valid at a time
  and /verify/ of the old code says so. A paper-era licence (a number that is no portal code) is validated from
  the "valid until" date on the form.
Only a document held by the same account can be revoked or extended this way.
"""

from __future__ import annotations

import calendar
import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.identity import ensure_assurance
from portal.cases.kept import kept_problems
from portal.cases.services import (
    TransitionConflict,
    TransitionError,
    TransitionNotAllowed,
    create_with_case_number,
    delete_draft,
    ensure_applicant,
    ensure_status,
    save_answers,
)
from portal.celery import publish_on_commit
from portal.verify.codes import normalize_code
from portal.verify.issuing import issued_document_revoke, issued_documents_for_source
from portal.verify.models import DocumentStatus, IssuedDocument

from . import catalogue
from .catalogue import DocumentKind, Effect
from .fields import validate_answers
from .models import LINKED_ROLES, FamilyPlanningApplication, NamedPerson, Status
from .workflow import EDITABLE, WITHDRAWABLE, WORKFLOW, concerns

logger = logging.getLogger("familyplanning")

DOCUMENT_GENERATION = 1
# The answer that names the earlier document a cancellation or validation is about.
NUMBER_FIELDS = ("certificate_number", "licence_number")
# Months a document is valid from its issue (None: until revoked). A validation adds the same period again.
VALIDITY_MONTHS = {
    DocumentKind.BIRTH_SERVICE_CERTIFICATE: None,
    DocumentKind.ONLY_CHILD_CERTIFICATE: None,
    DocumentKind.FLOATING_POPULATION_CERTIFICATE: 36,
    DocumentKind.PRACTICE_LICENCE: 12,
    DocumentKind.QUALIFICATION_CERTIFICATE: 36,
}

__all__ = [
    "DOCUMENT_GENERATION",
    "EDITABLE",
    "WITHDRAWABLE",
    "TransitionConflict",
    "TransitionError",
    "TransitionNotAllowed",
    "affected_document",
    "answers_problems",
    "available_actions",
    "current_document",
    "document_kind_code",
    "document_valid_until",
    "fp_accept",
    "fp_approve",
    "fp_create_draft",
    "fp_delete_draft",
    "fp_offices",
    "fp_refuse",
    "fp_request_info",
    "fp_resubmit",
    "fp_save_answers",
    "fp_submit",
    "fp_withdraw",
]


# --- helpers -------------------------------------------------------------------------------------------


def document_kind_code(kind: str) -> str:
    """IssuedDocument.kind of a family-planning document (prefixed: kinds are shared by every service)."""
    return f"fp_{kind}"


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Same day `months` later; the month's last day when that day does not exist."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def is_own_case(user, application: FamilyPlanningApplication) -> bool:
    """The user applied, or is one of the people the application names: staff never decide on it."""
    return concerns(user, application)


def _notify(application: FamilyPlanningApplication, template: str, **context):
    WORKFLOW.tell_applicant(application, template, **context)


def _complete_answers(application: FamilyPlanningApplication, by) -> dict:
    """The answers, checked in full against the service's form; ValidationError lists what is wrong."""
    if not by.contact_confirmed:
        raise ValidationError(
            _("Confirm your e-mail address and mobile number in your profile before you submit."),
            code="contact_unconfirmed",
        )
    ensure_assurance(by, service="familyplanning")
    if application.declaration_at is None:
        raise ValidationError(_("Tick the declaration to confirm that the information is true."), code="declaration")
    kept = [message for _page, message in kept_problems(application)]
    if kept:
        raise ValidationError(kept, code="kept_inputs")
    # A draft is sent with its addresses in parts; an application sent before addresses had parts keeps its line.
    return validate_answers(
        application.service_def.form, application.answers, one_line_addresses=application.status != Status.DRAFT
    )


# --- documents -----------------------------------------------------------------------------------------


def current_document(*, application: FamilyPlanningApplication) -> IssuedDocument | None:
    """The document this application issued (valid, being generated or revoked), or None."""
    return issued_documents_for_source(application).select_related("issuing_office").first()


def affected_document(*, application: FamilyPlanningApplication) -> IssuedDocument | None:
    """The earlier document a cancellation or validation names (by its code), held by the same account."""
    service = application.service_def
    if service.effect == Effect.NONE:
        return None
    for name in NUMBER_FIELDS:
        code = normalize_code(str(application.answers.get(name) or ""))
        if code:
            return (
                IssuedDocument.objects.filter(
                    code=code, kind=document_kind_code(service.affects), holder_id=application.applicant_id
                )
                .select_related("issuing_office")
                .first()
            )
    return None


def document_valid_until(
    *, application: FamilyPlanningApplication, issued_on: datetime.date, previous: IssuedDocument | None = None
) -> datetime.date | None:
    """The last day the document this application issues is valid.

    A first issue runs VALIDITY_MONTHS from its issue; a validation runs the same period on from the end of the
    earlier validity (the earlier document's, or for a paper-era one the date on the form), never from the past.
    """
    service = application.service_def
    kind = service.affects if service.effect == Effect.EXTENDS else service.issues
    months = VALIDITY_MONTHS.get(kind)
    if months is None:
        return None
    if service.effect != Effect.EXTENDS:
        return add_months(issued_on, months) - datetime.timedelta(days=1)
    base = previous.valid_until if previous is not None else None
    if base is None:
        answered = application.answers.get("valid_until")
        base = datetime.date.fromisoformat(answered) if answered else None
    start = base + datetime.timedelta(days=1) if base and base >= issued_on else issued_on
    return add_months(start, months) - datetime.timedelta(days=1)


def issues_document(application: FamilyPlanningApplication) -> bool:
    """Approval makes a new document: a first issue or a validation; a cancellation only revokes."""
    return application.issues_document


def issued_kind(application: FamilyPlanningApplication) -> str:
    service = application.service_def
    return service.issues or service.affects


# --- the citizen's steps ---------------------------------------------------------------------------------


def fp_create_draft(*, applicant, service_key: str, office) -> FamilyPlanningApplication:
    """A new draft of `service_key` at `office` (a family-planning office), with its case number."""
    service = catalogue.get_service(service_key)  # KeyError for an unknown service
    _ensure_fp_office(office)
    application = create_with_case_number(
        FamilyPlanningApplication,
        FamilyPlanningApplication.CASE_PREFIX,
        applicant=applicant,
        office=office,
        status=Status.DRAFT,
        service=service.key,
        form_version=service.form.version,
    )
    logger.info("family-planning draft %s (%s) created by user %s", application.case_number, service.key, applicant.pk)
    return application


def fp_offices():
    """The offices a citizen may apply to: the active health and family-planning offices."""
    from accounts.models import Office

    return Office.objects.filter(active=True, kind=Office.Kind.FAMILY_PLANNING).order_by("division_code", "name")


def _ensure_fp_office(office) -> None:
    if office is None or not fp_offices().filter(pk=office.pk).exists():
        raise ValidationError(_("Choose a health and family-planning office from the list."), code="office")


def fp_save_answers(
    *, application: FamilyPlanningApplication, by, answers: dict, office=None
) -> FamilyPlanningApplication:
    """Keep the answers of a draft, or of an application the office asked to amend: incomplete is fine, wrong is
    not (validate_answers with partial=True). A draft may also move to another office.

    A conditional UPDATE on the status read: if the case moved on meanwhile (the office acted, another tab
    submitted), nothing is written and TransitionConflict says so.
    """
    ensure_applicant(by, application)
    ensure_status(application, EDITABLE)
    form = application.service_def.form
    fields = {"answers": validate_answers(form, answers, partial=True), "form_version": form.version}
    if office is not None and office.pk != application.office_id:
        if application.status != Status.DRAFT:
            raise TransitionNotAllowed(_("The office cannot be changed once the application is submitted."))
        _ensure_fp_office(office)
        fields["office"] = office
    with transaction.atomic():
        saved = save_answers(
            application,
            allowed=EDITABLE,
            conflict=_("Application %(number)s was changed a moment ago. Reload it and check before saving."),
            **fields,
        )
        link_named_people(saved)
    return saved


def link_named_people(application: FamilyPlanningApplication) -> None:
    """Record whom the answers name by resident ID number (models.NamedPerson), replacing what an earlier save
    recorded: a spouse, parent or holder with a verified account then finds the application's documents in their
    own wallet (documents_naming)."""
    named = {
        role: person["id_number"]
        for role in LINKED_ROLES
        if isinstance(person := (application.answers or {}).get(role), dict) and person.get("id_number")
    }
    NamedPerson.objects.filter(application=application).delete()
    NamedPerson.objects.bulk_create(
        NamedPerson(application=application, role=role, id_number=number) for role, number in named.items()
    )


def documents_naming(user) -> list[int]:
    """The documents issued for applications of someone else that name `user` by their resident ID number: only for
    an account whose identity is verified (an ID number typed at registration proves nothing)."""
    from django.contrib.contenttypes.models import ContentType

    from accounts.models import VERIFIED_LEVELS

    if not getattr(user, "is_authenticated", False) or not user.id_number:
        return []
    if user.assurance_level not in VERIFIED_LEVELS:
        return []
    applications = NamedPerson.objects.filter(id_number=user.id_number).values("application_id")
    return list(
        IssuedDocument.objects.filter(
            source_type=ContentType.objects.get_for_model(FamilyPlanningApplication), source_id__in=applications
        )
        .exclude(holder=user)
        .values_list("pk", flat=True)
    )


def answers_problems(application: FamilyPlanningApplication) -> dict[str, list[str]]:
    """What still stops submission, per online-form field ("" for the form as a whole); empty when complete.

    Answers typed into the draft but not right yet (portal.cases.kept) come first, for the form as a whole.
    """
    kept = [message for _page, message in kept_problems(application)]
    try:
        validate_answers(
            application.service_def.form, application.answers, one_line_addresses=application.status != Status.DRAFT
        )
    except ValidationError as exc:
        problems = {
            ("" if name in ("answers", "__all__") else name): messages for name, messages in exc.message_dict.items()
        }
        if kept:
            problems[""] = kept + problems.get("", [])
        return problems
    return {"": kept} if kept else {}


def fp_delete_draft(*, application: FamilyPlanningApplication, by) -> None:
    """The applicant deletes a draft (never a submitted application); its uploads and timeline go with it."""
    delete_draft(application, by=by)


@WORKFLOW.implements("submit")
def fp_submit(*, application: FamilyPlanningApplication, by) -> FamilyPlanningApplication:
    """DRAFT -> SUBMITTED with complete answers; the citizen gets the case number by e-mail and SMS, the office a
    message that a case has arrived.

    Submission starts the acceptance clock (FAMILYPLANNING_ACCEPTANCE_WORKING_DAYS); the service's time limit starts
    when the office accepts (docs/architecture.md#cases-transitions-and-deadlines).
    """
    return _send_answers(
        "submit",
        application,
        by=by,
        context={"time_limit": application.service_def.guide.time_limit},
        office_context={"service_title": application.service_def.title},
    )


@WORKFLOW.implements("resubmit")
def fp_resubmit(*, application: FamilyPlanningApplication, by, reply: str = "") -> FamilyPlanningApplication:
    """INFO_REQUESTED -> ACCEPTED with the amended answers; the clock restarts with the days it had left."""
    return _send_answers("resubmit", application, by=by, note=reply)


def _send_answers(step: str, application: FamilyPlanningApplication, *, by, **kwargs) -> FamilyPlanningApplication:
    """The applicant's step that sends the answers: who acts and the status first, then the answers, complete (or a
    ValidationError naming what is missing), written with their form version in the step's UPDATE."""
    WORKFLOW.ensure_may_take(step, application, by=by)
    answers = _complete_answers(application, by)
    return WORKFLOW.run(
        step,
        application,
        by=by,
        checked=True,
        changes={"answers": answers, "form_version": application.service_def.form.version},
        **kwargs,
    )


# Steps that do nothing but what their table row declares (familyplanning/workflow.py).
fp_withdraw = WORKFLOW.function("withdraw")
fp_accept = WORKFLOW.function("accept")
fp_request_info = WORKFLOW.function("request_info")
fp_refuse = WORKFLOW.function("refuse")


# --- the officer's steps ---------------------------------------------------------------------------------


@WORKFLOW.implements("approve")
def fp_approve(
    *, application: FamilyPlanningApplication, by, note: str = "", internal_note: str = ""
) -> FamilyPlanningApplication:
    """ACCEPTED -> APPROVED. A service that issues a document queues it (the worker then moves the case to
    ISSUED); a cancellation revokes the document it names at once; other services end here."""
    office = WORKFLOW.ensure_may_take("approve", application, by=by)
    service = application.service_def
    target = affected_document(application=application)
    if service.effect == Effect.EXTENDS and target is not None and target.status != DocumentStatus.VALID:
        raise TransitionNotAllowed(
            _("Document %(code)s is no longer valid and cannot be validated. Refuse the application instead.")
            % {"code": target.code}
        )
    notes = [(note or "").strip()]
    if service.effect == Effect.REVOKES:
        if target is not None and target.status == DocumentStatus.VALID:
            notes.append(_("Document %(code)s revoked.") % {"code": target.code})
        else:
            notes.append(_("No valid electronic document with this number: nothing to revoke."))
    with transaction.atomic():
        WORKFLOW.run(
            "approve",
            application,
            by=by,
            office=office,
            checked=True,
            note="\n".join(n for n in notes if n),
            internal_note=internal_note,
        )
        if service.effect == Effect.REVOKES and target is not None and target.status == DocumentStatus.VALID:
            issued_document_revoke(
                document=target,
                by=by,
                reason=_("Cancelled on application %(number)s.") % {"number": application.case_number},
                public_reason=_("Cancelled at the holder's request."),
            )
        if issues_document(application):
            from . import tasks

            publish_on_commit(tasks.generate_document, application.pk, DOCUMENT_GENERATION)
        else:
            _notify(application, "approved")
    return application


# --- what the review page offers -------------------------------------------------------------------------


def available_actions(*, application: FamilyPlanningApplication) -> list[str]:
    """The officer's actions that make sense in the current state (the services still check everything)."""
    return WORKFLOW.available(application)
