"""Public verification: /verify/, /verify/<code>/ and /api/verify/<code>/ (stable URLs printed in QR codes)."""

from django.urls import path

from . import views

app_name = "verify"

urlpatterns = [
    path("verify/", views.index, name="index"),
    path("verify/<str:code>/", views.detail, name="detail"),
    path("verify/<str:code>/pdf/", views.download, name="download"),
    path("api/verify/<str:code>/", views.api, name="api"),
]
