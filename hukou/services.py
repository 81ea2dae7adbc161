"""One-stop hukou migration: every step of the workflow table (hukou.workflow) as one function, for views and admin.

None of these sets `status` itself: each step goes through portal.cases.services.transition with the step's
`allowed_from` (a conditional UPDATE, so of two officers acting at once one wins and the other gets
TransitionConflict). Each office step may be taken only by staff of the office acting in the current state
(MigrationApplication.acting_office), never on their own move; the eligibility rules are checked again when the
case is submitted, accepted, forwarded and approved, with ages on the day of application.
"""

from __future__ import annotations

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import idnumber
from accounts.identity import ensure_assurance
from accounts.models import Office
from portal.cases.services import (
    TransitionConflict,
    TransitionError,
    TransitionNotAllowed,
    create_with_case_number,
    delete_draft,
    ensure_applicant,
    ensure_status,
    next_serial_number,
    record_event,
    required_text,
)
from portal.cases.workflow import ensure_staff_may_act
from portal.documents.models import Document
from portal.documents.services import document_attach, documents_delete, documents_for_case, documents_move_office

from . import rules
from .constants import (
    EDITABLE_STATUSES,
    UPLOAD_KINDS,
    Category,
    DocumentKind,
    Education,
    MaritalStatus,
    Status,
)
from .models import MigrationApplication, Mover, OriginMember, PostSettlementCheck
from .workflow import WORKFLOW, concerns

logger = logging.getLogger("hukou")

PERMIT_PREFIX = "ZQ"  # 准迁证
MIGRATION_CERTIFICATE_PREFIX = "QY"  # 迁移证

__all__ = [
    "TransitionConflict",
    "TransitionError",
    "TransitionNotAllowed",
    "application_day",
    "available_actions",
    "hukou_accept",
    "hukou_add_documents",
    "hukou_approve",
    "hukou_create_draft",
    "hukou_delete_draft",
    "hukou_forward",
    "hukou_missing",
    "hukou_record_post_settlement_check",
    "hukou_refuse",
    "hukou_register_emigration",
    "hukou_report_problem",
    "hukou_request_info",
    "hukou_resend",
    "hukou_resubmit",
    "hukou_save_answers",
    "hukou_save_authorisations",
    "hukou_save_movers",
    "hukou_save_staying",
    "hukou_settle",
    "hukou_submit",
    "hukou_switch_to_paper",
    "hukou_withdraw",
    "is_own_case",
    "municipal_office_for",
    "municipal_office_required",
    "rule_violations",
]


# --- helpers -------------------------------------------------------------------------------------------


def application_day(application: MigrationApplication) -> datetime.date:
    """The day of application: ages in the rules are taken on it (today for a draft)."""
    if application.submitted_at:
        return timezone.localdate(application.submitted_at)
    return timezone.localdate()


def rule_violations(application: MigrationApplication) -> list[rules.RuleViolation]:
    return rules.check_application(application, on=application_day(application))


def _ensure_rules(application: MigrationApplication):
    violations = rule_violations(application)
    if violations:
        raise ValidationError([ValidationError(v.message, code=v.code) for v in violations])


def is_own_case(user, application: MigrationApplication) -> bool:
    """The user applies, moves or receives the movers: staff never decide on such a case."""
    return concerns(user, application)


def _ensure_officer(by, application: MigrationApplication, office=None):
    """`by` is active staff whose scope covers the office acting now (or `office`); not their own case.

    Returns the office the step is taken for (it goes on the timeline).
    """
    return ensure_staff_may_act(by, application, office=office, workflow=WORKFLOW)


def _ensure_status(application: MigrationApplication, step: str):
    """Checked before work that needs the right state (the clock, the rules); transition() checks again, atomically."""
    ensure_status(application, WORKFLOW[step].allowed_from)


def _notify(application: MigrationApplication, template: str, **context):
    """SMS and e-mail to the applicant (the template decides which parts exist)."""
    WORKFLOW.tell_applicant(application, template, **context)


def _note_event(application: MigrationApplication, *, by, office, note: str, internal_note: str = ""):
    """A timeline row for a step that does not change the status (the post-settlement check)."""
    record_event(application, by=by, office=office, note=note, internal_note=internal_note)


# --- the applicant's steps -----------------------------------------------------------------------------


