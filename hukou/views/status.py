"""The status page with the timeline, the answer to a request for information, withdrawal and deleting a draft."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.cases.services import TransitionError
from portal.cases.views import declare_and_submit, error_messages
from portal.visits.services import EVENT_LABELS as VISIT_EVENTS

from .. import drafts, services
from ..apps import next_step_of
from ..constants import FINAL_STATUSES, STAGE_TITLES, STAGES, Actor, Status
from ..forms import ReplyForm
from ..workflow import EDITABLE, WITHDRAWABLE
from .common import PAGES, answers_context

STOPPED = (Status.REFUSED, Status.WITHDRAWN, Status.PAPER)


def _stage(application):
    """(number, title) of the stage the case is in, or stopped in: a request for information, a refusal, a
    withdrawal and the switch to paper belong to the stage they happened in."""
    status = application.status
    if status in (Status.REFUSED, Status.WITHDRAWN):
        last = application.public_timeline().order_by("-at", "-pk").first()
        status = last.from_status if last else ""
    if status == Status.PAPER:
        status = application.paper_switched_from
    if status == Status.INFO_REQUESTED:
        status = application.info_requested_in
    number = STAGES.get(status)
    return (number, STAGE_TITLES[number]) if number else (None, "")


def _detail_context(application, reply_form=None):
    acting = application.acting_office()
    actor = application.acting_actor
    requesting = None
    if application.status == Status.INFO_REQUESTED:
        request_row = (
            application.public_timeline().filter(to_status=Status.INFO_REQUESTED).select_related("office").last()
        )
        requesting = request_row.office if request_row else None
    stage, stage_title = _stage(application)
    return {
        "application": application,
        "statuses": Status,
        "stage": stage,
        "stage_title": stage_title,
        "stages": sorted(STAGE_TITLES.items()),
        "stopped": application.status in STOPPED,
        "closed": application.status in FINAL_STATUSES,
        # /me/'s rule (portal.cases.progress): a finished case shows the day it finished instead of a due date.
        "next_step": next_step_of(application),
        "acting_office": acting,
        "applicant_acts": actor == Actor.APPLICANT,
        "requesting_office": requesting,
        "timeline": [
            {
                "at": entry.at,
                # A booked visit's rows (portal.visits) under their own words, not the status they left as it was.
                "label": VISIT_EVENTS.get(entry.event) or application.status_label(entry.to_status),
                "office": entry.office,
                "note": entry.note,
            }
            for entry in application.public_timeline().select_related("office")
        ],
        "reply_form": reply_form or (ReplyForm() if application.status == Status.INFO_REQUESTED else None),
        "editable": application.status in EDITABLE,
        "withdrawable": application.status in WITHDRAWABLE,
        **answers_context(application),
    }


@login_required
@never_cache
def detail(request, case_number):
    application = PAGES.get_case(request, case_number)
    return render(request, "hukou/detail.html", _detail_context(application))


@login_required
@never_cache
@require_http_methods(["POST"])
def reply(request, case_number):
    """The answer to a request for more information: back to the office that asked, its clock resumed."""
    application = PAGES.get_case(request, case_number)
    if application.status != Status.INFO_REQUESTED:
        messages.info(request, _("No information is requested for application %(number)s.") % {"number": case_number})
        return redirect("hukou:detail", case_number=case_number)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            declare_and_submit(
                application,
                lambda: services.hukou_resubmit(
                    application=application, by=request.user, reply=form.cleaned_data["reply"]
                ),
            )
        except (TransitionError, ValidationError) as exc:
            application.refresh_from_db()
            for message in error_messages(exc):
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("Your answer is sent. %(number)s is back with the office that asked, and its clock runs again.")
                % {"number": case_number},
            )
            return redirect("hukou:detail", case_number=case_number)
    return render(request, "hukou/detail.html", _detail_context(application, reply_form=form), status=400)


# The confirmation pages to withdraw an application and to delete a draft, shared with the other services.
withdraw, delete_draft = PAGES.confirmation_views(
    withdraw=services.hukou_withdraw,
    delete_draft=drafts.hukou_delete_draft,
)
