"""Account services: registration, contact confirmation, suspension, password resets and the data export.

Views, admin actions and commands call these; none of them changes these fields itself.
"""

import dataclasses
import logging
import secrets
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal import registry
from portal.notify import services as notify
from portal.notify.models import OutboxMessage

from .emailaddress import canonical_email
from .models import MisuseReport, MobileCode, User
from .notify import notify_administrators
from .tokens import email_confirmation_tokens, password_reset_tokens

logger = logging.getLogger(__name__)

MOBILE_CODE_LIFETIME = timedelta(minutes=10)
MOBILE_CODE_MAX_ATTEMPTS = 5
MOBILE_CODE_SENDS_PER_HOUR = 5
MOBILE_CODE_SEND_INTERVAL = timedelta(seconds=60)
# Per destination, whichever accounts ask: many registrations (from many addresses) with one victim's number,
# or many reset requests for one account, must not turn the portal into an SMS or e-mail bomb.
MOBILE_CODES_PER_NUMBER_PER_HOUR = 5
PASSWORD_RESETS_PER_HOUR = 5
EMAIL_CONFIRMATIONS_PER_HOUR = 5

# Outbox bodies with a live one-time link or code are withheld from the data export: the file may be
# stored or forwarded, and a still-valid reset link in it would hand over the account.
SECRET_BEARING_TEMPLATES = (
    "accounts/confirm_email",
    "accounts/mobile_code",
    "accounts/password_reset",
    "accounts/password_reset_code",
)
# The SMS each purpose of a code is sent with.
CODE_TEMPLATES: dict[str, str] = {
    MobileCode.Purpose.CONFIRM: "accounts/mobile_code",
    MobileCode.Purpose.PASSWORD_RESET: "accounts/password_reset_code",
}


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


# --- registration -----------------------------------------------------------------------------------


def user_register(
    *, username: str, real_name: str, id_number: str, mobile: str, email: str, password: str, language: str = ""
) -> User:
    """Create a citizen account (unconfirmed contact details) and queue the e-mail link and the SMS code."""
    now = timezone.now()
    user = User(
        username=username,
        real_name=real_name,
        id_number=id_number,
        mobile=mobile,
        email=email,
        language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
        data_consent_at=now,
    )
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            email_confirmation_send(user=user)
            try:
                mobile_code_send(user=user)
            except ValidationError as exc:
                if exc.code != "sms_number_limit":
                    raise
                # The number had many codes lately, perhaps from someone else registering with it: the account is
                # made all the same, and its holder asks for a code from the profile later.
                logger.warning("registration: no SMS code, the number's hourly limit is reached")
    except IntegrityError:
        # Two registrations with the same details at the same moment: the form's checks passed for both.
        raise ValidationError(
            _("An account with these details already exists; log in or reset your password."), code="duplicate"
        ) from None
    logger.info("account registered: user %s", user.pk)
    return user


# --- e-mail confirmation ----------------------------------------------------------------------------


def email_confirmation_link(*, user: User) -> str:
    return _absolute(reverse("accounts:confirm_email", args=[email_confirmation_tokens.make_link_token(user)]))


def email_confirmation_send(*, user: User) -> OutboxMessage | None:
    """Queue a confirmation link to the user's current address (nothing if it is already confirmed)."""
    if user.email_confirmed_at or not user.email:
        return None
    since = timezone.now() - timedelta(hours=1)
    recent = OutboxMessage.objects.filter(user=user, template="accounts/confirm_email", created_at__gte=since).count()
    if recent >= EMAIL_CONFIRMATIONS_PER_HOUR:
        raise ValidationError(
            _("Several confirmation e-mails were sent in the last hour. Check your spam folder, or try again later."),
            code="email_send_limit",
        )
    return notify.send_email(
        user.email,
        template="accounts/confirm_email",
        context={"user": user, "link": email_confirmation_link(user=user), "valid_days": 3},
        language=user.language,
        user=user,
        secret=True,  # a one-time link: never copied to the portal's message centre
    )


