"""The service guide and the eligibility pre-check (no login; the pre-check stores nothing)."""

from django.shortcuts import render
from django.utils import timezone

from ..constants import CATEGORY_MATERIALS, Category, Status
from ..forms import PrecheckForm
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
    """The eligibility pre-check: plain questions, a plain answer and the materials. No login; nothing stored.

    A GET form, since it changes nothing: the answer can be bookmarked or reloaded.
    """
    form = PrecheckForm(request.GET if "category" in request.GET else None)
    result = None
    if form.is_bound and form.is_valid():
        result = eligibility_precheck(form.answers(), on=timezone.localdate())
    context = {
        "form": form,
        "result": result,
        "category_label": Category(form.cleaned_data["category"]).label if result else "",
        "category_value": form.cleaned_data["category"] if result else "",
        "all_materials": [(Category(c).label, m) for c, m in CATEGORY_MATERIALS.items()],
    }
    return render(request, "hukou/precheck.html", context, status=400 if form.is_bound and not form.is_valid() else 200)