# Answers the citizen gives in the sections; workflow fields are written only by the steps below.
CITIZEN_FIELDS = frozenset(
    {
        "category",
        "category_explanation",
        "office",
        "destination_address",
        "destination_collective",
        "collective_household_name",
        "receiving_householder_name",
        "receiving_householder_id_number",
        "receiving_relation",
        "receiving_party",
        "receiving_family_member_name",
        "receiving_family_member_id_number",
        "receiving_family_member_relation",
        "receiving_present",
        "origin_address",
        "origin_office",
        "origin_head_name",
        "origin_head_id_number",
    }
)
MOVER_FIELDS = frozenset(
    {"name", "id_number", "relation", "is_applicant", "present", "guardian_present", "guardian_name"}
)
STAYING_FIELDS = frozenset({"name", "id_number", "birth_date", "relation", "is_new_head"})


def municipal_office_for(station: Office) -> Office | None:
    """The municipal household administration of the city `station` belongs to: it approves moves into that city."""
    city = station.city() if station is not None else None
    if city is None:
        return None
    return (
        Office.objects.filter(kind=Office.Kind.HOUSEHOLD_ADMIN, active=True, path__startswith=city.path)
        .order_by("pk")
        .first()
    )


def municipal_office_required(station: Office) -> Office:
    """municipal_office_for(station), or a ValidationError saying in plain words why the station cannot be chosen."""
    municipal = municipal_office_for(station)
    if municipal is None:
        raise ValidationError(
            _(
                "Moves to the area of %(station)s cannot be applied for online yet, because no municipal household "
                "administration there takes part. Apply at the counter of the police station."
            )
            % {"station": station},
            code="no_municipal_office",
        )
    return municipal


def hukou_create_draft(*, applicant, category: str, office: Office) -> MigrationApplication:
    """A new draft at the move-in police station `office`, with a case number; its city's administration approves."""
    if category not in Category.values:
        raise ValidationError(_("Choose the category of your move."), code="category")
    if office is None or office.kind != Office.Kind.POLICE_STATION or not office.active:
        raise ValidationError(_("Choose the police station of the place you move to."), code="office")
    municipal = municipal_office_required(office)
    application = create_with_case_number(
        MigrationApplication,
        MigrationApplication.CASE_PREFIX,
        applicant=applicant,
        office=office,
        municipal_office=municipal,
        category=category,
        status=Status.DRAFT,
    )
    logger.info("hukou draft %s created by user %s", application.case_number, applicant.pk)
    return application


def _ensure_editable(application: MigrationApplication, by):
    ensure_applicant(by, application)
    if application.status not in EDITABLE_STATUSES:
        raise TransitionNotAllowed(
            _("Application %(number)s is “%(status)s” and can no longer be changed.")
            % {"number": application.case_number, "status": application.status_label()}
        )


def _touch(application: MigrationApplication, **fields):
    """Inside a transaction: write `fields` only if the case is still in the status it was read with.

    An officer acting at the same moment either sees the answers before its step or makes this fail; the row
    lock the UPDATE takes keeps the two apart until commit.
    """
    now = timezone.now()
    updated = MigrationApplication.objects.filter(pk=application.pk, status=application.status).update(
        updated_at=now, **fields
    )
    if updated != 1:
        raise TransitionConflict(
            _("Application %(number)s was changed a moment ago. Reload the page and check it.")
            % {"number": application.case_number}
        )
    for name, value in fields.items():
        setattr(application, name, value)
    application.updated_at = now


def hukou_save_answers(*, application: MigrationApplication, by, fields: dict, documents=()) -> MigrationApplication:
    """Save a section's answers (only CITIZEN_FIELDS) and attach its uploads, while the citizen may still edit.

    The move-in station can be changed only in a draft; its city's household administration comes with it, and the
    uploads follow it (portal.documents keeps each document's office for the staff's scoping).
    """
    _ensure_editable(application, by)
    unknown = set(fields) - CITIZEN_FIELDS
    if unknown:
        raise ValueError(f"not a citizen's answer: {sorted(unknown)}")
    fields = dict(fields)
    for name in ("receiving_householder_id_number", "receiving_family_member_id_number", "origin_head_id_number"):
        if fields.get(name):
            fields[name] = idnumber.parse(fields[name]).number
    new_office = fields.get("office")
    office_changes = new_office is not None and new_office.pk != application.office_id
    if office_changes:
        if application.status != Status.DRAFT:
            raise TransitionNotAllowed(_("The move-in police station cannot be changed after submission."))
        fields["municipal_office"] = municipal_office_required(new_office)
    with transaction.atomic():
        _touch(application, **fields)
        if office_changes:
            documents_move_office(case=application, office=new_office)
        for document in documents:
            if document is not None:
                document_attach(document=document, case=application)
    return application


