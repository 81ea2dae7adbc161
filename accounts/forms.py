"""Citizen account forms: registration, login, contact details, confirmation codes, misuse, password reset."""

import unicodedata
from collections.abc import Iterator
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, UsernameField
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.formmessages import RequiredMessagesMixin

from . import idnumber, phone, services
from .emailaddress import canonical_email, normalize_email
from .models import VERIFIED_LEVELS, IdentityCheck, User
from .usernames import username_confusable_taken, validate_username_characters
from .validators import normalize_person_name, validate_multiline, validate_person_name, validate_single_line


def axes_username(request, credentials=None):
    """django-axes: the throttled name is the account a login would reach, so every spelling of it counts as one.

    Logins look the username up case-insensitively in the database, and PostgreSQL's UPPER() folds more than
    str.casefold() (a dotless "ı" matches "i"): a spelling that reaches an account is mapped to its stored name.
    """
    source = credentials if credentials else getattr(request, "POST", {})
    value = unicodedata.normalize("NFKC", str((source or {}).get(settings.AXES_USERNAME_FORM_FIELD) or "")).strip()
    if value and len(value) <= 150 and "\x00" not in value:
        value = User.objects.filter(username__iexact=value).values_list("username", flat=True).first() or value
    return value.casefold()


def check_username_free(username: str, *, exclude_pk: int | None = None) -> str:
    """Refuse a username that is taken in another letter case, or that looks like one taken (accounts.usernames)."""
    if User.objects.filter(username__iexact=username).exclude(pk=exclude_pk).exists():
        raise ValidationError(_("This username is taken; choose another."), code="duplicate")
    if username_confusable_taken(username, exclude_pk=exclude_pk):
        raise ValidationError(
            _(
                "This username looks the same as one already taken (some letters and digits look alike, such as "
                "0 and O, or 1 and l); choose one that is clearly different."
            ),
            code="confusable",
        )
    return username


class PersonNameField(forms.CharField):
    """A person's name as on a resident ID card (accounts.validators.PersonNameValidator), normalised: NFKC, the
    middle dot's look-alikes made "·", single spaces. For every name typed for the certificate or a case."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 60)
        kwargs["validators"] = [validate_single_line, validate_person_name, *kwargs.get("validators", ())]
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value)
        return normalize_person_name(text) if text else text


class MobileField(forms.CharField):
    """A mainland mobile number, cleaned to E.164."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile phone"))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return phone.normalize_mobile(value) if value else value


class PasswordField(forms.CharField):
    """A password, kept exactly as typed (never stripped) and never written back into the page. `autocomplete`:
    "new-password" (the default) or "current-password", for the browser's password manager."""

    def __init__(self, *, autocomplete: str = "new-password", **kwargs: Any) -> None:
        super().__init__(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}), **kwargs)


