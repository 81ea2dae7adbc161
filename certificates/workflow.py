"""The no-criminal-record workflow as one table (portal.cases.workflow): every step, who takes it, its clock, its form.

certificates.services implements the steps; the review admin offers, dispatches and confirms them from this table;
the citizen's views read its status groups (docs/services.md#certificate-of-no-criminal-record).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from portal.cases.workflow import MESSAGE_LABEL, AccessMessages, Actor, Clock, Input, Step, Workflow

from .models import CLOCK_WORKING_DAYS, Delivery, Status

APPLICANT = Actor.APPLICANT


def _certificate_valid(application: Any, facts: Any) -> bool:
    return bool(facts.get("certificate_valid"))


def _paper_to_print(application: Any, facts: Any) -> bool:
    return _certificate_valid(application, facts) and (
        application.delivery == Delivery.COLLECT and application.paper_printed_at is None
    )


def _paper_to_hand_over(application: Any, facts: Any) -> bool:
    return _certificate_valid(application, facts) and (
        application.delivery == Delivery.COLLECT
        and application.paper_printed_at is not None
        and application.paper_collected_at is None
    )


def concerns(user: Any, application: Any) -> bool:
    """The user is the applicant or the holder (an agent's application for an officer is still theirs)."""
    if user.pk == application.applicant_id:
        return True
    own_number = idnumber.normalize(getattr(user, "id_number", "") or "")
    return bool(own_number) and own_number == idnumber.normalize(application.holder_id_number)


def _message(required: bool = False, label: Any = MESSAGE_LABEL, param: str = "note") -> Input:
    return Input("text", param, label, required=required)


WORKFLOW = Workflow(
    service="certificates",
    messages=AccessMessages(
        staff_only=_("Only police station staff can do this."),
        other_office=_("This application belongs to another office."),
        own_case=_("You cannot act on an application for yourself. Another officer of the station must handle it."),
    ),
    concerns=concerns,
    clock_limit=lambda application: CLOCK_WORKING_DAYS,
    timeline_office_of_actor=True,
    steps=(
        # The applicant's steps.
        Step("submit", (Status.DRAFT,), Status.SUBMITTED, actor=APPLICANT, notify="submitted"),
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
        # The police station's steps, in the order the review page offers them.
        Step(
            "accept",
            (Status.SUBMITTED,),
            Status.ACCEPTED,
            label=_("Accept"),
            done=_("Application %(number)s accepted; the time limit runs from today."),
            clock=Clock.START,
            inputs=(_message(),),
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
                _message(True, _("What must the applicant add or correct? (the applicant will see this)"), "message"),
            ),
            notify="info_requested",
        ),
        Step(
            "approve",
            (Status.ACCEPTED,),
            Status.APPROVED,
            label=_("Approve and issue the certificate"),
            done=_("Application %(number)s approved; the certificate is being generated."),
            clock=Clock.STOP,
            inputs=(_message(),),
        ),
        Step(
            "refuse",
            (Status.ACCEPTED, Status.INFO_REQUESTED),
            Status.REFUSED,
            label=_("Refuse (issues a refusal notice)"),
            done=_("Application %(number)s refused; the refusal notice is being generated."),
            clock=Clock.STOP,
            danger=True,
            inputs=(
                _message(
                    True,
                    _("Reason for the refusal (the applicant will see this; printed on the refusal notice)"),
                    "reason",
                ),
            ),
            notify="refused",
        ),
        Step(
            "revoke",
            (Status.ISSUED,),
            None,  # the application stays issued; its timeline records the revocation
            label=_("Revoke the certificate"),
            done=_("The certificate of %(number)s is revoked."),
            danger=True,
            inputs=(
                _message(
                    True,
                    _(
                        "Internal reason for the revocation (staff only: kept in the record, never shown to the "
                        "holder or to verifiers)"
                    ),
                    "reason",
                ),
                Input(
                    "public_text",
                    "public_reason",
                    _(
                        "Public reason (shown to the holder on their application and in the message they are sent, "
                        "in the timeline, and to everyone who verifies the certificate: page, PDF check, API and "
                        "share codes)"
                    ),
                    required=True,
                ),
            ),
            notify="revoked",
            when=_certificate_valid,
        ),
        Step(
            "reissue",
            (Status.ISSUED,),
            Status.APPROVED,
            label=_("Reissue the certificate"),
            done=_("The certificate of %(number)s is revoked and a new one is being generated."),
            inputs=(_message(True, _("Reason for reissuing (the applicant will see this)"), "reason"),),
        ),
        Step(
            "paper_printed",
            (Status.ISSUED,),
            None,
            label=_("Mark the paper copy printed"),
            done=_("Paper copy of %(number)s marked printed; the applicant has been told to collect it."),
            notify="paper_ready",
            when=_paper_to_print,
        ),
        Step(
            "paper_collected",
            (Status.ISSUED,),
            None,
            label=_("Mark the paper copy collected"),
            done=_("Paper copy of %(number)s marked collected."),
            when=_paper_to_hand_over,
        ),
    ),
)

# The status groups the views and services read, from the table.
EDITABLE = (Status.DRAFT, *WORKFLOW.statuses_from("resubmit"))
WITHDRAWABLE = WORKFLOW.statuses_from("withdraw")
REFUSABLE = WORKFLOW.statuses_from("refuse")
