"""/certificates/: the guide, the application in sections, check and submit, status.

Stable URLs, printed in letters and e-mails: docs/architecture.md#stable-urls.
"""

from django.urls import path, register_converter

from portal.cases.services import CASE_NUMBER_TAIL

from . import views


class CaseNumberConverter:
    """NCR-YYYYMMDD-XXXX-XXXX (or the older NCR-YYYYMMDD-NNNNN): only what a case number can look like reaches the
    views."""

    regex = r"[A-Z]{2,8}" + CASE_NUMBER_TAIL

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class SectionConverter:
    regex = "|".join(views.SECTIONS)

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(CaseNumberConverter, "ncr_case")
register_converter(SectionConverter, "ncr_section")

app_name = "certificates"
urlpatterns = [
    path("", views.index, name="index"),
    path("apply/", views.apply, name="apply"),
    path("<ncr_case:case_number>/", views.detail, name="detail"),
    path("<ncr_case:case_number>/check/", views.check, name="check"),
    path("<ncr_case:case_number>/submitted/", views.submitted, name="submitted"),
    path("<ncr_case:case_number>/withdraw/", views.withdraw, name="withdraw"),
    path("<ncr_case:case_number>/delete/", views.delete_draft, name="delete"),
    path("<ncr_case:case_number>/<ncr_section:section>/", views.section, name="section"),
]
