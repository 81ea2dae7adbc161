"""One-stop hukou migration: every step of the STEPS table as one function, for views, admin pages and tasks.

None of these sets `status` itself: each step goes through portal.cases.services.transition with the step's
`allowed_from` (a conditional UPDATE, so of two officers acting at once one wins and the other gets
TransitionConflict). Each office step may be taken only by staff of the office acting in the current state
(MigrationApplication.acting_office), never on their own move; the eligibility rules are checked again when the
case is submitted, accepted, forwarded and approved, with ages on the day of application.
"""

from __future__ import annotations

import datetime
import logging

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import idnumber
from accounts.scoping import ALL, scoped_office_ids
from portal.cases.models import Transition
from portal.cases.services import (
    TransitionConflict,
    TransitionError,
    TransitionNotAllowed,
    clock_pause,
    clock_resume,
    clock_start,
    clock_stop,
    ensure_applicant,
    next_case_number,
    required_text,
    transition,
)
from portal.notify.services import notify_office, notify_user

from . import rules
from .constants import CLOCK_LIMITS, STEPS, Education, MaritalStatus, Status
from .models import MigrationApplication, Mover, PostSettlementCheck

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
    "hukou_approve",
    "hukou_forward",
    "hukou_missing",
    "hukou_record_post_settlement_check",
    "hukou_refuse",
    "hukou_register_emigration",
    "hukou_report_problem",
    "hukou_request_info",
    "hukou_resend",
    "hukou_resubmit",
    "hukou_settle",
    "hukou_submit",
    "hukou_switch_to_paper",
    "hukou_withdraw",
    "is_own_case",
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
    """The user applies, moves or receives the movers: staff never decide on such a case (DESIGN.md section 10)."""
    if user.pk == application.applicant_id:
        return True
    own = idnumber.normalize(getattr(user, "id_number", "") or "")
    if not own:
        return False
    if own in (
        idnumber.normalize(application.receiving_householder_id_number),
        idnumber.normalize(application.origin_head_id_number),
    ):
        return True
    return application.movers.filter(id_number=own).exists()


def _ensure_officer(by, application: MigrationApplication, office=None):
    """`by` is active staff whose scope covers the office acting now (or `office`); not their own case.

    Returns the office the step is taken for (it goes on the timeline).
    """
    if by is None or not getattr(by, "is_staff", False) or not by.is_active:
        raise TransitionNotAllowed(_("Only the staff of the office handling this step can do this."))
    office = office or application.acting_office()
    if office is None:
        raise TransitionNotAllowed(
            _("This action is not possible while the case is “%(status)s”.") % {"status": application.status_label()}
        )
    ids = scoped_office_ids(by)
    if ids is not ALL and office.pk not in ids:
        raise TransitionNotAllowed(
            _("This step belongs to %(office)s; only its staff can take it.") % {"office": office}
        )
    if is_own_case(by, application):
        raise TransitionNotAllowed(
            _("You cannot act on a move that concerns yourself. Another officer must handle it.")
        )
    return office


def _ensure_status(application: MigrationApplication, step: str):
    """Checked before work that needs the right state (the clock, the rules); transition() checks again, atomically."""
    if application.status not in STEPS[step].allowed_from:
        raise TransitionNotAllowed(
            _("This action is not possible while the case is “%(status)s”.") % {"status": application.status_label()}
        )




def _step(application, step: str, *, by, office=None, note: str = "", **changes):
    """The transition of a STEPS entry (its `to` and `allowed_from`)."""
    return transition(
        application,
        to=STEPS[step].to,
        by=by,
        office=office,
        note=note,
        allowed_from=STEPS[step].allowed_from,
        **changes,
    )


def _notify(application: MigrationApplication, template: str, **context):
    """SMS and e-mail to the applicant (the template decides which parts exist)."""
    notify_user(
        application.applicant,
        template=f"hukou/{template}",
        context={
            "application": application,
            "case_number": application.case_number,
            "office": application.office,
            "due_date": application.due_date,
            **context,
        },
    )


def _notify_inbox(application: MigrationApplication):
    """E-mail the staff of the office that must act now: the case has arrived in its inbox."""
    office = application.acting_office()
    if office is not None:
        notify_office(
            office,
            template="hukou/inbox",
            context={
                "case_number": application.case_number,
                "status_label": application.status_label(),
                "due_date": application.due_date,
            },
        )


def _note_event(application: MigrationApplication, *, by, office, note: str):
    """A timeline row for a step that does not change the status (the post-settlement check)."""
    Transition.objects.create(
        content_type=ContentType.objects.get_for_model(MigrationApplication),
        object_id=application.pk,
        from_status=application.status,
        to_status=application.status,
        actor=by,
        office=office,
        note=note,
    )
    MigrationApplication.objects.filter(pk=application.pk).update(updated_at=timezone.now())


# --- the applicant's steps -----------------------------------------------------------------------------


