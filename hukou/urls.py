"""/hukou/: the guide and the eligibility pre-check (DESIGN.md section 3)."""

from django.urls import path

from . import views

app_name = "hukou"
urlpatterns = [
    path("", views.index, name="index"),
    path("precheck/", views.precheck, name="precheck"),
]
