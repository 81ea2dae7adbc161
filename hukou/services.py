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
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity import ensure_assurance
from portal.cases.services import (
    TransitionConflict,
    TransitionError,
    TransitionNotAllowed,
    next_serial_number,
    required_text,
)
from portal.cases.workflow import ensure_staff_may_act

from . import rules
from .constants import (
    Status,
)
from .drafts import hukou_missing, rule_violations
from .models import MigrationApplication
from .workflow import WORKFLOW, concerns, originals_seen_at_visit

logger = logging.getLogger("hukou")

PERMIT_PREFIX = "ZQ"  # 准迁证
MIGRATION_CERTIFICATE_PREFIX = "QY"  # 迁移证

__all__ = [
    "TransitionConflict",
    "TransitionError",
    "TransitionNotAllowed",
    "available_actions",
    "hukou_accept",
    "hukou_approve",
    "hukou_forward",
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
]


# --- helpers -------------------------------------------------------------------------------------------


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


def _notify(application: MigrationApplication, template: str, **context):
    """SMS and e-mail to the applicant (the template decides which parts exist)."""
    WORKFLOW.tell_applicant(application, template, **context)


# --- the applicant's steps -----------------------------------------------------------------------------


@WORKFLOW.implements("submit")
def hukou_submit(*, application: MigrationApplication, by) -> MigrationApplication:
    """DRAFT -> SUBMITTED once complete and eligible today; the move-in station gets it in its inbox."""
    WORKFLOW.ensure_may_take("submit", application, by=by)
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
    WORKFLOW.ensure_may_take("resubmit", application, by=by)
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


def _office_step(
    name: str,
    application: MigrationApplication,
    *,
    by,
    rules_apply: bool = False,
    office_as: str = "",
    ensure=None,
    **kwargs,
):
    """An office step: who may act and the status first, then (where the step needs it) the eligibility rules and
    the step's own check `ensure(application)`.

    `office_as` names the acting office in the applicant's message (the office that asks, decides or reports)."""
    office = WORKFLOW.ensure_may_take(name, application, by=by)
    if rules_apply:
        _ensure_rules(application)
    if ensure is not None:
        ensure(application)
    if office_as:
        kwargs["context"] = {office_as: office, **kwargs.get("context", {})}
    return WORKFLOW.run(name, application, by=by, office=office, checked=True, **kwargs)


@WORKFLOW.implements("accept")
def hukou_accept(
    *, application: MigrationApplication, by, note: str = "", internal_note: str = ""
) -> MigrationApplication:
    """SUBMITTED -> ACCEPTED: the 20 working days for approval of the Permit to Move In start today (day 0)."""
    return _office_step(
        "accept",
        application,
        by=by,
        rules_apply=True,
        note=note,
        internal_note=internal_note,
    )


@WORKFLOW.implements("request_info")
def hukou_request_info(
    *, application: MigrationApplication, by, message: str, internal_note: str = ""
) -> MigrationApplication:
    """ACCEPTED or FORWARDED -> INFO_REQUESTED: the clock pauses with the working days left."""
    return _office_step(
        "request_info",
        application,
        by=by,
        note=message,
        internal_note=internal_note,
        changes={"info_requested_in": application.status},
        office_as="requesting_office",
    )


def _ensure_originals_seen(application: MigrationApplication, at_counter: bool) -> None:
    """The move-in station has seen the originals: a booked visit recorded as attended, or the officer forwarding
    says they were shown at the counter (a station without visit slots, an applicant who came without booking)."""
    if at_counter or originals_seen_at_visit(application):
        return
    raise ValidationError(
        _(
            "Case %(number)s cannot be forwarded before the station has seen the originals: record the booked visit "
            "as attended, or tick “Originals seen at the counter” if the applicant showed them without a booking."
        )
        % {"number": application.case_number},
        code="originals_not_seen",
    )


@WORKFLOW.implements("forward")
def hukou_forward(
    *,
    application: MigrationApplication,
    by,
    note: str = "",
    internal_note: str = "",
    originals_seen_at_counter: bool = False,
) -> MigrationApplication:
    """ACCEPTED -> FORWARDED to the municipal household administration, once the originals were seen (at a booked
    visit or at the counter); the 20-day clock of acceptance runs on."""
    return _office_step(
        "forward",
        application,
        by=by,
        rules_apply=True,
        ensure=lambda application: _ensure_originals_seen(application, originals_seen_at_counter),
        note=note,
        internal_note=internal_note,
        changes={"forwarded_at": timezone.now()},
        context={"municipal_office": application.municipal_office},
    )


@WORKFLOW.implements("refuse")
def hukou_refuse(
    *, application: MigrationApplication, by, reason: str, internal_note: str = ""
) -> MigrationApplication:
    """The move-in station (before or after approval was asked for) or the municipal administration refuses."""
    return _office_step(
        "refuse", application, by=by, note=reason, internal_note=internal_note, office_as="deciding_office"
    )


# --- the municipal household administration -------------------------------------------------------------


@WORKFLOW.implements("approve")
def hukou_approve(
    *, application: MigrationApplication, by, note: str = "", internal_note: str = ""
) -> MigrationApplication:
    """FORWARDED -> APPROVED: the Permit to Move In is issued and the move-out station's 5 working days start."""
    office = WORKFLOW.ensure_may_take("approve", application, by=by)
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
    office = WORKFLOW.ensure_may_take("register_emigration", application, by=by)
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
    return _office_step(
        "report_problem", application, by=by, note=problem, internal_note=internal_note, office_as="origin_office"
    )


@WORKFLOW.implements("resend")
def hukou_resend(*, application: MigrationApplication, by, note: str, internal_note: str = "") -> MigrationApplication:
    """RETURNED -> APPROVED: the move-in station resolved the problem; the move-out station gets 5 new days."""
    return _office_step(
        "resend",
        application,
        by=by,
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
    office = WORKFLOW.ensure_may_take("settle", application, by=by)
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
    office = WORKFLOW.ensure_may_take("switch_to_paper", application, by=by)
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


# --- what the review page offers -------------------------------------------------------------------------


def available_actions(*, application: MigrationApplication) -> list[str]:
    """The office steps the workflow table allows in the current state (the services still check everything)."""
    return WORKFLOW.available(application)