def email_confirmation_user(*, link_token: str) -> User | None:
    """The user a confirmation link is for, if the link is still valid."""
    pk, token = email_confirmation_tokens.split_link_token(link_token)
    if pk is None:
        return None
    user = User.objects.filter(pk=pk).first()
    if user is None or not email_confirmation_tokens.check_token(user, token):
        return None
    return user


def email_confirm(*, link_token: str) -> User | None:
    """Confirm the address a link was sent to; None when the link is invalid, used, outdated or expired."""
    user = email_confirmation_user(link_token=link_token)
    if user is None:
        return None
    now = timezone.now()
    # Conditional update: the same link used twice at once confirms once.
    if not User.objects.filter(pk=user.pk, email=user.email, email_confirmed_at__isnull=True).update(
        email_confirmed_at=now
    ):
        return None
    user.email_confirmed_at = now
    logger.info("e-mail confirmed: user %s", user.pk)
    return user


# --- mobile confirmation ----------------------------------------------------------------------------


def _code_hash(*, user_pk: int, mobile: str, code: str, purpose: str = MobileCode.Purpose.CONFIRM) -> str:
    # A confirmation code's hash keeps its original form, so that codes sent before purposes existed still work.
    value = (
        f"{user_pk}:{mobile}:{code}"
        if purpose == MobileCode.Purpose.CONFIRM
        else f"{user_pk}:{mobile}:{code}:{purpose}"
    )
    return salted_hmac("accounts.MobileCode", value, algorithm="sha256").hexdigest()


