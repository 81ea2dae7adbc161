"""Sign-in with the national government-service platform (OpenID Connect, authorization code with PKCE), and what
its verified claims do to the portal's accounts (docs/architecture.md#identity-assurance).

The client is Authlib's: discovery from OIDC_ISSUER, state, nonce and PKCE kept in the session, the ID token's
signature, issuer, audience, expiry and nonce checked against the provider's published keys. The claims that carry the
ID number and the name are named by OIDC_CLAIM_ID_NUMBER and OIDC_CLAIM_NAME.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import idnumber
from .identity import assurance_grant, enabled_backends, number_taken_error
from .models import VERIFIED_LEVELS, Assurance, IdentityCheck, IdentityMethod, User

logger = logging.getLogger(__name__)

# One Authlib client per (issuer, client id): it caches the provider's metadata and keys.
_clients: dict[tuple[str, str, str], Any] = {}


def enabled() -> bool:
    return "oidc" in enabled_backends() and bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID)


def client() -> Any:
    key = (settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID, settings.OIDC_SCOPES)
    if key not in _clients:
        registry = OAuth()
        _clients[key] = registry.register(
            "gov",
            client_id=settings.OIDC_CLIENT_ID,
            client_secret=settings.OIDC_CLIENT_SECRET,
            server_metadata_url=f"{settings.OIDC_ISSUER}/.well-known/openid-configuration",
            client_kwargs={
                "scope": settings.OIDC_SCOPES,
                "code_challenge_method": "S256",
                "default_timeout": settings.OIDC_TIMEOUT,
            },
        )
    return _clients[key]


@dataclass(frozen=True)
class Claims:
    subject: str
    id_number: str
    name: str


def claims_from(userinfo: dict[str, Any]) -> Claims:
    """The subject, ID number and name from the provider's claims; ValidationError when one is missing or invalid."""
    subject = str(userinfo.get("sub") or "").strip()
    raw_number = str(userinfo.get(settings.OIDC_CLAIM_ID_NUMBER) or "")
    name = " ".join(str(userinfo.get(settings.OIDC_CLAIM_NAME) or "").split())
    if not subject:
        raise ValidationError(_("The national platform did not say who signed in."), code="no_subject")
    if not raw_number:
        raise ValidationError(
            _("The national platform did not give your resident ID number, so we cannot use its sign-in."),
            code="no_id_number",
        )
    try:
        number = idnumber.parse(raw_number).number
    except ValidationError:
        raise ValidationError(
            _("The national platform gave an ID number that is not valid, so we cannot use its sign-in."),
            code="invalid_id_number",
        ) from None
    if not name or len(name) > 60:
        raise ValidationError(_("The national platform did not give your name."), code="no_name")
    return Claims(subject=subject, id_number=number, name=name)


def _record(user: User, outcome: str, detail: str = "") -> IdentityCheck:
    return IdentityCheck.objects.create(user=user, method=IdentityMethod.OIDC, outcome=outcome, detail=detail[:200])


def mismatch_error() -> ValidationError:
    return ValidationError(
        _(
            "The national platform says you are someone other than the holder of the account with this ID number. "
            "If the ID number is yours, take your resident ID card to any police station."
        ),
        code="mismatch",
    )


def oidc_sign_in(*, claims: Claims, current: User | None = None) -> User | None:
    """What a successful sign-in at the platform means for the portal's accounts.

    - A returning person: the account whose stored subject is `claims.subject` (its ID number must still agree).
    - Signed in to the portal already: the claims must name this account's ID number and name; the account is linked
      to the subject and raised to Verified.
    - A verified account with this ID number and the same name, not linked to another subject: linked and signed in.
    - Otherwise None: a new person, who completes an account (oidc_create_account).

    Refused with ValidationError: an ID number held by a verified account under another name, or linked to another
    subject; a subject already linked to another account; claims that disagree with the account signed in.
    """
    linked = User.objects.filter(oidc_subject=claims.subject).first()
    if linked is not None:
        if linked.id_number != claims.id_number or (current is not None and current.pk != linked.pk):
            _record(linked, IdentityCheck.Outcome.MISMATCH, "the platform's claims disagree with the linked account")
            raise mismatch_error()
        return linked
    if current is not None:
        if current.id_number != claims.id_number or current.real_name != claims.name:
            _record(current, IdentityCheck.Outcome.MISMATCH, "the platform's claims name another person")
            raise mismatch_error()
        _link(current, claims)
        return current
    holder = User.objects.filter(id_number=claims.id_number, assurance_level__in=VERIFIED_LEVELS).first()
    if holder is None:
        return None
    if holder.real_name != claims.name or holder.oidc_subject:
        logger.warning("platform sign-in refused: ID number held by verified user %s under another name", holder.pk)
        raise mismatch_error()
    _link(holder, claims)
    return holder


def _link(user: User, claims: Claims) -> None:
    with transaction.atomic():
        if User.objects.filter(pk=user.pk, oidc_subject__isnull=True).update(oidc_subject=claims.subject) != 1:
            raise mismatch_error()
        user.oidc_subject = claims.subject
        check = _record(user, IdentityCheck.Outcome.MATCH)
        if not user.identity_verified:
            assurance_grant(user=user, check=check, level=Assurance.VERIFIED)
    logger.info("user %s linked to the national platform", user.pk)


def oidc_create_account(*, claims: Claims, username: str, email: str, mobile: str, language: str = "") -> User:
    """A new person from the platform: an account at Verified with the platform's name and number, no password.

    Every other account with the number (all Declared: a verified one would have refused the sign-in) is superseded.
    The e-mail link and the SMS code are sent as after a registration.
    """
    from .services import email_confirmation_send, mobile_code_send

    with transaction.atomic():
        if User.objects.filter(id_number=claims.id_number, assurance_level__in=VERIFIED_LEVELS).exists():
            raise number_taken_error()
        user = User(
            username=username,
            real_name=claims.name,
            id_number=claims.id_number,
            email=email,
            mobile=mobile,
            oidc_subject=claims.subject,
            language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
            data_consent_at=timezone.now(),
        )
        user.set_unusable_password()
        user.save()
        check = _record(user, IdentityCheck.Outcome.MATCH, "new account from the platform's claims")
        assurance_grant(user=user, check=check, level=Assurance.VERIFIED)
        email_confirmation_send(user=user)
    try:
        mobile_code_send(user=user)
    except ValidationError as exc:
        logger.warning("platform account %s: no SMS code (%s)", user.pk, exc.code)
    logger.info("account created from the national platform: user %s", user.pk)
    return user


def suggested_username() -> str:
    return f"gov-{secrets.token_hex(4)}"
