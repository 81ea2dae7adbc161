"""Citizen account pages: thin views over accounts.services."""

import json
import logging
from typing import cast

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import OAuthError
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from joserfc.errors import JoseError

from portal.ratelimit import rate_limited

from . import identity, idnumber, oidc, services
from .forms import (
    ContactForm,
    LoginForm,
    MisuseReportForm,
    MobileCodeForm,
    OidcAccountForm,
    PasswordConfirmForm,
    PortalPasswordResetForm,
    RegistrationForm,
    SmsResetConfirmForm,
    SmsResetRequestForm,
)
from .models import IdentityCheck, User
from .tokens import password_reset_tokens

logger = logging.getLogger(__name__)


def _too_many(request, template, context):
    context = {**context, "limited": True}
    return render(request, template, context, status=429)


def _reauth_limited(request) -> bool:
    """Password re-entry on the profile and the data download: a stolen session cannot guess freely."""
    return rate_limited(request, f"reauth:{request.user.pk}", limit=10, period=600)


# --- registration -----------------------------------------------------------------------------------


@sensitive_post_parameters("password1", "password2")
@never_cache
def register(request):
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST":
        if rate_limited(request, "register", limit=30, period=600):
            return _too_many(request, "accounts/register.html", {"form": form})
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.user_register(
                    username=data["username"],
                    real_name=data["real_name"],
                    id_number=data["id_number"],
                    mobile=data["mobile"],
                    email=data["email"],
                    password=data["password1"],
                    language=translation.get_language() or "",
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect("accounts:welcome")
    return render(request, "accounts/register.html", {"form": form})


@login_required
def welcome(request):
    """After registration: the two confirmation steps."""
    return render(request, "accounts/welcome.html", {"code_form": MobileCodeForm()})


# --- login, logout, passwords -----------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "gov_sign_in": oidc.enabled()}


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps this session (update_session_auth_hash); others end
        services.user_password_changed(user=form.user)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PortalPasswordResetForm
    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_done")
    token_generator = password_reset_tokens

    def post(self, request, *args, **kwargs):
        if rate_limited(request, "password_reset", limit=10, period=600):
            return _too_many(request, self.template_name, {"form": self.get_form()})
        return super().post(request, *args, **kwargs)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    token_generator = password_reset_tokens

    def form_valid(self, form):
        with transaction.atomic():
            # The same link used twice at once: the row lock makes the second request wait for the first, then
            # check its token against the new password, which it no longer matches. A link works exactly once.
            user = cast("User", self.user)  # dispatch() found it: the link is valid
            current = User.objects.select_for_update().get(pk=user.pk)
            if not self.token_generator.check_token(current, self.request.session.get(INTERNAL_RESET_SESSION_TOKEN)):
                self.validlink = False
                return self.render_to_response(self.get_context_data())
            response = super().form_valid(form)
            services.user_password_changed(user=form.user)
        logger.info("password reset by link: user %s", form.user.pk)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


# --- profile and confirmations ----------------------------------------------------------------------


@sensitive_post_parameters("current_password")
@login_required
def profile(request):
    user = request.user
    form = ContactForm(request.POST or None, user=user)
    status = 200
    if request.method == "POST":
        if _reauth_limited(request):
            form.add_error(None, _("Too many attempts. Wait a few minutes and try again."))
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            changed = services.user_update_contact(
                user=user, email=data["email"], mobile=data["mobile"], language=data["language"]
            )
            if changed["email"]:
                messages.success(request, _("We sent a confirmation link to your new e-mail address."))
            if changed["mobile"]:
                if changed["sms_error"]:
                    messages.warning(request, changed["sms_error"])
                else:
                    messages.success(request, _("We sent a code by SMS to your new mobile number."))
                return redirect("accounts:confirm_mobile")
            messages.success(request, _("Your contact details are saved."))
            return redirect("accounts:profile")
    context = {"form": form, "misuse_form": MisuseReportForm()}
    return render(request, "accounts/profile.html", context, status=status)


@never_cache
def confirm_email(request, token):
    """GET shows the address and a button; POST confirms (link scanners only GET)."""
    if request.method == "POST":
        user = services.email_confirm(link_token=token)
        if user is None:
            return render(request, "accounts/confirm_email.html", {"invalid": True}, status=400)
        return render(request, "accounts/confirm_email.html", {"confirmed": True, "email": user.email})
    user = services.email_confirmation_user(link_token=token)
    if user is None:
        return render(request, "accounts/confirm_email.html", {"invalid": True}, status=400)
    return render(request, "accounts/confirm_email.html", {"email": user.email})


@login_required
def confirm_mobile(request):
    form = MobileCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.mobile_code_check(user=request.user, code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc)
        else:
            messages.success(request, _("Your mobile number is confirmed."))
            return redirect("accounts:profile")
    return render(request, "accounts/confirm_mobile.html", {"form": form})


@require_POST
@login_required
def resend_email(request):
    try:
        sent = services.email_confirmation_send(user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if sent is None:
            messages.info(request, _("Your e-mail address is already confirmed."))
        else:
            messages.success(
                request, _("We sent a new confirmation link to %(email)s.") % {"email": request.user.email}
            )
    return redirect("accounts:profile")


@require_POST
@login_required
def resend_sms(request):
    if request.user.mobile_confirmed_at:
        messages.info(request, _("Your mobile number is already confirmed."))
        return redirect("accounts:profile")
    try:
        services.mobile_code_send(user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("We sent a new code to %(mobile)s.") % {"mobile": request.user.masked_mobile})
    return redirect("accounts:confirm_mobile")


@require_POST
@login_required
def report_misuse(request):
    form = MisuseReportForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "accounts/profile.html",
            {"form": ContactForm(user=request.user), "misuse_form": form, "misuse_open": True},
            status=400,
        )
    services.user_report_misuse(user=request.user, description=form.cleaned_data["description"])
    logout(request)
    return render(request, "accounts/misuse_reported.html")


# --- my data ----------------------------------------------------------------------------------------


@sensitive_post_parameters("password")
@never_cache
@login_required
def my_data(request):
    """The citizen's own data as a JSON download, after the password is entered again."""
    form = PasswordConfirmForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if _reauth_limited(request):
            form.add_error(None, _("Too many attempts. Wait a few minutes and try again."))
            return render(request, "accounts/my_data.html", {"form": form}, status=429)
        if form.is_valid():
            data = services.user_export_data(user=request.user)
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            response = HttpResponse(
                json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.json"'
            response["Cache-Control"] = "no-store"
            logger.info("data export downloaded: user %s", request.user.pk)
            return response
    return render(request, "accounts/my_data.html", {"form": form})


# --- identity assurance (docs/architecture.md#identity-assurance) ----------------------------------------


@never_cache
@login_required
def verify_identity(request):
    """The citizen's level, and the checks that raise it: the operator's check, the platform, the station."""
    user = request.user
    if request.method == "POST" and not user.identity_verified:
        method = request.POST.get("method", "")
        try:
            check = identity.identity_check_run(user=user, method=method)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if check.outcome == IdentityCheck.Outcome.MATCH:
                messages.success(request, _("Your identity is verified. You can now submit every application."))
            elif check.outcome == IdentityCheck.Outcome.MISMATCH:
                messages.error(
                    request,
                    _(
                        "The check did not confirm that this name, ID number and mobile number belong together. "
                        "If your details are right, sign in with the national government-service platform or show "
                        "your resident ID card at any police station."
                    ),
                )
            else:
                messages.warning(
                    request,
                    _("The check could not be completed just now (the operator did not answer). Try again later."),
                )
        return redirect("accounts:verify_identity")
    backends = identity.enabled_backends()
    context = {
        "carrier": "carrier" in backends,
        "carrier_problem": identity.CarrierBackend().unavailable_reason(user) if "carrier" in backends else "",
        "demo": "demo" in backends,
        "oidc": oidc.enabled(),
        "level_label": identity.level_label(user.assurance_level),
        "checks": user.identity_checks.all()[:5],
    }
    return render(request, "accounts/verify.html", context)


def _oidc_refused(request, message, status=403):
    return render(request, "accounts/oidc_refused.html", {"message": message}, status=status)


def _oidc_redirect_uri() -> str:
    # SITE_URL, not the request's host: the platform only sends people back to the address registered with it.
    return f"{settings.SITE_URL}{reverse('accounts:oidc_callback')}"


@never_cache
def oidc_start(request):
    if not oidc.enabled():
        raise Http404
    try:
        return oidc.client().authorize_redirect(request, _oidc_redirect_uri())
    except (OSError, ValueError, RuntimeError) as exc:  # the provider's metadata could not be read
        logger.warning("national platform sign-in could not start: %s", exc.__class__.__name__)
        return _oidc_refused(
            request, _("The national government-service platform cannot be reached. Try again later."), 503
        )


@never_cache
def oidc_callback(request):
    if not oidc.enabled():
        raise Http404
    try:
        token = oidc.client().authorize_access_token(request)
        userinfo = dict(token.get("userinfo") or {})
        if settings.OIDC_CLAIM_ID_NUMBER not in userinfo or settings.OIDC_CLAIM_NAME not in userinfo:
            # Some providers put the identity claims only behind the userinfo endpoint.
            userinfo.update({k: v for k, v in dict(oidc.client().userinfo(token=token)).items() if k != "sub"})
    except OAuthError as exc:
        logger.warning("national platform sign-in failed: %s", exc.error)
        return _oidc_refused(request, _("The sign-in with the national platform did not complete. Please try again."))
    except (
        OSError,
        ValueError,
        RuntimeError,
        AuthlibBaseError,
        JoseError,
    ) as exc:  # the token or the ID token was not valid
        logger.warning("national platform sign-in failed: %s", exc.__class__.__name__)
        return _oidc_refused(request, _("The sign-in with the national platform did not complete. Please try again."))
    current = request.user if request.user.is_authenticated else None
    try:
        claims = oidc.claims_from(userinfo)
        user = oidc.oidc_sign_in(claims=claims, current=current)
    except ValidationError as exc:
        return _oidc_refused(request, " ".join(exc.messages))
    if user is None:
        request.session[OIDC_PENDING] = {"sub": claims.subject, "id_number": claims.id_number, "name": claims.name}
        return redirect("accounts:oidc_account")
    if not user.is_active:
        return _oidc_refused(request, LoginForm.error_messages["suspended"])
    if current is None:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("me")
    messages.success(request, _("Your identity is verified. You can now submit every application."))
    return redirect("accounts:verify_identity")


OIDC_PENDING = "accounts.oidc_pending"


@never_cache
def oidc_account(request):
    """A new person from the platform chooses a username and gives the contact details the portal needs."""
    pending = request.session.get(OIDC_PENDING)
    if not pending or request.user.is_authenticated:
        return redirect("accounts:login")
    claims = oidc.Claims(subject=pending["sub"], id_number=pending["id_number"], name=pending["name"])
    form = OidcAccountForm(request.POST or None, initial={"username": oidc.suggested_username()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = oidc.oidc_create_account(
                claims=claims,
                username=data["username"],
                email=data["email"],
                mobile=data["mobile"],
                language=translation.get_language() or "",
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except IntegrityError:
            form.add_error(None, _("An account with these details already exists; log in or reset your password."))
        else:
            del request.session[OIDC_PENDING]
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("accounts:welcome")
    context = {"form": form, "name": claims.name, "masked_id": idnumber.mask(claims.id_number)}
    return render(request, "accounts/oidc_account.html", context)


# --- password reset by SMS code -----------------------------------------------------------------------------

SMS_RESET = "accounts.sms_reset"


@never_cache
def password_reset_sms(request):
    form = SmsResetRequestForm(request.POST or None)
    if request.method == "POST":
        if rate_limited(request, "password_reset", limit=10, period=600):
            return _too_many(request, "registration/password_reset_sms.html", {"form": form})
        if form.is_valid():
            username, mobile = form.cleaned_data["username"], form.cleaned_data["mobile"]
            services.password_reset_sms_request(username=username, mobile=mobile)
            # The same next page whether or not the details matched: it tells nobody who has an account.
            request.session[SMS_RESET] = {"username": username, "mobile": mobile}
            return redirect("accounts:password_reset_sms_confirm")
    return render(request, "registration/password_reset_sms.html", {"form": form})


@sensitive_post_parameters("new_password1", "new_password2", "code")
@never_cache
def password_reset_sms_confirm(request):
    pending = request.session.get(SMS_RESET)
    if not pending:
        return redirect("accounts:password_reset_sms")
    user = services.password_reset_sms_user(username=pending["username"], mobile=pending["mobile"])
    form = SmsResetConfirmForm(request.POST or None, user=user)
    if request.method == "POST":
        if rate_limited(request, "password_reset", limit=10, period=600):
            return _too_many(request, "registration/password_reset_sms_confirm.html", {"form": form})
        if form.is_valid():
            if user is None:
                form.add_error("code", _("No code is waiting for this number. Ask for a new code."))
            else:
                try:
                    services.password_reset_sms_confirm(
                        user=user, code=form.cleaned_data["code"], password=form.cleaned_data["new_password1"]
                    )
                except ValidationError as exc:
                    form.add_error("code", exc)
                else:
                    del request.session[SMS_RESET]
                    return redirect("accounts:password_reset_complete")
    return render(request, "registration/password_reset_sms_confirm.html", {"form": form})


@never_cache
@sensitive_post_parameters("otp_token")
def totp_enrol(request, token):
    """A staff member's one-time authenticator enrolment (accounts.totp_enrol): the QR code until a valid code is
    entered, then the device is confirmed and the link is dead. The signed link is the credential: a new member
    cannot log in to the admin before having an authenticator."""
    import segno
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .totp_enrol import device_for_token

    device: TOTPDevice | None = device_for_token(token)
    if device is None:
        return render(request, "accounts/totp_enrol_invalid.html", status=404)
    error = ""
    if request.method == "POST":
        code = (request.POST.get("otp_token") or "").strip()
        if rate_limited(request, f"totp-enrol:{device.pk}", limit=10, period=600):
            error = _("Too many attempts; wait ten minutes and try again.")
        elif not device.verify_is_allowed()[0]:
            # django-otp's throttling: each wrong code doubles the wait before the next one is checked.
            error = _("Too many wrong codes in a row; wait a minute and enter the code the app shows then.")
        elif code and device.verify_token(code):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            logger.info("staff member %s enrolled a TOTP device", device.user.pk)
            return render(request, "accounts/totp_enrol_done.html", {"member": device.user})
        else:
            error = _("That code is not right. Enter the six digits the app shows now.")
    response = render(
        request,
        "accounts/totp_enrol.html",
        {
            "member": device.user,
            "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=4),
            "error": error,
        },
    )
    # The link must not leak to another site; same-origin, not no-referrer: under no-referrer browsers send
    # `Origin: null` with the form's POST, and Django's CSRF check refuses it (403 instead of enrolment).
    response["Referrer-Policy"] = "same-origin"
    return response
