"""The citizen's booking pages, by case number (docs/architecture.md#stable-urls)."""

from django.urls import path

from . import views

app_name = "visits"
urlpatterns = [
    path("<str:case_number>/", views.book, name="book"),
    path("<str:case_number>/cancel/", views.cancel, name="cancel"),
]
