"""/hukou/: the guide, the pre-check, the application in sections, check and submit, status.

Stable URLs, printed in letters and e-mails: docs/architecture.md#stable-urls.
"""

from django.urls import path, register_converter

from portal.cases.services import CASE_NUMBER_TAIL

from . import views


class CaseNumberConverter:
    """HK-YYYYMMDD-XXXX-XXXX (or the older HK-YYYYMMDD-NNNNN): only what a migration case number can look like
    reaches the views."""

    regex = r"HK" + CASE_NUMBER_TAIL

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


register_converter(CaseNumberConverter, "hk_case")
register_converter(SectionConverter, "hk_section")

app_name = "hukou"
urlpatterns = [
    path("", views.index, name="index"),
    path("precheck/", views.precheck, name="precheck"),
    path("apply/", views.apply, name="apply"),
    path("<hk_case:case_number>/", views.detail, name="detail"),
    path("<hk_case:case_number>/check/", views.check, name="check"),
    path("<hk_case:case_number>/submitted/", views.submitted, name="submitted"),
    path("<hk_case:case_number>/reply/", views.reply, name="reply"),
    path("<hk_case:case_number>/withdraw/", views.withdraw, name="withdraw"),
    path("<hk_case:case_number>/delete/", views.delete_draft, name="delete"),
    path("<hk_case:case_number>/<hk_section:section>/", views.section, name="section"),
]
