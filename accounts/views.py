"""Citizen account pages: thin views over accounts.services."""

import json
import logging
from typing import cast

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from portal.ratelimit import rate_limited

from . import services
from .forms import (
    ContactForm,
    LoginForm,
    MisuseReportForm,
    MobileCodeForm,
    PasswordConfirmForm,
    PortalPasswordResetForm,
    RegistrationForm,
)
from .models import User
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
