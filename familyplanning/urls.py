"""/familyplanning/: the service centre. Feedback and policy pages have their own modules.

Stable URLs, printed in letters and e-mails: docs/architecture.md#stable-urls.
"""

from django.urls import include, path, register_converter

from portal.cases.services import CASE_NUMBER_TAIL

from . import catalogue, views


class _Fixed:
    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class CaseNumberConverter(_Fixed):
    """FP-YYYYMMDD-XXXX-XXXX (or the older FP-YYYYMMDD-NNNNN): only what a case number can look like reaches the
    views."""

    regex = r"FP" + CASE_NUMBER_TAIL


class ServiceConverter(_Fixed):
    """A key of the catalogue (the longest first, so that no key stops at a shorter one it begins with)."""

    regex = "|".join(sorted(catalogue.SERVICES, key=len, reverse=True))


class LanguageConverter(_Fixed):
    regex = "|".join(views.BLANK_FORM_LANGUAGES)


register_converter(CaseNumberConverter, "fp_case")
register_converter(ServiceConverter, "fp_service")
register_converter(LanguageConverter, "fp_language")

app_name = "familyplanning"
urlpatterns = [
    path("", views.index, name="index"),
    path("services/<fp_service:service>/", views.guide, name="guide"),
    path("services/<fp_service:service>/blank-form-<fp_language:language>.pdf", views.blank_form, name="blank_form"),
    path("services/<fp_service:service>/apply/", views.apply, name="apply"),
    path("<fp_case:case_number>/", views.detail, name="detail"),
    path("<fp_case:case_number>/form/", views.edit, name="edit"),
    path("<fp_case:case_number>/check/", views.check, name="check"),
    path("<fp_case:case_number>/submitted/", views.submitted, name="submitted"),
    path("<fp_case:case_number>/withdraw/", views.withdraw, name="withdraw"),
    path("<fp_case:case_number>/delete/", views.delete_draft, name="delete"),
    path("feedback/", include("familyplanning.feedback.urls")),
    path("policy/", include("familyplanning.policy.urls")),
]
