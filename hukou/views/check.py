"""Check and submit: every answer and every problem on one page, the declaration, the confirmation."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.cases.kept import kept_problems
from portal.cases.services import TransitionError
from portal.cases.views import declare_and_submit

from .. import drafts, services
from ..constants import CLOCK_LIMITS, Status
from ..forms import SubmitForm
from ..workflow import EDITABLE
from .common import PAGES, SECTION_TITLES, SECTIONS, answers_context

# Where the citizen fixes what each rule of hukou.rules reports.
RULE_SECTIONS = {
    "category_missing": "destination",
    "age_unknown": "origin",
    "no_movers": "movers",
    "no_applicant": "movers",
    "whole_household_head_missing": "movers",
    "whole_household_head_under_16": "movers",
    "whole_household_head_applies": "movers",
    "whole_household_members_stay": "origin",
    "minor_without_guardian": "movers",
    "join_relatives_householder_missing": "destination",
    "join_relatives_not_immediate_family": "destination",
    "join_relatives_receiving_party_missing": "destination",
    "join_relatives_consent_missing": "authorisations",
    "origin_left_with_minors": "origin",
    "new_head_missing": "origin",
    "new_head_ambiguous": "origin",
    "new_head_under_16": "origin",
    "absent_without_power_of_attorney": "authorisations",
    "receiving_absent_without_power_of_attorney": "authorisations",
    "collective_mover_applies": "movers",
    "grounds_not_for_category": "destination",
    "other_grounds_unexplained": "destination",
}


def problems(application) -> list[dict]:
    """Everything that stops submission, in plain words, each with the section that fixes it.

    What is missing (drafts.hukou_missing) comes first, then every eligibility rule that is not met
    (hukou.rules, ages on the day of application).
    """
    found = []
    # A page whose typed answers wait in the draft (portal.cases.kept) lists what to correct there; what the saved
    # answers still miss on that page is told again once it is saved.
    kept = set(kept_problems(application))
    for section, message in drafts.hukou_missing(application=application):
        if (section, message) in kept:
            found.append({"section": section, "message": message, "code": "kept"})
        elif section != "declaration" and section not in (application.kept_inputs or {}):
            # The declaration is the checkbox below the list, with its own message.
            found.append({"section": section, "message": message, "code": "missing"})
    for violation in drafts.rule_violations(application):
        section = RULE_SECTIONS.get(violation.code, "destination")
        if violation.code == "age_unknown" and application.movers.filter(birth_date__isnull=True).exists():
            section = "movers"
        found.append({"section": section, "message": violation.message, "code": violation.code})
    for item in found:
        item["title"] = SECTION_TITLES[item["section"]]
        item["url"] = (
            reverse("hukou:section", kwargs={"case_number": application.case_number, "section": item["section"]})
            + "?return=check"
        )
    return found


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def check(request, case_number):
    """Every answer on one page, every problem with a link to fix it, the declaration and submit."""
    application = PAGES.get_case(request, case_number, "householder_consent", "receiving_power_of_attorney")
    if application.status not in EDITABLE:
        return PAGES.not_editable(request, application)
    resubmit = application.status == Status.INFO_REQUESTED
    form = SubmitForm(request.POST if request.method == "POST" and not resubmit else None)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                declare_and_submit(application, lambda: services.hukou_submit(application=application, by=request.user))
            except (TransitionError, ValidationError) as exc:
                _submission_errors(form, exc)
            else:
                return redirect("hukou:submitted", case_number=application.case_number)
    context = {
        "application": application,
        "form": form,
        "resubmit": resubmit,
        "problems": problems(application),
        "contact_confirmed": request.user.contact_confirmed,
        "sections": SECTIONS,
        "section_titles": SECTION_TITLES,
        **answers_context(application),
    }
    return render(request, "hukou/check.html", context, status=status)


def _submission_errors(form, exc):
    """The service's refusal on the form: contact details and conflicts word for word, the listed problems counted."""
    if not isinstance(exc, ValidationError):
        form.add_error(None, str(exc))
        return
    listed = 0
    for error in exc.error_list:
        if error.code == "contact_unconfirmed":
            form.add_error(None, error.messages[0])
        else:
            listed += 1
    if listed:
        form.add_error(
            None,
            _(
                "The application cannot be submitted yet: fix the points listed under “Still to do before you "
                "submit” first."
            ),
        )


submitted = PAGES.submitted_page(lambda application: {"limits": CLOCK_LIMITS})