def _normalised_rows(rows, allowed: frozenset) -> list[dict]:
    cleaned = []
    for row in rows:
        unknown = set(row) - allowed
        if unknown:
            raise ValueError(f"not a person's field: {sorted(unknown)}")
        row = dict(row)
        if row.get("id_number"):
            row["id_number"] = idnumber.parse(row["id_number"]).number
        cleaned.append(row)
    numbers = [row["id_number"] for row in cleaned if row.get("id_number")]
    if len(numbers) != len(set(numbers)):
        raise ValidationError(_("The same ID number is given for two people."), code="duplicate_id_number")
    return cleaned


def hukou_save_movers(*, application: MigrationApplication, by, movers) -> list[Mover]:
    """Replace the people moving with `movers` (dicts of MOVER_FIELDS, in booklet order).

    A person already listed (same ID number) keeps their record and their power of attorney; people left out are
    removed. Sex and date of birth come from the ID number (Mover.save).
    """
    _ensure_editable(application, by)
    rows = _normalised_rows(movers, MOVER_FIELDS)
    if any(not (row.get("name") or "").strip() or not row.get("id_number") for row in rows):
        raise ValidationError(_("Give the name and ID number of each person moving."), code="incomplete")
    saved = []
    with transaction.atomic():
        _touch(application)
        existing = {m.id_number: m for m in application.movers.all()}
        for position, row in enumerate(rows):
            mover = existing.get(row.get("id_number")) or Mover(application=application)
            for name, value in row.items():
                setattr(mover, name, value)
            mover.position = position
            mover.save()
            saved.append(mover)
        application.movers.exclude(pk__in=[m.pk for m in saved]).delete()
    return saved


def hukou_save_staying(*, application: MigrationApplication, by, fields: dict, staying) -> list[OriginMember]:
    """Save the origin household (`fields`) and replace the members who stay with `staying` (dicts of STAYING_FIELDS).

    At most one of them is the new head of household; a child may be given by date of birth alone.
    """
    rows = _normalised_rows(staying, STAYING_FIELDS)
    if sum(1 for row in rows if row.get("is_new_head")) > 1:
        raise ValidationError(_("Name only one new head of household."), code="new_head_ambiguous")
    for row in rows:
        if not row.get("id_number") and not row.get("birth_date"):
            raise ValidationError(
                _("Give the ID number or the date of birth of %(name)s.") % {"name": row.get("name") or "?"},
                code="birth_date",
            )
    with transaction.atomic():
        hukou_save_answers(application=application, by=by, fields=fields)
        application.staying_members.all().delete()
        members = [OriginMember(application=application, position=position, **row) for position, row in enumerate(rows)]
        for member in members:
            member.save()  # not bulk_create: save() derives sex and date of birth from the ID number
    return members


def hukou_save_authorisations(
    *,
    application: MigrationApplication,
    by,
    movers: dict | None = None,
    receiving_power_of_attorney: Document | None = None,
    householder_consent: Document | None = None,
) -> MigrationApplication:
    """Attach powers of attorney (`movers`: Mover pk -> Document) and the receiving householder's consent."""
    _ensure_editable(application, by)
    movers = {pk: document for pk, document in (movers or {}).items() if document is not None}
    known = set(application.movers.filter(pk__in=movers).values_list("pk", flat=True))
    if set(movers) - known:
        raise TransitionNotAllowed(_("This person is not part of this move."))
    fields = {}
    if receiving_power_of_attorney is not None:
        fields["receiving_power_of_attorney"] = receiving_power_of_attorney
    if householder_consent is not None:
        fields["householder_consent"] = householder_consent
    with transaction.atomic():
        _touch(application, **fields)
        for document in (*movers.values(), *fields.values()):
            document_attach(document=document, case=application)
        for pk, document in movers.items():
            Mover.objects.filter(pk=pk, application=application).update(power_of_attorney=document)
    return application