def hukou_missing(*, application: MigrationApplication) -> list[str]:
    """What must still be given before submission (besides the eligibility rules)."""
    missing = []
    if not application.origin_office_id:
        missing.append(_("Choose the police station of the household you leave."))
    if not application.origin_address.strip():
        missing.append(_("Enter the address of the household you leave."))
    if not application.municipal_office_id:
        missing.append(_("Choose the municipal household administration of the place you move to."))
    if not application.destination_address.strip():
        missing.append(_("Enter the address you move to."))
    if application.declaration_at is None:
        missing.append(_("Tick the declaration to confirm that the information is true."))
    return missing


def hukou_submit(*, application: MigrationApplication, by) -> MigrationApplication:
    """DRAFT -> SUBMITTED once complete and eligible today; the move-in station gets it in its inbox."""
    ensure_applicant(by, application)
    _ensure_status(application, "submit")
    if not by.contact_confirmed:
        raise ValidationError(
            _("Confirm your e-mail address and mobile number in your profile before you submit."),
            code="contact_unconfirmed",
        )
    problems = [ValidationError(m, code="missing") for m in hukou_missing(application=application)]
    problems += [
        ValidationError(v.message, code=v.code) for v in rules.check_application(application, on=timezone.localdate())
    ]
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        _step(application, "submit", by=by, submitted_at=timezone.now())
        _notify(application, "submitted")
        _notify_inbox(application)
    return application


def hukou_withdraw(*, application: MigrationApplication, by) -> MigrationApplication:
    """The applicant withdraws before the Permit to Move In is issued; the clock stops."""
    ensure_applicant(by, application)
    with transaction.atomic():
        _step(application, "withdraw", by=by, note=_("Withdrawn by the applicant."), **clock_stop())
        _notify(application, "withdrawn")
    return application


def hukou_resubmit(*, application: MigrationApplication, by, reply: str = "") -> MigrationApplication:
    """INFO_REQUESTED -> the step the request was made in; its clock resumes with the working days it had left."""
    ensure_applicant(by, application)
    _ensure_status(application, "resubmit")
    back_to = application.info_requested_in or Status.ACCEPTED
    _ensure_rules(application)
    reply = (reply or "").strip()
    with transaction.atomic():
        transition(
            application,
            to=back_to,
            by=by,
            note=reply,
            allowed_from=STEPS["resubmit"].allowed_from,
            citizen_reply=reply,
            info_requested_in="",
            **clock_resume(application),
        )
        _notify(application, "resubmitted")
        _notify_inbox(application)
    return application


# --- the move-in station ---------------------------------------------------------------------------------


def hukou_accept(*, application: MigrationApplication, by) -> MigrationApplication:
    """SUBMITTED -> ACCEPTED: the 20 working days for approval of the Permit to Move In start today (day 0)."""
    office = _ensure_officer(by, application)
    _ensure_status(application, "accept")
    _ensure_rules(application)
    with transaction.atomic():
        _step(
            application,
            "accept",
            by=by,
            office=office,
            accepted_at=timezone.now(),
            **clock_start(CLOCK_LIMITS[Status.ACCEPTED]),
        )
        _notify(application, "accepted")
    return application


def hukou_request_info(*, application: MigrationApplication, by, message: str) -> MigrationApplication:
    """ACCEPTED or FORWARDED -> INFO_REQUESTED: the clock pauses with the working days left."""
    office = _ensure_officer(by, application)
    _ensure_status(application, "request_info")  # before clock_pause, which needs a running clock
    message = required_text(message, _("Say what information or document the applicant must add."))
    with transaction.atomic():
        _step(
            application,
            "request_info",
            by=by,
            office=office,
            note=message,
            info_request=message,
            info_requested_in=application.status,
            citizen_reply="",
            **clock_pause(application),
        )
        _notify(application, "info_requested", message=message, requesting_office=office)
    return application


def hukou_forward(*, application: MigrationApplication, by, note: str = "") -> MigrationApplication:
    """ACCEPTED -> FORWARDED to the municipal household administration; the 20-day clock of acceptance runs on."""
    office = _ensure_officer(by, application)
    _ensure_status(application, "forward")
    _ensure_rules(application)
    with transaction.atomic():
        _step(application, "forward", by=by, office=office, note=(note or "").strip(), forwarded_at=timezone.now())
        _notify(application, "forwarded", municipal_office=application.municipal_office)
        _notify_inbox(application)
    return application


def hukou_refuse(*, application: MigrationApplication, by, reason: str) -> MigrationApplication:
    """The move-in station (before or after approval was asked for) or the municipal administration refuses."""
    office = _ensure_officer(by, application)
    reason = required_text(reason, _("Give the reason for the refusal; the applicant reads it."))
    with transaction.atomic():
        _step(
            application,
            "refuse",
            by=by,
            office=office,
            note=reason,
            refusal_reason=reason,
            decided_by=by,
            **clock_stop(),
        )
        _notify(application, "refused", reason=reason, deciding_office=office)
    return application


# --- the municipal household administration -------------------------------------------------------------


