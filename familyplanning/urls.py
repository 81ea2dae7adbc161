"""/familyplanning/: the service centre. Feedback and policy pages have their own modules.

Stable URLs, printed in letters and e-mails: docs/architecture.md#stable-urls.
"""

from django.urls import include, path

from portal.cases.urls import case_number_converter, case_pages, converter

from . import catalogue, views

case_number_converter("fp_case", "FP")
# A key of the catalogue (the longest first, so that no key stops at a shorter one it begins with).
converter("fp_service", "|".join(sorted(catalogue.SERVICES, key=len, reverse=True)))
converter("fp_language", "|".join(views.BLANK_FORM_LANGUAGES))

app_name = "familyplanning"
urlpatterns = [
    path("", views.index, name="index"),
    path("services/<fp_service:service>/", views.guide, name="guide"),
    path("services/<fp_service:service>/blank-form-<fp_language:language>.pdf", views.blank_form, name="blank_form"),
    path("services/<fp_service:service>/apply/", views.apply, name="apply"),
    *case_pages(views, "fp_case", extra=[("form/", "edit")]),
    path("policy/", include("familyplanning.policy.urls")),
]
