"""/certificates/: the guide, the application in sections, check and submit, status.

Stable URLs, printed in letters and e-mails: docs/architecture.md#stable-urls.
"""

from django.urls import path

from portal.cases.urls import case_number_converter, case_pages, converter

from . import views

case_number_converter("ncr_case", r"[A-Z]{2,8}")
converter("ncr_section", "|".join(views.SECTIONS))

app_name = "certificates"
urlpatterns = [
    path("", views.index, name="index"),
    path("apply/", views.apply, name="apply"),
    *case_pages(views, "ncr_case"),
    path("<ncr_case:case_number>/<ncr_section:section>/", views.section, name="section"),
]