def hukou_add_documents(*, application: MigrationApplication, by, documents=(), remove=()) -> MigrationApplication:
    """Attach new uploads (ID cards, booklet pages, category materials) and, in a draft, delete the ones in `remove`.

    Files already sent to the police station stay with the case: after submission uploads can only be added.
    """
    _ensure_editable(application, by)
    remove = list(remove)
    if remove and application.status != Status.DRAFT:
        raise TransitionNotAllowed(
            _("Files already sent to the police station stay with the application; you can add new ones.")
        )
    own = documents_for_case(application).filter(kind__in=UPLOAD_KINDS)
    if remove and own.filter(pk__in=[d.pk for d in remove]).count() != len({d.pk for d in remove}):
        raise TransitionNotAllowed(_("This file is not part of this application."))
    with transaction.atomic():
        _touch(application)
        for document in documents:
            if document is not None:
                document_attach(document=document, case=application)
        if remove:
            documents_delete(remove)
    return application


def hukou_delete_draft(*, application: MigrationApplication, by) -> None:
    """Delete a draft with its people, uploads (the files after commit) and timeline."""
    delete_draft(application, by=by)


def _missing_people(application: MigrationApplication) -> list[tuple[str, str]]:
    missing = []
    movers = list(application.movers.all())
    staying = list(application.staying_members.all())
    for mover in movers:
        if not mover.relation:
            missing.append(
                ("movers", _("Give the relation of %(name)s to the head of household.") % {"name": mover.name})
            )
    for member in staying:
        if not member.relation:
            missing.append(
                ("origin", _("Give the relation of %(name)s to the head of household.") % {"name": member.name})
            )
    moving_numbers = {m.id_number for m in movers}
    for member in staying:
        if member.id_number and member.id_number in moving_numbers:
            missing.append(
                (
                    "origin",
                    _("%(name)s is listed both as moving and as staying: remove them from those who stay.")
                    % {"name": member.name},
                )
            )
    head = next((m for m in movers if m.is_head), None)
    if head and application.origin_head_id_number and head.id_number != application.origin_head_id_number:
        missing.append(
            (
                "origin",
                _(
                    "%(name)s moves as the head of household, but another person is given as head of the household "
                    "you leave. Correct one of them."
                )
                % {"name": head.name},
            )
        )
    if not head and any(m.is_new_head for m in staying):
        missing.append(("origin", _("A new head of household is named only when the head of household moves out.")))
    return missing


def hukou_missing(*, application: MigrationApplication) -> list[tuple[str, str]]:
    """(section, message) for what must still be given before submission, besides the eligibility rules.

    The sections are those of the citizen's pages: destination, movers, origin, authorisations, documents and
    declaration.
    """
    missing = []
    if not application.municipal_office_id:
        missing.append(("destination", _("Choose a move-in police station whose city handles moves online.")))
    if not application.destination_address.strip():
        missing.append(("destination", _("Enter the address you move to.")))
    if application.destination_collective and not application.collective_household_name.strip():
        missing.append(("destination", _("Enter the name of the collective household you move into.")))
    if application.category == Category.JOIN_RELATIVES and not application.receiving_relation:
        missing.append(
            ("destination", _("Give how the people moving are related to the head of the household you join."))
        )
    if not application.origin_office_id:
        missing.append(("origin", _("Choose the police station of the household you leave.")))
    if not application.origin_address.strip():
        missing.append(("origin", _("Enter the address of the household you leave.")))
    if not (application.origin_head_name.strip() and application.origin_head_id_number):
        missing.append(("origin", _("Give the name and ID number of the head of the household you leave.")))
    missing += _missing_people(application)
    kinds = set(documents_for_case(application).values_list("kind", flat=True))
    labels = {
        DocumentKind.ID_CARD: _("Upload the ID cards of the people moving."),
        DocumentKind.BOOKLET: _("Upload the pages of the Household Register Booklet."),
        DocumentKind.EVIDENCE: _("Upload the materials for your category of move."),
    }
    missing += [("documents", labels[kind]) for kind in UPLOAD_KINDS if kind not in kinds]
    if application.declaration_at is None:
        missing.append(("declaration", _("Tick the declaration to confirm that the information is true.")))
    return missing


