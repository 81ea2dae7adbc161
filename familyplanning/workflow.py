"""The family-planning application workflow as one table (portal.cases.workflow): steps, who takes them, the clock.

familyplanning.services implements the steps; the review admin offers, dispatches and confirms them from this table;
the citizen's views read its status groups (docs/services.md).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from portal.cases.workflow import MESSAGE_LABEL, AccessMessages, Actor, Clock, Input, Step, Workflow

from .fields import Kind
from .models import Status

APPLICANT = Actor.APPLICANT


def person_id_numbers(application: Any) -> set[str]:
    """The ID numbers of the people the application's answers name (a spouse, a child, the holder)."""
    numbers = set()
    for definition in application.service_def.form.fields:
        value = application.answers.get(definition.name)
        if definition.kind == Kind.PERSON and isinstance(value, dict) and value.get("id_number"):
            numbers.add(idnumber.normalize(value["id_number"]))
        elif definition.kind == Kind.ID_NUMBER and value:
            numbers.add(idnumber.normalize(value))
    return numbers


def concerns(user: Any, application: Any) -> bool:
    """The user applied, or is one of the people the application names (a spouse, a child, the holder)."""
    if user.pk == application.applicant_id:
        return True
    own = idnumber.normalize(getattr(user, "id_number", "") or "")
    return bool(own) and own in person_id_numbers(application)


WORKFLOW = Workflow(
    service="familyplanning",
    messages=AccessMessages(
        staff_only=_("Only family-planning staff can do this."),
        other_office=_("This application belongs to another office."),
        own_case=_("You cannot act on an application that concerns yourself. Another member of staff must handle it."),
    ),
    concerns=concerns,
    # Each service of the catalogue has its statutory time limit in working days.
    clock_limit=lambda application: application.service_def.guide.time_limit,
    notify_context=lambda application: {"service_title": application.service_def.title},
    timeline_office_of_actor=True,
    steps=(
        # The applicant's steps.
        Step("submit", (Status.DRAFT,), Status.SUBMITTED, actor=APPLICANT, notify="submitted", notify_office="inbox"),
        Step(
            "resubmit",
            (Status.INFO_REQUESTED,),
            Status.ACCEPTED,
            actor=APPLICANT,
            clock=Clock.RESUME,
            notify_office="resubmitted",
        ),
        Step(
            "withdraw",
            (Status.SUBMITTED, Status.ACCEPTED, Status.INFO_REQUESTED),
            Status.WITHDRAWN,
            actor=APPLICANT,
            clock=Clock.STOP,
        ),
        # The office's steps, in the order the review page offers them.
        Step(
            "accept",
            (Status.SUBMITTED,),
            Status.ACCEPTED,
            label=_("Accept"),
            done=_("Application %(number)s accepted; the time limit runs from today."),
            clock=Clock.START,
            inputs=(Input("text", "note", MESSAGE_LABEL),),
            notify="accepted",
        ),
        Step(
            "request_info",
            (Status.ACCEPTED,),
            Status.INFO_REQUESTED,
            label=_("Request more information"),
            done=_("More information requested for %(number)s; the time limit is paused."),
            clock=Clock.PAUSE,
            inputs=(
                Input(
                    "text",
                    "message",
                    _("What must the applicant add or correct? (the applicant will see this)"),
                    required=True,
                ),
            ),
            notify="info_requested",
        ),
        Step(
            "approve",
            (Status.ACCEPTED,),
            Status.APPROVED,
            label=_("Approve"),
            done=_("Application %(number)s approved."),
            clock=Clock.STOP,
            inputs=(Input("text", "note", MESSAGE_LABEL),),
        ),
        Step(
            "refuse",
            (Status.ACCEPTED, Status.INFO_REQUESTED),
            Status.REFUSED,
            label=_("Refuse"),
            done=_("Application %(number)s refused."),
            clock=Clock.STOP,
            danger=True,
            inputs=(Input("text", "reason", _("Reason for the refusal (the applicant will see this)"), required=True),),
            notify="refused",
        ),
    ),
)

# The status groups the views and services read, from the table: the citizen may change the answers before
# submission and to answer a request for more information.
EDITABLE = (Status.DRAFT, *WORKFLOW.statuses_from("resubmit"))
WITHDRAWABLE = WORKFLOW.statuses_from("withdraw")
REFUSABLE = WORKFLOW.statuses_from("refuse")