def hukou_approve(*, application: MigrationApplication, by, note: str = "") -> MigrationApplication:
    """FORWARDED -> APPROVED: the Permit to Move In is issued and the move-out station's 5 working days start."""
    office = _ensure_officer(by, application)
    _ensure_status(application, "approve")
    _ensure_rules(application)
    permit = next_case_number(PERMIT_PREFIX)
    with transaction.atomic():
        _step(
            application,
            "approve",
            by=by,
            office=office,
            note=_("Permit to Move In %(number)s issued.") % {"number": permit}
            + (f"\n{note.strip()}" if (note or "").strip() else ""),
            permit_number=permit,
            permit_issued_at=timezone.now(),
            decided_by=by,
            **clock_start(CLOCK_LIMITS[Status.APPROVED]),
        )
        _notify(application, "approved", permit_number=permit, origin_office=application.origin_office)
        _notify_inbox(application)
    return application


# --- the move-out station --------------------------------------------------------------------------------


def hukou_register_emigration(
    *, application: MigrationApplication, by, emigrated_on: datetime.date | None = None, note: str = ""
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
    certificate = next_case_number(MIGRATION_CERTIFICATE_PREFIX)
    note = (note or "").strip()
    with transaction.atomic():
        _step(
            application,
            "register_emigration",
            by=by,
            office=office,
            note=_("Emigration registered on %(day)s; Migration Certificate %(number)s.")
            % {"day": emigrated_on.isoformat(), "number": certificate}
            + (f"\n{note}" if note else ""),
            migration_certificate_number=certificate,
            emigrated_on=emigrated_on,
            emigration_note=note,
            emigrated_at=timezone.now(),
            problem_report="",
            **clock_start(CLOCK_LIMITS[Status.EMIGRATED]),
        )
        _notify(application, "emigrated", certificate_number=certificate, origin_office=office)
        _notify_inbox(application)
    return application


def hukou_report_problem(*, application: MigrationApplication, by, problem: str) -> MigrationApplication:
    """APPROVED -> RETURNED: the origin record does not match; the move-in station must resolve it."""
    office = _ensure_officer(by, application)
    problem = required_text(problem, _("Describe the problem with the origin household record."))
    with transaction.atomic():
        _step(
            application,
            "report_problem",
            by=by,
            office=office,
            note=problem,
            problem_report=problem,
            **clock_start(CLOCK_LIMITS[Status.RETURNED]),
        )
        _notify(application, "returned", problem=problem, origin_office=office)
        _notify_inbox(application)
    return application


def hukou_resend(*, application: MigrationApplication, by, note: str) -> MigrationApplication:
    """RETURNED -> APPROVED: the move-in station resolved the problem; the move-out station gets 5 new days."""
    office = _ensure_officer(by, application)
    _ensure_status(application, "resend")
    note = required_text(note, _("Say how the problem was resolved; the move-out station reads it."))
    with transaction.atomic():
        _step(application, "resend", by=by, office=office, note=note, **clock_start(CLOCK_LIMITS[Status.APPROVED]))
        _notify(application, "resent", origin_office=application.origin_office)
        _notify_inbox(application)
    return application


# --- settlement, the paper fallback and the post-settlement check ---------------------------------------


def hukou_settle(
    *,
    application: MigrationApplication,
    by,
    paper_permit_number: str = "",
    paper_migration_certificate_number: str = "",
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
    with transaction.atomic():
        _step(
            application, "settle", by=by, office=office, note=note, settled_at=timezone.now(), **changes, **clock_stop()
        )
        _notify(application, "settled", on_paper=application.on_paper)
    return application


def hukou_switch_to_paper(
    *,
    application: MigrationApplication,
    by,
    reason: str,
    paper_permit_number: str = "",
    paper_migration_certificate_number: str = "",
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
    with transaction.atomic():
        _step(
            application,
            "switch_to_paper",
            by=by,
            office=office,
            note=note,
            paper_reason=reason,
            paper_switched_at=timezone.now(),
            paper_switched_from=application.status,
            paper_permit_number=permit,
            paper_migration_certificate_number=certificate,
            **clock_stop(),
        )
        _notify(application, "paper", reason=reason)
    return application


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
            _note_event(application, by=by, office=office, note=note)
    except IntegrityError as exc:  # someone recorded this person's check a moment ago
        raise TransitionConflict(
            _("%(name)s has already been checked. Reload the page.") % {"name": mover.masked_name}
        ) from exc
    return check


# --- what the review page offers -------------------------------------------------------------------------

OFFICER_ACTIONS = (
    "accept",
    "request_info",
    "forward",
    "approve",
    "register_emigration",
    "report_problem",
    "resend",
    "settle",
    "refuse",
    "switch_to_paper",
)


def available_actions(*, application: MigrationApplication) -> list[str]:
    """The office steps the STEPS table allows in the current state (the services still check everything)."""
    return [name for name in OFFICER_ACTIONS if application.status in STEPS[name].allowed_from]