@WORKFLOW.implements("submit")
def hukou_submit(*, application: MigrationApplication, by) -> MigrationApplication:
    """DRAFT -> SUBMITTED once complete and eligible today; the move-in station gets it in its inbox."""
    ensure_applicant(by, application)
    _ensure_status(application, "submit")
    if not by.contact_confirmed:
        raise ValidationError(
            _("Confirm your e-mail address and mobile number in your profile before you submit."),
            code="contact_unconfirmed",
        )
    ensure_assurance(by, service="hukou")
    problems = [ValidationError(m, code="missing") for _section, m in hukou_missing(application=application)]
    problems += [
        ValidationError(v.message, code=v.code) for v in rules.check_application(application, on=timezone.localdate())
    ]
    if problems:
        raise ValidationError(problems)
    return WORKFLOW.run("submit", application, by=by, checked=True)


# The applicant withdraws before the Permit to Move In is issued; the clock stops (hukou/workflow.py).
hukou_withdraw = WORKFLOW.function("withdraw")


@WORKFLOW.implements("resubmit")
def hukou_resubmit(*, application: MigrationApplication, by, reply: str = "") -> MigrationApplication:
    """INFO_REQUESTED -> the step the request was made in; its clock resumes with the working days it had left."""
    ensure_applicant(by, application)
    _ensure_status(application, "resubmit")
    back_to = application.info_requested_in or Status.ACCEPTED
    _ensure_rules(application)
    return WORKFLOW.run(
        "resubmit",
        application,
        by=by,
        checked=True,
        to=back_to,
        note=reply,
        changes={"info_requested_in": ""},
    )


# --- the move-in station ---------------------------------------------------------------------------------


def _office_step(name: str, application: MigrationApplication, *, by, rules_apply: bool = False, **kwargs):
    """An office step: who may act and the status first, then (where the step needs it) the eligibility rules."""
    office = _ensure_officer(by, application)
    _ensure_status(application, name)
    if rules_apply:
        _ensure_rules(application)
    return WORKFLOW.run(name, application, by=by, office=office, checked=True, **kwargs), office


@WORKFLOW.implements("accept")
def hukou_accept(
    *, application: MigrationApplication, by, note: str = "", internal_note: str = ""
) -> MigrationApplication:
    """SUBMITTED -> ACCEPTED: the 20 working days for approval of the Permit to Move In start today (day 0)."""
    _office_step(
        "accept",
        application,
        by=by,
        rules_apply=True,
        note=note,
        internal_note=internal_note,
        changes={"accepted_at": timezone.now()},
    )
    return application


@WORKFLOW.implements("request_info")
def hukou_request_info(
    *, application: MigrationApplication, by, message: str, internal_note: str = ""
) -> MigrationApplication:
    """ACCEPTED or FORWARDED -> INFO_REQUESTED: the clock pauses with the working days left."""
    office = _ensure_officer(by, application)
    return WORKFLOW.run(
        "request_info",
        application,
        by=by,
        office=office,
        checked=True,
        note=message,
        internal_note=internal_note,
        changes={"info_requested_in": application.status},
        context={"requesting_office": office},
    )


@WORKFLOW.implements("forward")
def hukou_forward(
    *, application: MigrationApplication, by, note: str = "", internal_note: str = ""
) -> MigrationApplication:
    """ACCEPTED -> FORWARDED to the municipal household administration; the 20-day clock of acceptance runs on."""
    _office_step(
        "forward",
        application,
        by=by,
        rules_apply=True,
        note=note,
        internal_note=internal_note,
        changes={"forwarded_at": timezone.now()},
        context={"municipal_office": application.municipal_office},
    )
    return application


@WORKFLOW.implements("refuse")
def hukou_refuse(
    *, application: MigrationApplication, by, reason: str, internal_note: str = ""
) -> MigrationApplication:
    """The move-in station (before or after approval was asked for) or the municipal administration refuses."""
    office = _ensure_officer(by, application)
    return WORKFLOW.run(
        "refuse",
        application,
        by=by,
        office=office,
        checked=True,
        note=reason,
        internal_note=internal_note,
        context={"deciding_office": office},
    )


# --- the municipal household administration -------------------------------------------------------------


@WORKFLOW.implements("approve")
def hukou_approve(
    *, application: MigrationApplication, by, note: str = "", internal_note: str = ""
) -> MigrationApplication:
    """FORWARDED -> APPROVED: the Permit to Move In is issued and the move-out station's 5 working days start."""
    office = _ensure_officer(by, application)
    _ensure_status(application, "approve")
    _ensure_rules(application)
    permit = next_serial_number(PERMIT_PREFIX)
    return WORKFLOW.run(
        "approve",
        application,
        by=by,
        office=office,
        checked=True,
        internal_note=internal_note,
        note=_("Permit to Move In %(number)s issued.") % {"number": permit}
        + (f"\n{note.strip()}" if (note or "").strip() else ""),
        changes={"permit_number": permit, "permit_issued_at": timezone.now()},
        context={"permit_number": permit, "origin_office": application.origin_office},
    )


