"""Public verification: /verify/, /verify/<code>/, /verify/share/ and /api/verify/<code>/ (stable URLs printed in QR
codes; the API's schema at /api/verify/openapi.json), and the holder's share codes from /me/."""

from django.urls import path

from . import views

app_name = "verify"

urlpatterns = [
    path("verify/", views.index, name="index"),
    path("verify/share/", views.share, name="share"),
    path("me/share-codes/", views.share_create, name="share_create"),
    path("me/share-codes/<int:pk>/cancel/", views.share_cancel, name="share_cancel"),
    path("api/verify/openapi.json", views.openapi, name="openapi"),
    path("api/verify/pdf/", views.api_pdf, name="api_pdf"),
    path("verify/<str:code>/", views.detail, name="detail"),
    path("verify/<str:code>/pdf/", views.download, name="download"),
    path("api/verify/<str:code>/", views.api, name="api"),
]
