"""The citizen's booking pages: choose (or change) the time of a visit, and cancel it. No JavaScript: the slots are
radio buttons grouped by day. Reached from the booking panel on the case's own page (templatetags.visits_tags)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.cases.services import TransitionError, normalize_case_number

from . import purposes, services
from .slots import open_slots


def own_case(request: HttpRequest, case_number: str) -> Any:
    """The signed-in citizen's own case of any service that books visits; anyone else's is a 404."""
    number = normalize_case_number(case_number)
    for model in purposes.case_models():
        case = model._default_manager.filter(case_number=number, applicant=request.user).first()
        if case is not None:
            return case
    raise Http404


def own_case_page(view: Callable[[HttpRequest, Any], HttpResponse]) -> Callable[[HttpRequest, str], HttpResponse]:
    """A signed-in citizen's page about one of their own cases (GET shows, POST acts; never cached): the view takes
    the case (own_case) instead of its number."""

    @login_required
    @never_cache
    @require_http_methods(["GET", "POST"])
    @wraps(view)
    def page(request: HttpRequest, case_number: str) -> HttpResponse:
        return view(request, own_case(request, case_number))

    return page


def _slot_id(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("slot", ""))
    except ValueError:
        return None


@own_case_page
def book(request: HttpRequest, case: Any) -> HttpResponse:
    purpose = purposes.open_purpose(case)
    live = services.live_visit(case)
    if purpose is None:
        messages.info(request, _("Case %(number)s takes no booking at this stage.") % {"number": case.case_number})
        return redirect(live_url(case, live))
    station = services.station_of(case, purpose)
    errors: list[str] = []
    chosen = _slot_id(request)
    if request.method == "POST":
        if station is None:
            errors.append(_("This office takes no bookings online. It will contact you."))
        elif chosen is None:
            errors.append(_("Choose a time for your visit."))
        else:
            try:
                if live is None:
                    services.book(case, slot_id=chosen, by=request.user)
                    messages.success(request, _("Your visit is booked. We have sent you an SMS with the details."))
                else:
                    services.rebook(case, live, slot_id=chosen, by=request.user)
                    messages.success(request, _("Your visit is moved. We have sent you an SMS with the new time."))
            except TransitionError as exc:
                errors.append(str(exc))
            else:
                return redirect(purpose.case_url(case))
    slots = list(open_slots(station)) if station is not None else []
    chosen_slot = chosen if chosen is not None else (live.slot_id if live else None)
    open_day = next((slot.day for slot in slots if slot.pk == chosen_slot), slots[0].day if slots else None)
    context = {
        "case": case,
        "purpose": purpose,
        "station": station,
        "live": live,
        "days": [(day, list(group)) for day, group in groupby(slots, key=lambda slot: slot.day)],
        "chosen": chosen_slot,
        "open_day": open_day,
        "errors": errors,
        "case_url": purpose.case_url(case),
    }
    return render(request, "visits/book.html", context, status=400 if errors else 200)


def live_url(case: Any, live: Any) -> str:
    """The case's own page (through any purpose registered for its model)."""
    for purpose in purposes.for_model(type(case)):
        return purpose.case_url(case)
    raise Http404


@own_case_page
def cancel(request: HttpRequest, case: Any) -> HttpResponse:
    live = services.live_visit(case)
    case_url = live_url(case, live)
    if live is None:
        messages.info(request, _("Case %(number)s has no booked visit.") % {"number": case.case_number})
        return redirect(case_url)
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.cancel(case, live, by=request.user)
        except TransitionError as exc:
            errors.append(str(exc))
        else:
            messages.success(request, _("Your visit is cancelled."))
            return redirect(case_url)
    context = {"case": case, "live": live, "errors": errors, "case_url": case_url}
    return render(request, "visits/cancel.html", context, status=400 if errors else 200)