# --- the move-out station --------------------------------------------------------------------------------


@WORKFLOW.implements("register_emigration")
def hukou_register_emigration(
    *,
    application: MigrationApplication,
    by,
    emigrated_on: datetime.date | None = None,
    note: str = "",
    internal_note: str = "",
) -> MigrationApplication:
    """APPROVED -> EMIGRATED: the emigration is registered and the Migration Certificate data go back.

    The move-in station's 5 working days for settlement start on the confirmation.
    """
    office = _ensure_officer(by, application)
    _ensure_status(application, "register_emigration")
    today = timezone.localdate()
    emigrated_on = emigrated_on or today
    if emigrated_on > today:
        raise ValidationError(_("The emigration cannot be registered on a future day."), code="future")
    if application.permit_issued_at and emigrated_on < timezone.localdate(application.permit_issued_at):
        raise ValidationError(
            _("The emigration cannot be registered before the Permit to Move In was issued."), code="before_permit"
        )
    certificate = next_serial_number(MIGRATION_CERTIFICATE_PREFIX)
    note = (note or "").strip()
    return WORKFLOW.run(
        "register_emigration",
        application,
        by=by,
        office=office,
        checked=True,
        internal_note=internal_note,
        note=_("Emigration registered on %(day)s; Migration Certificate %(number)s.")
        % {"day": emigrated_on.isoformat(), "number": certificate}
        + (f"\n{note}" if note else ""),
        changes={
            "migration_certificate_number": certificate,
            "emigrated_on": emigrated_on,
            "emigration_note": note,
            "emigrated_at": timezone.now(),
            "problem_report": "",
        },
        context={"certificate_number": certificate, "origin_office": office},
    )


@WORKFLOW.implements("report_problem")
def hukou_report_problem(
    *, application: MigrationApplication, by, problem: str, internal_note: str = ""
) -> MigrationApplication:
    """APPROVED -> RETURNED: the origin record does not match; the move-in station must resolve it."""
    office = _ensure_officer(by, application)
    return WORKFLOW.run(
        "report_problem",
        application,
        by=by,
        office=office,
        checked=True,
        note=problem,
        internal_note=internal_note,
        context={"origin_office": office},
    )


@WORKFLOW.implements("resend")
def hukou_resend(*, application: MigrationApplication, by, note: str, internal_note: str = "") -> MigrationApplication:
    """RETURNED -> APPROVED: the move-in station resolved the problem; the move-out station gets 5 new days."""
    office = _ensure_officer(by, application)
    return WORKFLOW.run(
        "resend",
        application,
        by=by,
        office=office,
        checked=True,
        note=note,
        internal_note=internal_note,
        context={"origin_office": application.origin_office},
    )


# --- settlement, the paper fallback and the post-settlement check ---------------------------------------


@WORKFLOW.implements("settle")
def hukou_settle(
    *,
    application: MigrationApplication,
    by,
    paper_permit_number: str = "",
    paper_migration_certificate_number: str = "",
    internal_note: str = "",
) -> MigrationApplication:
    """EMIGRATED or PAPER -> SETTLED; the applicant is asked to come and print the Permanent Resident Registration Form.

    On paper the case finishes with the paper Permit and Migration Certificate numbers (given now, or recorded
    when the case was switched); both are required.
    """
    office = _ensure_officer(by, application)
    _ensure_status(application, "settle")
    changes = {}
    if application.status == Status.PAPER:
        permit = (paper_permit_number or "").strip() or application.paper_permit_number
        certificate = (
            paper_migration_certificate_number or ""
        ).strip() or application.paper_migration_certificate_number
        problems = []
        if not permit:
            problems.append(ValidationError(_("Enter the number of the paper Permit to Move In."), code="required"))
        if not certificate:
            problems.append(
                ValidationError(_("Enter the number of the paper Hukou Migration Certificate."), code="required")
            )
        if problems:
            raise ValidationError(problems)
        changes = {"paper_permit_number": permit, "paper_migration_certificate_number": certificate}
        note = _(
            "Settled on the paper procedure with paper Permit to Move In %(permit)s and paper Hukou Migration "
            "Certificate %(certificate)s."
        ) % {"permit": permit, "certificate": certificate}
    else:
        note = _("Settled with Permit to Move In %(permit)s and Migration Certificate %(certificate)s.") % {
            "permit": application.permit_number,
            "certificate": application.migration_certificate_number,
        }
    return WORKFLOW.run(
        "settle",
        application,
        by=by,
        office=office,
        checked=True,
        note=note,
        internal_note=internal_note,
        changes={"settled_at": timezone.now(), **changes},
        context={"on_paper": application.on_paper},
    )


