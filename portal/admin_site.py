"""The admin site: staff only, with a TOTP second factor when STAFF_MFA_REQUIRED is on."""

import functools

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpResponseBadRequest
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login
from django_otp import match_token


class StaffLoginForm(AdminAuthenticationForm):
    otp_token = forms.CharField(
        label=_("One-time code from your authenticator app"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self):
        cleaned = super().clean()
        if settings.STAFF_MFA_REQUIRED and self.user_cache is not None:
            token = (cleaned.get("otp_token") or "").strip()
            device = match_token(self.user_cache, token) if token else None
            if device is None:
                raise forms.ValidationError(
                    _("Enter the current six-digit code from the authenticator app registered for your account."),
                    code="otp_required",
                )
            # Remembered on the request: PortalAdminSite.login marks the session verified after auth_login.
            self.request._otp_device = device  # type: ignore[union-attr]  # the login view's request, read in login()
        return cleaned


class PortalAdminSite(admin.AdminSite):
    site_header = _("Henan e-Services: staff")
    site_title = _("Henan e-Services staff")
    index_title = _("Cases and administration")
    login_form = StaffLoginForm

    def has_permission(self, request):
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if settings.STAFF_MFA_REQUIRED and not user.is_verified():
            return False
        return True

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @functools.wraps(inner)
        def refuse_nul(request, *args, **kwargs):
            # PostgreSQL cannot store or compare a NUL character: a filter, search or action text carrying one would
            # otherwise end in a server error. Forms refuse it themselves; here the raw query and POST data.
            for data in (request.GET, request.POST):
                if any("\x00" in key or any("\x00" in value for value in values) for key, values in data.lists()):
                    return HttpResponseBadRequest(_("Null characters are not allowed."))
            return inner(request, *args, **kwargs)

        return refuse_nul

    def index(self, request, extra_context=None):
        """The staff member's desk (portal.cases.desk) with today's booked visits (portal.visits.desk), their own
        recent timeline rows, then the lists."""
        from portal.cases.desk import desk
        from portal.cases.history import recent_actions
        from portal.visits.desk import todays_visits

        context = {
            "desk": desk(self, request),
            "desk_visits": todays_visits(request),
            "recent_timeline": recent_actions(request.user),
            **(extra_context or {}),
        }
        return super().index(request, context)

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        device = getattr(request, "_otp_device", None)
        if device is not None and request.user.is_authenticated:
            otp_login(request, device)
        return response
