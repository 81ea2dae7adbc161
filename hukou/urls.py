"""/hukou/: the guide, the pre-check, the application in sections, check and submit, status.

Stable URLs, printed in letters and e-mails: docs/architecture.md#stable-urls.
"""

from django.urls import path

from portal.cases.urls import case_number_converter, case_pages, converter

from . import views

case_number_converter("hk_case", "HK")
converter("hk_section", "|".join(views.SECTIONS))

app_name = "hukou"
urlpatterns = [
    path("", views.index, name="index"),
    path("precheck/", views.precheck, name="precheck"),
    path("apply/", views.apply, name="apply"),
    *case_pages(views, "hk_case", extra=[("reply/", "reply")]),
    path("<hk_case:case_number>/<hk_section:section>/", views.section, name="section"),
]
