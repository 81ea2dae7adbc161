"""/familyplanning/feedback/ (included by familyplanning/urls.py, names in the familyplanning namespace)."""

from django.urls import path

from . import views
from .models import FeedbackKind

urlpatterns = [
    path("", views.index, name="feedback"),
    path("figures/", views.figures, name="feedback_figures"),
    path("rate/", views.rate_office, name="rate_office"),
    path("rate/<str:case_number>/", views.rate, name="rate"),
    path("complaint/", views.submit, {"kind": FeedbackKind.COMPLAINT}, name="complain"),
    path("suggestion/", views.submit, {"kind": FeedbackKind.SUGGESTION}, name="suggest"),
    path("consultation/", views.submit, {"kind": FeedbackKind.CONSULTATION}, name="consult"),
    path("<str:case_number>/", views.detail, name="feedback_detail"),
]
