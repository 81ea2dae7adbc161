"""/familyplanning/policy/ (included by familyplanning/urls.py, names in the familyplanning namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.policy_list, name="policy_list"),
    path("<int:pk>/", views.policy_detail, name="policy_detail"),
]
