"""The no-criminal-record workflow as one table (portal.cases.workflow): every step, who takes it, its clock, its form.

certificates.services implements the steps; the review admin offers, dispatches and confirms them from this table;
the citizen's views read its status groups (docs/services.md#certificate-of-no-criminal-record).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from portal.cases.workflow import AccessMessages, Check, Clock, Input, Step, Workflow, acceptance_limit, review_steps

from .models import CLOCK_WORKING_DAYS, Delivery, Status


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


def _message(required: bool, label: Any, param: str) -> Input:
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
        *review_steps(
            Status,
            # Submission starts the acceptance clock: the station has a few working days to accept (a setting).
            submit={"clock": Clock.START, "clock_limit": acceptance_limit("certificates"), "notify_office": "inbox"},
            accept={
                "checklist": (
                    Check("id_matches", _("The ID document's name, number and date of birth match the holder"), True),
                    Check("purpose_stated", _("The purpose and the receiving organisation are stated")),
                    Check("authorisation", _("An agent's application: the holder's signed authorisation is attached")),
                ),
            },
            request_info={
                "checklist": (Check("names_documents", _("The request names each missing or wrong document")),),
            },
            approve={
                "label": _("Approve and issue the certificate"),
                "done": _("Application %(number)s approved; the certificate is being generated."),
                "confirm": _("You are about to approve %(number)s: the certificate will be issued and signed."),
                "tells": ("ready",),
                "checklist": (
                    Check("register_checked", _("Register checked: no record that is not sealed"), True),
                    Check("photo_matches", _("The photo matches the ID document"), True),
                ),
            },
            refuse={
                "label": _("Refuse (issues a refusal notice)"),
                "done": _("Application %(number)s refused; the refusal notice is being generated."),
                "confirm": _(
                    "You are about to refuse %(number)s: a signed refusal notice with your reason will be issued."
                ),
                "checklist": (
                    Check(
                        "reason_grounded", _("The reason names the register record or the requirement not met"), True
                    ),
                ),
                "inputs": (
                    _message(
                        True,
                        _("Reason for the refusal (the applicant will see this; printed on the refusal notice)"),
                        "reason",
                    ),
                ),
                "required": _("Give the reason for the refusal; it is printed on the refusal notice."),
            },
        ),
        # After the decision: the issued certificate and its paper copy.
        Step(
            "revoke",
            (Status.ISSUED,),
            None,  # the application stays issued; its timeline records the revocation
            label=_("Revoke the certificate"),
            done=_("The certificate of %(number)s is revoked."),
            danger=True,
            confirm=_(
                "You are about to revoke the certificate of %(number)s: from now on every check of it answers "
                "“revoked”, with the public reason."
            ),
            checklist=(
                Check("revocation_grounds", _("A court order or an issuing error is on file for the revocation"), True),
            ),
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
            confirm=_(
                "You are about to reissue the certificate of %(number)s: the current certificate will be revoked and "
                "a new one issued and signed."
            ),
            tells=("ready",),
            checklist=(Check("correction_checked", _("The correction is checked against the ID document"), True),),
            inputs=(_message(True, _("Reason for reissuing (the applicant will see this)"), "reason"),),
        ),
        Step(
            "paper_printed",
            (Status.ISSUED,),
            None,
            label=_("Mark the paper copy printed"),
            done=_("Paper copy of %(number)s marked printed; the applicant has been told to collect it."),
            checklist=(
                Check("print_matches", _("The printed copy shows the certificate's code and the holder's name"), True),
            ),
            notify="paper_ready",
            when=_paper_to_print,
        ),
        Step(
            "paper_collected",
            (Status.ISSUED,),
            None,
            label=_("Mark the paper copy collected"),
            done=_("Paper copy of %(number)s marked collected."),
            checklist=(
                Check(
                    "collector_id_seen", _("The collector's ID card seen: the holder, or the authorised agent"), True
                ),
            ),
            when=_paper_to_hand_over,
        ),
    ),
)

# The status groups the views and services read, from the table.
EDITABLE = (Status.DRAFT, *WORKFLOW.statuses_from("resubmit"))
WITHDRAWABLE = WORKFLOW.statuses_from("withdraw")
REFUSABLE = WORKFLOW.statuses_from("refuse")
