"""The citizen side of /hukou/: the guide with the citizen's applications, and the eligibility pre-check."""

from django.shortcuts import render
from django.utils import timezone

from .constants import CATEGORY_MATERIALS, Category
from .forms import PrecheckForm
from .models import MigrationApplication
from .rules import eligibility_precheck


def index(request):
    """The service guide: who may apply, materials, time limits; for a signed-in citizen also their applications."""
    applications = []
    if request.user.is_authenticated:
        applications = list(
            MigrationApplication.objects.filter(applicant=request.user).select_related("office").order_by("-updated_at")
        )
    return render(request, "hukou/index.html", {"applications": applications})


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
        "all_materials": [(Category(c).label, m) for c, m in CATEGORY_MATERIALS.items()],
    }
    return render(request, "hukou/precheck.html", context, status=400 if form.is_bound and not form.is_valid() else 200)