def _normalise_code(raw: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", raw or "") if not ch.isspace())


def mobile_code_send(*, user: User, purpose: str = MobileCode.Purpose.CONFIRM) -> MobileCode:
    """Queue a new SMS code to the user's mobile, within the send limits; earlier codes of that purpose stop working.

    The limits count every code sent to the account and to the number, whatever its purpose.
    """
    if not user.mobile:
        raise ValidationError(_("Add a mobile number to your profile first."), code="no_mobile")
    now = timezone.now()
    with transaction.atomic():
        # Serialise sends per user (PostgreSQL) so that two quick requests cannot both pass the limits.
        User.objects.select_for_update().filter(pk=user.pk).first()
        recent = list(
            user.mobile_codes.filter(created_at__gte=now - timedelta(hours=1)).values_list("created_at", flat=True)
        )
        if recent and now - max(recent) < MOBILE_CODE_SEND_INTERVAL:
            wait = int((MOBILE_CODE_SEND_INTERVAL - (now - max(recent))).total_seconds()) + 1
            raise ValidationError(
                ngettext(
                    "A code was sent a moment ago. You can ask for another in %(seconds)d second.",
                    "A code was sent a moment ago. You can ask for another in %(seconds)d seconds.",
                    wait,
                )
                % {"seconds": wait},
                code="sms_interval",
            )
        if len(recent) >= MOBILE_CODE_SENDS_PER_HOUR:
            raise ValidationError(
                _("Too many codes were sent in the last hour. Please try again later."), code="sms_send_limit"
            )
        to_number = MobileCode.objects.filter(mobile=user.mobile, created_at__gte=now - timedelta(hours=1)).count()
        if to_number >= MOBILE_CODES_PER_NUMBER_PER_HOUR:
            raise ValidationError(
                _("Too many codes were sent to this number in the last hour. Please try again later."),
                code="sms_number_limit",
            )
        code = f"{secrets.randbelow(10**6):06d}"
        mobile_code = MobileCode.objects.create(
            user=user,
            mobile=user.mobile,
            code_hash=_code_hash(user_pk=user.pk, mobile=user.mobile, code=code, purpose=purpose),
            created_at=now,
            expires_at=now + MOBILE_CODE_LIFETIME,
            purpose=purpose,
        )
        notify.send_sms(
            user.mobile,
            template=CODE_TEMPLATES[purpose],
            context={"code": code, "minutes": int(MOBILE_CODE_LIFETIME.total_seconds() // 60)},
            language=user.language,
            user=user,
            secret=True,  # a code proves the phone: never copied to the portal's message centre
        )
    return mobile_code


def mobile_code_check(*, user: User, code: str, purpose: str = MobileCode.Purpose.CONFIRM) -> None:
    """Check `code` against the latest code of `purpose` sent to the user's mobile and use it up; raise ValidationError
    saying why not. A confirmation code also confirms the mobile number."""
    code = _normalise_code(code)
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise ValidationError(_("Enter the six digits of the code we sent by SMS."), code="format")
    latest = user.mobile_codes.filter(purpose=purpose).order_by("-created_at", "-pk").first()
    if latest is None or latest.used_at is not None or latest.mobile != user.mobile:
        raise ValidationError(_("No code is waiting for this number. Ask for a new code."), code="no_code")
    if timezone.now() >= latest.expires_at:
        raise ValidationError(_("This code has expired. Ask for a new code."), code="expired")
    # Count the attempt before comparing, with a conditional update, so parallel guesses cannot exceed the limit.
    if not MobileCode.objects.filter(pk=latest.pk, attempts__lt=MOBILE_CODE_MAX_ATTEMPTS).update(
        attempts=F("attempts") + 1
    ):
        raise ValidationError(_("Too many wrong attempts. Ask for a new code."), code="attempts")
    expected = _code_hash(user_pk=user.pk, mobile=latest.mobile, code=code, purpose=purpose)
    if not constant_time_compare(expected, latest.code_hash):
        left = MOBILE_CODE_MAX_ATTEMPTS - latest.attempts - 1
        if left <= 0:
            raise ValidationError(_("The code is not correct. Ask for a new code."), code="attempts")
        raise ValidationError(
            ngettext(
                "The code is not correct. You have %(left)d attempt left.",
                "The code is not correct. You have %(left)d attempts left.",
                left,
            )
            % {"left": left},
            code="wrong",
        )
    now = timezone.now()
    if not MobileCode.objects.filter(pk=latest.pk, used_at__isnull=True).update(used_at=now):
        raise ValidationError(_("No code is waiting for this number. Ask for a new code."), code="no_code")
    if purpose != MobileCode.Purpose.CONFIRM:
        return
    User.objects.filter(pk=user.pk).update(mobile_confirmed_at=now)
    user.mobile_confirmed_at = now
    logger.info("mobile confirmed: user %s", user.pk)


# --- contact details --------------------------------------------------------------------------------


def email_in_use(*, email: str, exclude_pk: int | None = None) -> bool:
    """Whether another account has this mailbox, in any spelling (case, full width, punycode: accounts.emailaddress).

    Stored addresses are canonical; the case-insensitive match also finds a row a migration had to leave as it
    was (two accounts already shared the mailbox, docs/security.md)."""
    canonical = canonical_email(email)
    return User.objects.filter(Q(email=canonical) | Q(email__iexact=email.strip())).exclude(pk=exclude_pk).exists()


def user_update_contact(*, user: User, email: str, mobile: str, language: str) -> dict:
    """Change contact details; a new e-mail or mobile must be confirmed again (a link or code is sent).

    Returns {"email": bool, "mobile": bool, "sms_error": str} saying what changed and whether the SMS was held back.
    """
    result = {"email": False, "mobile": False, "sms_error": ""}
    old_email = user.email
    with transaction.atomic():
        fields = []
        email = canonical_email(email)
        if email != canonical_email(user.email or ""):
            user.email, user.email_confirmed_at = email, None
            fields += ["email", "email_confirmed_at"]
            result["email"] = True
        elif email != user.email:
            user.email = email  # another spelling of the same mailbox (letter case, punycode): still confirmed
            fields.append("email")
        if mobile != user.mobile:
            user.mobile, user.mobile_confirmed_at = mobile, None
            fields += ["mobile", "mobile_confirmed_at"]
            result["mobile"] = True
        if language != user.language:
            user.language = language
            fields.append("language")
        if fields:
            user.save(update_fields=fields)
        if result["email"]:
            email_confirmation_send(user=user)
            # The previous address hears about it, so a hijacker cannot quietly redirect the account's mail.
            notify.send_email(
                old_email,
                template="accounts/email_changed",
                context={"user": user, "new_email": user.email},
                language=user.language,
                user=user,
            )
    if result["mobile"]:
        try:
            mobile_code_send(user=user)
        except ValidationError as exc:
            result["sms_error"] = " ".join(exc.messages)
    return result


def user_password_changed(*, user: User) -> None:
    """After a password change or reset: a forced change is done."""
    if user.must_change_password:
        User.objects.filter(pk=user.pk).update(must_change_password=False)
        user.must_change_password = False


# --- password reset ---------------------------------------------------------------------------------


def password_reset_link(*, user: User) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = password_reset_tokens.make_token(user)
    return _absolute(reverse("accounts:password_reset_confirm", kwargs={"uidb64": uidb64, "token": token}))


def password_reset_request(*, user: User) -> OutboxMessage | None:
    """A reset asked for on the public page: at most PASSWORD_RESETS_PER_HOUR links an hour, whoever asks."""
    since = timezone.now() - timedelta(hours=1)
    if OutboxMessage.objects.filter(user=user, template="accounts/password_reset", created_at__gte=since).count() >= (
        PASSWORD_RESETS_PER_HOUR
    ):
        logger.warning("password reset for user %s not sent: hourly limit reached", user.pk)
        return None
    return password_reset_send(user=user)


def password_reset_send(*, user: User) -> OutboxMessage | None:
    """Queue a reset link to the registered address (valid PASSWORD_RESET_TIMEOUT seconds, once)."""
    return notify.send_email(
        user.email,
        template="accounts/password_reset",
        context={
            "user": user,
            "link": password_reset_link(user=user),
            "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        },
        language=user.language,
        user=user,
        secret=True,  # a one-time link: never copied to the portal's message centre
    )


def password_reset_sms_user(*, username: str, mobile: str) -> User | None:
    """The active account with this username whose confirmed mobile is `mobile`, or None."""
    if not username or not mobile:
        return None
    return User.objects.filter(
        username__iexact=username.strip(), mobile=mobile, mobile_confirmed_at__isnull=False, is_active=True
    ).first()


def password_reset_sms_request(*, username: str, mobile: str) -> MobileCode | None:
    """A reset code by SMS to the account's confirmed mobile: the limits, life and attempts of every SMS code.

    None, and no message, when the details match no account or a limit is reached: the page answers the same either
    way, so it tells nobody which usernames and numbers go together.
    """
    user = password_reset_sms_user(username=username, mobile=mobile)
    if user is None:
        return None
    try:
        return mobile_code_send(user=user, purpose=MobileCode.Purpose.PASSWORD_RESET)
    except ValidationError as exc:
        logger.warning("password reset code for user %s not sent: %s", user.pk, exc.code)
        return None


def password_reset_sms_confirm(*, user: User, code: str, password: str) -> None:
    """Set a new password with a reset code sent by SMS; the code works once. ValidationError says why not."""
    # Outside the transaction: a wrong code's counted attempt must stay counted when the check raises. The code is
    # used up by a conditional update, so of two requests with it at once only one gets past this line.
    mobile_code_check(user=user, code=code, purpose=MobileCode.Purpose.PASSWORD_RESET)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        user_password_changed(user=user)
    logger.info("password reset by SMS code: user %s", user.pk)


# --- suspension and misuse --------------------------------------------------------------------------


def user_report_misuse(*, user: User, description: str) -> MisuseReport:
    """The holder says someone else used the account: suspend it at once, record it, tell the administrators."""
    with transaction.atomic():
        report = MisuseReport.objects.create(user=user, description=description.strip())
        user.suspend("Misuse reported by the account holder")
        # The password is presumed known to someone else: replace it, which also ends every session at once
        # (even when the suspension is lifted later). The holder chooses a new one by a reset link.
        user.set_password(secrets.token_urlsafe(32))
        user.save(update_fields=["password"])
        context = {
            "report": report,
            "account": user,
            "admin_url": _absolute(reverse("admin:accounts_misusereport_change", args=[report.pk])),
        }
        notify_administrators(template="accounts/misuse_reported", context=context)
        notify.notify_user(user, template="accounts/account_suspended", context={"report": report}, sms=False)
    logger.warning("account suspended after a misuse report: user %s, report %s", user.pk, report.pk)
    return report


def misuse_report_mark_handled(*, report: MisuseReport, by: User) -> bool:
    """Record who handled a report; False if someone already had."""
    now = timezone.now()
    done = MisuseReport.objects.filter(pk=report.pk, handled_at__isnull=True).update(handled_at=now, handled_by=by)
    if done:
        report.handled_at, report.handled_by = now, by
        logger.info("misuse report %s handled by user %s", report.pk, by.pk)
    return bool(done)


def user_lift_suspension(*, user: User, by: User) -> bool:
    if not user.is_suspended and user.is_active:
        return False
    user.lift_suspension()
    logger.info("suspension of user %s lifted by user %s", user.pk, by.pk)
    return True


def user_force_password_reset(*, user: User, by: User) -> OutboxMessage | None:
    """The next request of the user goes to the password change page, and a reset link is e-mailed."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(must_change_password=True)
        user.must_change_password = True
        message = password_reset_send(user=user) if user.email else None
    logger.info("password reset forced for user %s by user %s", user.pk, by.pk)
    return message


# --- the data export --------------------------------------------------------------------------------


def _plain(value):
    """Something json can write: dataclasses as dicts, dates as ISO strings, lazy text as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def user_export_data(*, user: User) -> dict:
    """Everything the portal holds about the user, for the 'my data' download."""
    profile = {
        "username": user.username,
        "real_name": user.real_name,
        "id_number": user.id_number,
        "sex": user.sex,
        "birth_date": user.birth_date,
        "mobile": user.mobile,
        "email": user.email,
        "language": user.language,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "data_consent_at": user.data_consent_at,
        "suspended_at": user.suspended_at,
        "suspension_reason": user.suspension_reason,
    }
    confirmations = {
        "email_confirmed_at": user.email_confirmed_at,
        "mobile_confirmed_at": user.mobile_confirmed_at,
        "sms_codes": [
            {
                "mobile": c.mobile,
                "sent": c.created_at,
                "expires": c.expires_at,
                "attempts": c.attempts,
                "used": c.used_at,
            }
            for c in user.mobile_codes.order_by("created_at")
        ],
    }
    misuse_reports = [
        {"description": r.description, "reported": r.created, "handled": r.handled_at}
        for r in user.misuse_reports.order_by("created")
    ]
    messages = [
        {
            "channel": m.channel,
            "to": m.to,
            "subject": m.subject,
            "text": (
                "[withheld: it contained a one-time link or code]"
                if m.secret or m.template in SECRET_BEARING_TEMPLATES
                else m.body
            ),
            "status": m.status,
            "queued": m.created_at,
            "sent": m.sent_at,
            "read_on_the_portal": m.read_at,
        }
        for m in OutboxMessage.objects.filter(user=user).order_by("created_at")
    ]
    return _plain(
        {
            "exported_at": timezone.now(),
            "profile": profile,
            "confirmations": confirmations,
            "misuse_reports": misuse_reports,
            "messages": messages,
            "cases": list(registry.cases_for_user(user)),
        }
    )


__all__ = [
    "email_confirm",
    "email_confirmation_send",
    "email_confirmation_user",
    "email_in_use",
    "misuse_report_mark_handled",
    "mobile_code_check",
    "mobile_code_send",
    "password_reset_request",
    "password_reset_send",
    "password_reset_sms_confirm",
    "password_reset_sms_request",
    "user_export_data",
    "user_force_password_reset",
    "user_lift_suspension",
    "user_password_changed",
    "user_register",
    "user_report_misuse",
    "user_update_contact",
]
