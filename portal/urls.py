"""Stable URLs (docs/architecture.md#stable-urls): no language prefix; QR codes and letters print these."""

from functools import partial

from django.contrib import admin
from django.urls import include, path
from django.views import defaults
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog, set_language

from accounts import views as accounts_views

from . import views

urlpatterns = [
    # First: public verification (the QR target and the API) is the busiest path, and every request is resolved
    # twice (portal.middleware.is_lean, then the handler); none of its addresses is another pattern's.
    path("", include("portal.verify.urls")),
    path("", views.home, name="home"),
    path("me/", views.me, name="me"),
    path("me/messages/", include("portal.notify.urls")),
    path("track/", views.track, name="track"),
    path("healthz/", views.healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("display/care-mode/", views.care_mode, name="care_mode"),
    # The large-text switch's address, kept for pages still open in a browser: the same switch.
    path("display/text-size/", views.care_mode, name="text_size"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("accounts.urls")),
    path("documents/", include("portal.documents.urls")),
    path("visits/", include("portal.visits.urls")),
    path("certificates/", include("certificates.urls")),
    # Feedback was family planning's: its old addresses (in e-mails already sent) lead to the same pages.
    path("familyplanning/feedback/<path:rest>", RedirectView.as_view(url="/feedback/%(rest)s", permanent=True)),
    path("familyplanning/feedback/", RedirectView.as_view(url="/feedback/", permanent=True)),
    path("feedback/", include("portal.feedback.urls")),
    path("familyplanning/", include("familyplanning.urls")),
    path("hukou/", include("hukou.urls")),
    # Before the admin: a new member has no second factor yet, so the signed link itself admits them.
    path("admin/totp-enrol/<str:token>/", accounts_views.totp_enrol, name="totp_enrol"),
    path("admin/", admin.site.urls),
]

# Error pages in the portal's shell (templates/portal/); 500 is self-contained (no request context).
handler403 = partial(defaults.permission_denied, template_name="portal/403.html")
handler404 = partial(defaults.page_not_found, template_name="portal/404.html")
handler500 = views.server_error
