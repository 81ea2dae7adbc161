"""/feedback/: ratings of every service's cases, complaints, suggestions, consultations and the monthly figures."""

from django.urls import path

from . import views
from .models import FeedbackKind

app_name = "feedback"
urlpatterns = [
    path("", views.index, name="index"),
    path("figures/", views.figures, name="figures"),
    path("rate/", views.rate_office, name="rate_office"),
    path("rate/<slug:service>/<str:case_number>/", views.rate, name="rate"),
    path("complaint/", views.submit, {"kind": FeedbackKind.COMPLAINT}, name="complain"),
    path("suggestion/", views.submit, {"kind": FeedbackKind.SUGGESTION}, name="suggest"),
    path("consultation/", views.submit, {"kind": FeedbackKind.CONSULTATION}, name="consult"),
    path("ask/", views.ask, name="ask"),
    path("answer/<str:code>/", views.read_answer, name="read_answer"),
    path("<str:case_number>/", views.detail, name="detail"),
]