@WORKFLOW.implements("switch_to_paper")
def hukou_switch_to_paper(
    *,
    application: MigrationApplication,
    by,
    reason: str,
    paper_permit_number: str = "",
    paper_migration_certificate_number: str = "",
    internal_note: str = "",
) -> MigrationApplication:
    """Any office step -> PAPER for a technical reason; the move-in station then settles with the paper numbers.

    The numbers known now are recorded (they may also be given at settlement); the clock stops, since the paper
    procedure runs outside the portal.
    """
    office = _ensure_officer(by, application)
    _ensure_status(application, "switch_to_paper")
    reason = required_text(reason, _("Give the technical reason for switching to the paper procedure."))
    permit = (paper_permit_number or "").strip()
    certificate = (paper_migration_certificate_number or "").strip()
    note = _("Switched to the paper procedure: %(reason)s") % {"reason": reason}
    if permit:
        note += "\n" + _("Paper Permit to Move In: %(number)s") % {"number": permit}
    if certificate:
        note += "\n" + _("Paper Hukou Migration Certificate: %(number)s") % {"number": certificate}
    return WORKFLOW.run(
        "switch_to_paper",
        application,
        by=by,
        office=office,
        checked=True,
        note=note,
        internal_note=internal_note,
        changes={
            "paper_reason": reason,
            "paper_switched_at": timezone.now(),
            "paper_switched_from": application.status,
            "paper_permit_number": permit,
            "paper_migration_certificate_number": certificate,
        },
        context={"reason": reason},
    )


def hukou_record_post_settlement_check(
    *,
    application: MigrationApplication,
    by,
    mover: Mover,
    marital_status: str,
    education: str,
    employer: str = "",
    phone: str = "",
    changes_made: str = "",
    evidence: str = "",
    internal_note: str = "",
) -> PostSettlementCheck:
    """After settlement the move-in station verifies one settled person's details and records what it changed.

    Changes need the evidence they rest on; each person is checked once.
    """
    if application.status != Status.SETTLED:
        raise TransitionNotAllowed(_("The post-settlement check is made once the move is settled."))
    office = _ensure_officer(by, application, office=application.office)
    if mover.application_id != application.pk:
        raise TransitionNotAllowed(_("This person is not part of this move."))
    problems = []
    if marital_status not in MaritalStatus.values:
        problems.append(ValidationError(_("Choose the marital status."), code="marital_status"))
    if education not in Education.values:
        problems.append(ValidationError(_("Choose the education."), code="education"))
    changes_made, evidence = (changes_made or "").strip(), (evidence or "").strip()
    if changes_made and not evidence:
        problems.append(ValidationError(_("Name the evidence the changes rest on."), code="evidence"))
    if problems:
        raise ValidationError(problems)
    try:
        with transaction.atomic():
            check = PostSettlementCheck.objects.create(
                mover=mover,
                marital_status=marital_status,
                education=education,
                employer=(employer or "").strip(),
                phone=(phone or "").strip(),
                changes_made=changes_made,
                evidence=evidence,
                checked_by=by,
            )
            note = _("Post-settlement check of %(name)s.") % {"name": mover.masked_name}
            if changes_made:
                note += "\n" + _("Changed: %(changes)s (evidence: %(evidence)s)") % {
                    "changes": changes_made,
                    "evidence": evidence,
                }
            _note_event(application, by=by, office=office, internal_note=internal_note, note=note)
    except IntegrityError as exc:  # someone recorded this person's check a moment ago
        raise TransitionConflict(
            _("%(name)s has already been checked. Reload the page.") % {"name": mover.masked_name}
        ) from exc
    return check


# --- what the review page offers -------------------------------------------------------------------------


def available_actions(*, application: MigrationApplication) -> list[str]:
    """The office steps the workflow table allows in the current state (the services still check everything)."""
    return WORKFLOW.available(application)
