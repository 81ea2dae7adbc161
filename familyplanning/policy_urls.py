"""/familyplanning/policy/ (included by familyplanning/urls.py, names in the familyplanning namespace)."""

from django.urls import path

from . import policy_views

urlpatterns = [
    path("", policy_views.policy_list, name="policy_list"),
    path("<int:pk>/", policy_views.policy_detail, name="policy_detail"),
]
