"""The one-stop hukou migration workflow as one table (portal.cases.workflow): each step, the office that takes it,
its clock, its form on the review page and the messages it sends.

Office steps are taken by staff of the office acting in the current state (MigrationApplication.acting_office): the
move-in station, the municipal household administration or the move-out station (docs/services.md). hukou.services
implements the steps; the review admin offers, dispatches and confirms them from this table.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from portal.cases.workflow import (
    MESSAGE_LABEL,
    AccessMessages,
    Check,
    Clock,
    Input,
    Step,
    Workflow,
    acceptance_limit,
    review_steps,
)

from .constants import CLOCK_LIMITS, Status

# The states in which an office acts and the case can still be switched to paper or refused.
_IN_PROGRESS = (Status.SUBMITTED, Status.ACCEPTED, Status.FORWARDED, Status.APPROVED, Status.RETURNED, Status.EMIGRATED)


def concerns(user: Any, application: Any) -> bool:
    """The user applies, moves or receives the movers: staff never decide on such a case.

    See docs/architecture.md#security-and-privacy.
    """
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
    return bool(application.movers.filter(id_number=own).exists())


def _text(label: Any, param: str, required: bool = True) -> Input:
    return Input("text", param, label, required=required)


_PAPER_NUMBERS = (
    Input(
        "paper_permit_number",
        "paper_permit_number",
        _("Paper Permit to Move In number"),
        kind="text",
        initial=lambda application: application.paper_permit_number,
    ),
    Input(
        "paper_migration_certificate_number",
        "paper_migration_certificate_number",
        _("Paper Hukou Migration Certificate number"),
        kind="text",
        initial=lambda application: application.paper_migration_certificate_number,
    ),
)


# The purpose under which the move-in station books the visit to see the originals (hukou.apps registers it).
ORIGINALS_VISIT = "hukou_originals"


def originals_seen_at_visit(application: Any) -> bool:
    """A booked visit of the case was recorded as attended: the station has seen the originals."""
    from portal.visits.services import attended

    return attended(application, ORIGINALS_VISIT)


def _on_paper(application: Any) -> bool:
    return bool(application.status == Status.PAPER)


def _hand_over(name: str, allowed_from: tuple[str, ...], to: str, **fields: Any) -> Step:
    """An office step that hands the case on to the office acting in status `to`: that office is told in its inbox,
    and where `to` has a time limit (CLOCK_LIMITS) a new clock of it starts."""
    if to in CLOCK_LIMITS:
        fields = {"clock": Clock.START, "clock_limit": CLOCK_LIMITS[to], **fields}
    return Step(name, allowed_from, to, notify_office="inbox", **fields)


# The steps hukou shares with the one-office review (portal.cases.workflow.review_steps), as they differ here.
_REVIEW = {
    step.name: step
    for step in review_steps(
        Status,
        # Submission starts the acceptance clock: the office has a few working days to accept (a setting).
        submit={"clock": Clock.START, "clock_limit": acceptance_limit("hukou"), "notify_office": "inbox"},
        withdraw={
            "allowed_from": (Status.SUBMITTED, Status.INFO_REQUESTED, Status.ACCEPTED, Status.FORWARDED),
            "notify": "withdrawn",
        },
        # The reply returns to the state the request was made in (MigrationApplication.info_requested_in).
        resubmit={"to": None, "notify": "resubmitted", "notify_office": "inbox"},
        accept={
            "done": _("Case %(number)s accepted; the 20 working days run from today."),
            "clock_limit": CLOCK_LIMITS[Status.ACCEPTED],
            "checklist": (
                # Not required here: the originals are seen at the booked visit after acceptance, or at the
                # counter, and forwarding requires one of the two (hukou.services.hukou_forward).
                Check("originals_seen", _("Originals of the household register and the ID cards seen")),
                Check("housing_proof", _("The housing proof matches the destination address"), True),
                Check("attorney", _("A signed power of attorney for each person moving who is not present")),
            ),
        },
        # Only while a clock runs, since the request pauses it and the reply resumes it with the days left.
        request_info={
            "allowed_from": (Status.ACCEPTED, Status.FORWARDED),
            "label": _("Request more information (pauses the clock)"),
            "done": _("More information requested for %(number)s; the clock is paused."),
            "checklist": (Check("names_documents", _("The request names each missing or wrong document")),),
        },
        refuse={
            "allowed_from": (Status.SUBMITTED, Status.ACCEPTED, Status.FORWARDED, Status.RETURNED),
            "done": _("Case %(number)s refused."),
            "required": _("Give the reason for the refusal; the applicant reads it."),
            "checklist": (
                Check("reason_grounded", _("The reason names the rule or the document that is missing"), True),
            ),
        },
    )
}

WORKFLOW = Workflow(
    service="hukou",
    messages=AccessMessages(
        staff_only=_("Only the staff of the office handling this step can do this."),
        other_office=_("This step belongs to %(office)s; only its staff can take it."),
        own_case=_("You cannot act on a move that concerns yourself. Another officer must handle it."),
    ),
    concerns=concerns,
    notify_context=lambda application: {"office": application.office},
    steps=(
        # The applicant's steps.
        _REVIEW["submit"],
        _REVIEW["withdraw"],
        _REVIEW["resubmit"],
        # The offices' steps, in the order the review page offers them.
        _REVIEW["accept"],
        _REVIEW["request_info"],
        _hand_over(
            "forward",
            (Status.ACCEPTED,),
            Status.FORWARDED,
            label=_("Forward to the municipal household administration"),
            done=_("Case %(number)s forwarded to the municipal household administration."),
            checklist=(
                Check("rules_checked", _("The eligibility rules on this page are met or explained"), True),
                Check("householder_consent", _("The receiving householder's consent is on file"), True),
                # Without a booked visit recorded as attended (a station without slots, an applicant who came
                # without booking) the officer vouches for the originals here; hukou_forward checks it again.
                Check(
                    "originals_at_counter",
                    _("Originals seen at the counter"),
                    True,
                    param="originals_seen_at_counter",
                    shown=lambda application: not originals_seen_at_visit(application),
                ),
            ),
            inputs=(_text(MESSAGE_LABEL, "note", required=False),),
            notify="forwarded",
        ),
        _hand_over(
            "approve",
            (Status.FORWARDED,),
            Status.APPROVED,
            label=_("Approve and issue the Permit to Move In"),
            done=_("Permit to Move In issued for %(number)s; the move-out police station has 5 working days."),
            confirm=_(
                "You are about to approve %(number)s: the Permit to Move In will be issued and the move-out police "
                "station asked to register the emigration."
            ),
            checklist=(
                Check("policy_checked", _("The category is admitted by the city's settlement policy"), True),
                Check("no_duplicate", _("Nobody moving is already registered at the destination"), True),
            ),
            inputs=(_text(MESSAGE_LABEL, "note", required=False),),
            notify="approved",
            decides=True,
        ),
        _hand_over(
            "register_emigration",
            (Status.APPROVED,),
            Status.EMIGRATED,
            label=_("Register the emigration and confirm (Migration Certificate)"),
            done=_("Emigration of %(number)s registered; the move-in police station has 5 working days."),
            confirm=_(
                "You are about to register the emigration of %(number)s: the people moving leave the origin "
                "household record and the Migration Certificate is issued."
            ),
            checklist=(
                Check(
                    "origin_record_updated", _("Each person moving is removed from the origin household record"), True
                ),
                Check("head_remains", _("The household left behind has a head of household"), True),
            ),
            inputs=(
                Input(
                    "emigrated_on",
                    "emigrated_on",
                    _("Emigration registered on"),
                    kind="date",
                    initial=lambda application: timezone.localdate().isoformat(),
                ),
                _text(_("Note on the origin household record (optional; the applicant will see this)"), "note", False),
            ),
            notify="emigrated",
        ),
        _hand_over(
            "report_problem",
            (Status.APPROVED,),
            Status.RETURNED,
            label=_("Report a problem with the origin record (sends the case back)"),
            done=_("Problem reported; case %(number)s is back with the move-in police station."),
            confirm=_(
                "You are about to send %(number)s back to the move-in police station: the emigration is not "
                "registered until the problem is resolved."
            ),
            checklist=(Check("problem_specific", _("The problem names the record and what must change")),),
            danger=True,
            inputs=(_text(_("The problem with the origin household record (the applicant will see this)"), "problem"),),
            notify="returned",
            required=_("Describe the problem with the origin household record."),
            note_fields=("problem_report",),
            note_context="problem",
        ),
        # The move-in station has resolved the problem: the move goes back to the move-out station.
        _hand_over(
            "resend",
            (Status.RETURNED,),
            Status.APPROVED,
            label=_("Problem resolved: send to the move-out police station again"),
            done=_("Case %(number)s sent to the move-out police station again."),
            checklist=(Check("problem_resolved", _("The problem the move-out station reported is resolved"), True),),
            inputs=(_text(_("How the problem was resolved (the applicant will see this)"), "note"),),
            notify="resent",
            required=_("Say how the problem was resolved; the move-out station reads it."),
        ),
        Step(
            "settle",
            (Status.EMIGRATED, Status.PAPER),
            Status.SETTLED,
            label=_("Complete the settlement"),
            done=_("Case %(number)s settled; the applicant has been asked to print the registration form."),
            confirm=_(
                "You are about to complete the settlement of %(number)s: the people moving are registered in the "
                "destination household; this cannot be undone."
            ),
            checklist=(
                Check("certificate_received", _("The Migration Certificate (or its paper copy) is received"), True),
                Check("destination_entered", _("Each person moving is entered in the destination household"), True),
            ),
            clock=Clock.STOP,
            inputs=tuple(replace(item, shown=_on_paper) for item in _PAPER_NUMBERS),
            notify="settled",
        ),
        _REVIEW["refuse"],
        Step(
            "switch_to_paper",
            _IN_PROGRESS,
            Status.PAPER,
            label=_("Switch to the paper procedure (technical reason)"),
            done=_("Case %(number)s continues on the paper procedure."),
            confirm=_(
                "You are about to switch %(number)s to the paper procedure: the online steps end and the offices "
                "continue on paper."
            ),
            checklist=(
                Check("fault_recorded", _("The technical fault that stops the online step is described"), True),
                Check("originals_told", _("The applicant knows to bring the originals to the station")),
            ),
            clock=Clock.STOP,
            danger=True,
            inputs=(_text(_("Technical reason (the applicant will see this)"), "reason"), *_PAPER_NUMBERS),
            notify="paper",
            required=_("Give the technical reason for switching to the paper procedure."),
        ),
        # Recorded per person on the review page's own form (not among the offered steps): the status stays.
        Step(
            "check",
            (Status.SETTLED,),
            None,
            label=_("Record the post-settlement check"),
            done=_("Post-settlement check of %(number)s recorded."),
            when=lambda application, facts: False,
        ),
    ),
)

# The status groups the views and services read, from the table.
EDITABLE = (Status.DRAFT, *WORKFLOW.statuses_from("resubmit"))
WITHDRAWABLE = WORKFLOW.statuses_from("withdraw")
