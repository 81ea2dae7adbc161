"""The family-planning application workflow as one table (portal.cases.workflow): steps, who takes them, the clock.

familyplanning.services implements the steps; the review admin offers, dispatches and confirms them from this table;
the citizen's views read its status groups (docs/services.md).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from portal.cases.workflow import AccessMessages, Check, Clock, Workflow, acceptance_limit, review_steps

from .fields import Kind
from .models import Status


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
    steps=review_steps(
        Status,
        # Submission starts the acceptance clock: the office has a few working days to accept (a setting).
        submit={"clock": Clock.START, "clock_limit": acceptance_limit("familyplanning"), "notify_office": "inbox"},
        accept={
            "checklist": (
                Check(
                    "ids_seen", _("The ID cards and household register of the people named are attached or seen"), True
                ),
                Check("guide_conditions", _("The answers fit the conditions in the service's guide")),
            ),
        },
        request_info={"checklist": (Check("names_documents", _("The request names what the guide asks for")),)},
        approve={
            "confirm": _(
                "You are about to approve %(number)s: the decision is final; where the service issues a certificate "
                "or licence, it will be issued and signed."
            ),
            "tells": ("approved", "ready"),
            "checklist": (
                Check("conditions_met", _("Every condition of the service's guide is met"), True),
                Check("family_details", _("The marriage and children's details match the documents"), True),
            ),
        },
        refuse={
            "required": _("Give the reason for the refusal; the applicant is told it."),
            "checklist": (Check("reason_grounded", _("The reason names the condition of the guide not met"), True),),
        },
    ),
)

# The status groups the views and services read, from the table: the citizen may change the answers before
# submission and to answer a request for more information.
EDITABLE = (Status.DRAFT, *WORKFLOW.statuses_from("resubmit"))
WITHDRAWABLE = WORKFLOW.statuses_from("withdraw")
REFUSABLE = WORKFLOW.statuses_from("refuse")