class RegistrationForm(RequiredMessagesMixin, forms.Form):
    real_name = PersonNameField(
        label=_("Real name"),
        max_length=60,
        help_text=_(
            "Exactly as on your resident ID card: Chinese characters (or Latin letters), with “·” between the parts "
            "of a transcribed name."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Enter your real name")},
    )
    id_number = forms.CharField(
        label=_("Resident ID number"),
        max_length=40,
        help_text=_("18 characters, as on your resident ID card. Your sex and date of birth are read from it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )
    mobile = MobileField(help_text=_("A mainland China mobile number. We send a code to confirm it."))
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("We send a link to confirm it. Password resets go to this address."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    username = UsernameField(
        label=_("Username"),
        max_length=150,
        validators=[validate_username_characters],
        help_text=_(
            "The name you log in with: the letters a–z and A–Z, digits, Chinese characters and _ . - only. "
            "A name that looks like one already taken (such as 0 for O or 1 for l) is refused."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}),
    )
    password1 = PasswordField(
        label=_("Password"),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = PasswordField(
        label=_("Password again"),
        help_text=_("Type the same password again."),
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that Henan e-Services processes my personal data (name, ID number, contact details and "
            "applications) to handle my applications, as described under “Privacy” at the foot of every page."
        ),
        error_messages={"required": _("You can only register if you agree to the processing of your personal data.")},
    )

    def clean_real_name(self):
        name = " ".join(self.cleaned_data["real_name"].split())
        if not name:
            raise ValidationError(_("Enter your real name."), code="required")
        return name

    def clean_id_number(self):
        info = idnumber.parse(self.cleaned_data["id_number"])  # raises its specific message
        # Only a verified holder keeps a number: an unverified account with it (perhaps an impostor's) must not lock
        # the real holder out (docs/architecture.md#identity-assurance).
        if User.objects.filter(id_number=info.number, assurance_level__in=VERIFIED_LEVELS).exists():
            raise ValidationError(
                _(
                    "An account already exists for this ID number, and its holder's identity has been verified. If it "
                    "is your account, log in or reset your password. If it is not, take your resident ID card to any "
                    "police station to dispute it."
                ),
                code="duplicate",
            )
        return info.number

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if services.email_in_use(email=email):
            raise ValidationError(
                _("This e-mail address is already registered. Log in, or reset your password."), code="duplicate"
            )
        return email

    def clean_username(self) -> str:
        return check_username_free(self.cleaned_data["username"])

    def clean(self) -> dict[str, Any]:
        cleaned = cast("dict[str, Any]", super().clean())  # Form.clean() returns cleaned_data
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", ValidationError(_("The two passwords differ."), code="password_mismatch"))
        elif password1:
            probe = User(
                username=cleaned.get("username") or "",
                email=cleaned.get("email") or "",
                real_name=cleaned.get("real_name") or "",
            )
            try:
                password_validation.validate_password(password1, probe)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class LoginForm(RequiredMessagesMixin, AuthenticationForm):
    """Username in any letter case; a suspended account is told so (only with its correct password)."""

    username = UsernameField(
        label=_("Username"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The username or the password is not correct."),
        "suspended": _(
            "This account is suspended. If you reported misuse, or do not know why, contact the portal's service "
            "desk or any police station with your ID card to have it restored."
        ),
    }

    def get_invalid_login_error(self):
        if not getattr(self.request, "axes_locked_out", False):
            username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
            user = User.objects.filter(username__iexact=username).first() if username else None
            # The failed authenticate() above was already counted by django-axes, so this check is throttled too.
            if user is not None and not user.is_active and user.check_password(password):
                return ValidationError(self.error_messages["suspended"], code="suspended")
        return super().get_invalid_login_error()


class PortalPasswordResetForm(RequiredMessagesMixin, PasswordResetForm):
    """The reset link goes through the outbox (queued on commit), never sent during the request."""

    email = forms.EmailField(
        label=_("Registered e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def get_users(self, email: str) -> Iterator[User]:
        """The active accounts with this mailbox, in whatever spelling it was typed (accounts.emailaddress)."""
        canonical = canonical_email(email)
        candidates = User.objects.filter(Q(email=canonical) | Q(email__iexact=email.strip()), is_active=True)
        return (user for user in candidates if user.has_usable_password() and canonical_email(user.email) == canonical)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The same answer whether or not the address is registered: the view shows the "done" page either way.
        for user in self.get_users(self.cleaned_data["email"]):
            services.password_reset_request(user=user)


class ContactForm(RequiredMessagesMixin, forms.Form):
    """Contact details on the profile; a new e-mail or mobile needs the current password."""

    email = forms.EmailField(
        label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    mobile = MobileField(label=_("New mobile phone"), required=False)
    language = forms.ChoiceField(label=_("Language for messages"), choices=settings.LANGUAGES)
    current_password = PasswordField(
        label=_("Current password"),
        required=False,
        help_text=_("Needed to change your e-mail address or mobile number."),
        autocomplete="current-password",
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        # The mobile number is not written into the page in full (docs/architecture.md#security-and-privacy): empty
        # keeps it.
        kwargs.setdefault("initial", {"email": user.email, "language": user.language})
        super().__init__(*args, **kwargs)
        self.fields["mobile"].help_text = _("Leave empty to keep %(mobile)s.") % {"mobile": user.masked_mobile or "—"}

    def clean_mobile(self):
        return self.cleaned_data["mobile"] or self.user.mobile

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if services.email_in_use(email=email, exclude_pk=self.user.pk):
            raise ValidationError(_("This e-mail address is already registered to another account."), code="duplicate")
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = cast("dict[str, Any]", super().clean())  # Form.clean() returns cleaned_data
        email, mobile = cleaned.get("email"), cleaned.get("mobile")
        changes_contact = (email is not None and email != canonical_email(self.user.email or "")) or (
            mobile is not None and mobile != self.user.mobile
        )
        if changes_contact:
            password = cleaned.get("current_password")
            if not password:
                self.add_error("current_password", ValidationError(_("Enter your current password."), code="required"))
            elif not self.user.check_password(password):
                self.add_error(
                    "current_password", ValidationError(_("The password is not correct."), code="password_incorrect")
                )
        return cleaned


class MobileCodeForm(RequiredMessagesMixin, forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        help_text=_("Six digits, valid for 10 minutes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class MisuseReportForm(RequiredMessagesMixin, forms.Form):
    description = forms.CharField(
        label=_("What happened?"),
        max_length=4000,
        validators=[validate_multiline],
        help_text=_(
            "For example: an application you did not make, a message about a change you did not ask for. "
            "Your account is suspended as soon as you send this, and you are logged out."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class PasswordConfirmForm(RequiredMessagesMixin, forms.Form):
    """Re-enter the password before something sensitive (the data download)."""

    password = PasswordField(
        label=_("Your password"),
        autocomplete="current-password",
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("The password is not correct."), code="password_incorrect")
        return password


class _NewPasswordMixin(RequiredMessagesMixin, forms.Form):
    new_password1 = PasswordField(
        label=_("New password"),
        help_text=password_validation.password_validators_help_text_html(),
    )
    new_password2 = PasswordField(
        label=_("New password again"),
    )

    password_user: User | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = cast("dict[str, Any]", super().clean())
        password1, password2 = cleaned.get("new_password1"), cleaned.get("new_password2")
        if password1 and password2 and password1 != password2:
            self.add_error("new_password2", ValidationError(_("The two passwords differ."), code="password_mismatch"))
        elif password1:
            try:
                password_validation.validate_password(password1, self.password_user)
            except ValidationError as exc:
                self.add_error("new_password1", exc)
        return cleaned


class SmsResetRequestForm(RequiredMessagesMixin, forms.Form):
    """Password reset by SMS: the username and the confirmed mobile number must belong together."""

    username = UsernameField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    mobile = MobileField(help_text=_("The mobile number confirmed on your account. We send a code to it."))


class SmsResetConfirmForm(_NewPasswordMixin):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        help_text=_("Six digits, valid for 10 minutes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    field_order = ["code", "new_password1", "new_password2"]

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        self.password_user = user
        super().__init__(*args, **kwargs)


class OidcAccountForm(RequiredMessagesMixin, forms.Form):
    """The rest of an account for a person who signed in with the national platform (name and number come from it).

    Username and e-mail address follow the registration form's rules (characters, look-alikes, one spelling per
    mailbox), so the two ways in cannot differ."""

    username = RegistrationForm.base_fields["username"]
    email = RegistrationForm.base_fields["email"]
    mobile = MobileField(help_text=_("A mainland China mobile number. We send a code to confirm it."))
    consent = RegistrationForm.base_fields["consent"]

    clean_email = RegistrationForm.clean_email
    clean_username = RegistrationForm.clean_username


class CounterCheckForm(RequiredMessagesMixin, forms.Form):
    """An officer records the ID card they saw at the counter."""

    document_type = forms.ChoiceField(label=_("Document seen"), choices=IdentityCheck.Document.choices)
    document_number = forms.CharField(
        label=_("Number on the document"),
        max_length=40,
        help_text=_("Type it from the card the person showed you, not from the screen."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
