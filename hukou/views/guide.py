"""The service guide and the eligibility pre-check (no login; the pre-check stores nothing)."""

from urllib.parse import urlencode

from django.shortcuts import render
from django.utils import timezone

from ..constants import Status, all_materials
from ..forms import EDIT, Precheck
from ..models import MigrationApplication
from ..rules import eligibility_precheck


def index(request):
    """The service guide: who may apply, materials, time limits; for a signed-in citizen also their applications."""
    mine = []
    if request.user.is_authenticated:
        mine = list(
            MigrationApplication.objects.filter(applicant=request.user)
            .select_related("office", "municipal_office", "origin_office")
            .order_by("-updated_at")
        )
    context = {
        "drafts": [a for a in mine if a.status == Status.DRAFT],
        "applications": [a for a in mine if a.status != Status.DRAFT],
        "contact_confirmed": request.user.is_authenticated and request.user.contact_confirmed,
    }
    return render(request, "hukou/index.html", context)


def precheck(request):
    """The eligibility pre-check: one plain question per page, then a plain answer and the materials. No login;
    nothing stored.

    A GET form, since it changes nothing: each page carries the answers before it, and can be bookmarked or reloaded.
    """
    wizard = Precheck(request.GET)
    result = eligibility_precheck(wizard.answers(), on=timezone.localdate()) if wizard.done else None
    previous = wizard.previous()
    back = None
    if previous is not None:
        back = request.GET.copy()
        back[EDIT] = previous.name
    context = {
        "wizard": wizard,
        "form": wizard.form,
        "question": wizard.current,
        "result": result,
        "back_query": back.urlencode() if back is not None else "",
        "summary": [(question, answer, _change_query(request, question)) for question, answer in wizard.summary()],
        "start_query": urlencode(wizard.application_start()) if result and result.allowed else "",
        "all_materials": all_materials(),
    }
    invalid = wizard.form is not None and wizard.form.is_bound and not wizard.form.is_valid()
    return render(request, "hukou/precheck.html", context, status=400 if invalid else 200)


def _change_query(request, question) -> str:
    query = request.GET.copy()
    query[EDIT] = question.name
    return query.urlencode()
