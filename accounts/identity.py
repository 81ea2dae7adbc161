"""Identity assurance: the checks that raise an account to Verified or In person, and who keeps an ID number.

Levels, methods and the rules are described in docs/architecture.md#identity-assurance. In short: every account starts
*Declared*; an identity check (the mobile operator's three-factor check, the national platform's sign-in, or the
demonstration check in development) raises it to *Verified*; an officer who saw the person and their ID card raises it
to *In person*. Of all accounts with one ID number, the first to be verified keeps it; every other one is suspended at
once and its unfinished cases are frozen.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import registry
from portal.gateway import GatewayError, post_json
from portal.notify import services as notify

from . import idnumber
from .models import (
    VERIFIED_LEVELS,
    Assurance,
    IdentityCheck,
    IdentityMethod,
    Role,
    User,
    assurance_rank,
)
from .notify import notify_administrators
from .signals import account_superseded

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

Outcome = IdentityCheck.Outcome

# Each check costs the operator's fee, and a mismatch tells something about a number: a few a day per account.
IDENTITY_CHECKS_PER_DAY = 5
# Backends a citizen starts from the verification page (oidc is a sign-in, started from its own link).
CHECK_METHODS = (IdentityMethod.CARRIER, IdentityMethod.DEMO)
KNOWN_BACKENDS = ("carrier", "oidc", "demo")


@dataclass(frozen=True)
class CheckResult:
    outcome: str
    detail: str = ""
    reference: str = ""


# --- the backends ---------------------------------------------------------------------------------------


class CarrierBackend:
    """The mobile operator's three-factor check through the identity gateway: do this name, ID number and mobile
    number belong to one subscriber?

    The gateway takes {"name", "id_number", "mobile", "reference"} as JSON and answers {"result": "match" |
    "mismatch", "reference": "…"} (docs/architecture.md#identity-assurance). A 5xx or a dropped connection is tried
    again at once, up to IDENTITY_GATEWAY_ATTEMPTS in all; a timeout is not, because the citizen is waiting and a slow
    gateway is likely to stay slow; a 4xx will not change on a retry.
    """

    method = IdentityMethod.CARRIER

    def unavailable_reason(self, user: User) -> str:
        if not settings.IDENTITY_GATEWAY_URL:
            return _("The mobile operator's check is not available at the moment.")
        if not user.mobile or not user.mobile_confirmed_at:
            return _("Confirm your mobile number first: the check uses the number confirmed on your profile.")
        return ""

    def run(self, user: User) -> CheckResult:
        reference = secrets.token_hex(8)
        payload = {"name": user.real_name, "id_number": user.id_number, "mobile": user.mobile, "reference": reference}
        attempts = max(int(settings.IDENTITY_GATEWAY_ATTEMPTS), 1)
        last = ""
        for attempt in range(1, attempts + 1):
            try:
                answer = post_json(
                    settings.IDENTITY_GATEWAY_URL,
                    payload,
                    token=settings.IDENTITY_GATEWAY_TOKEN,
                    timeout=float(settings.IDENTITY_GATEWAY_TIMEOUT),
                    name="identity gateway",
                )
            except GatewayError as exc:
                last = str(exc)
                if exc.timeout:
                    return CheckResult(Outcome.TIMEOUT, detail=last, reference=reference)
                if exc.permanent or attempt == attempts:
                    return CheckResult(Outcome.ERROR, detail=last, reference=reference)
                time.sleep(min(0.2 * attempt, 1.0))
                continue
            data = answer.data if isinstance(answer.data, dict) else {}
            result = data.get("result")
            ref = str(data.get("reference") or reference)[:120]
            if result == "match":
                return CheckResult(Outcome.MATCH, reference=ref)
            if result == "mismatch":
                return CheckResult(Outcome.MISMATCH, reference=ref)
            return CheckResult(Outcome.ERROR, detail="identity gateway gave no result", reference=ref)
        return CheckResult(Outcome.ERROR, detail=last, reference=reference)  # pragma: no cover - the loop returns


class DemoBackend:
    """For `make run` only: an ID number whose last character is an even digit matches; odd digits and X mismatch.

    Refuses to run with DEBUG off, and portal/checks.py refuses a production configuration that names it.
    """

    method = IdentityMethod.DEMO

    def unavailable_reason(self, user: User) -> str:
        return ""

    def run(self, user: User) -> CheckResult:
        if not settings.DEBUG:
            raise ImproperlyConfigured("The demo identity check runs only with DEBUG on (IDENTITY_CHECK_BACKENDS).")
        last = (user.id_number or "")[-1:]
        if last.isdigit() and int(last) % 2 == 0:
            return CheckResult(Outcome.MATCH, reference="demo")
        return CheckResult(Outcome.MISMATCH, detail="demo: the ID number ends in an odd digit or X", reference="demo")


def enabled_backends() -> list[str]:
    """IDENTITY_CHECK_BACKENDS as a list of known names (an unknown one is a configuration error)."""
    names = [n.strip() for n in settings.IDENTITY_CHECK_BACKENDS if n.strip()]
    unknown = sorted(set(names) - set(KNOWN_BACKENDS))
    if unknown:
        raise ImproperlyConfigured(f"IDENTITY_CHECK_BACKENDS names unknown backends: {', '.join(unknown)}")
    return names


def get_backend(method: str) -> CarrierBackend | DemoBackend:
    if method not in enabled_backends() or method not in CHECK_METHODS:
        raise ValidationError(_("This way of verifying your identity is not offered."), code="method")
    return CarrierBackend() if method == IdentityMethod.CARRIER else DemoBackend()


# --- what a service needs --------------------------------------------------------------------------------


def level_label(level: str) -> StrOrPromise:
    return dict(Assurance.choices).get(level, level)


def meets(user: User, level: str) -> bool:
    return assurance_rank(user.assurance_level) >= assurance_rank(level)


def how_to_reach(level: str) -> StrOrPromise:
    if level == Assurance.IN_PERSON:
        return gettext_lazy(
            "Take your resident ID card to any police station; an officer confirms your identity there."
        )
    return gettext_lazy(
        "Open your profile and choose “Verify my identity”: it takes a minute. You can also sign in with the national "
        "government-service platform, or show your resident ID card at any police station."
    )


def ensure_assurance(user: User, *, service: str, kind: str = "") -> None:
    """Raise ValidationError (code "assurance") when `user` is below the level the service declares for `kind`."""
    needed = registry.required_assurance(service, kind)
    if meets(user, needed):
        return
    raise ValidationError(
        _("This application needs an identity at the level “%(level)s”; yours is “%(current)s”. %(how)s")
        % {"level": level_label(needed), "current": level_label(user.assurance_level), "how": how_to_reach(needed)},
        code="assurance",
    )


# --- running a check -------------------------------------------------------------------------------------


def number_taken_error() -> ValidationError:
    return ValidationError(
        _(
            "Another account with this ID number has already been verified. If the number is yours, take your "
            "resident ID card to any police station: the officers will look into it."
        ),
        code="number_verified",
    )


def identity_check_run(*, user: User, method: str) -> IdentityCheck:
    """Run one check of `user` with the named backend, record it, and on a match raise the account to Verified.

    Raises ValidationError when the check cannot be started (or the number is held by another verified account:
    the check is recorded all the same). Returns the recorded check; its outcome says what happened.
    """
    backend = get_backend(method)
    if user.identity_verified:
        raise ValidationError(_("Your identity is already verified."), code="already")
    if not user.id_number:
        raise ValidationError(_("This account has no resident ID number to check."), code="no_id_number")
    reason = backend.unavailable_reason(user)
    if reason:
        raise ValidationError(reason, code="unavailable")
    since = timezone.now() - timedelta(days=1)
    if user.identity_checks.filter(at__gte=since).count() >= IDENTITY_CHECKS_PER_DAY:
        raise ValidationError(
            _("You have tried to verify your identity too often today. Try again tomorrow, or go to a police station."),
            code="limit",
        )
    result = backend.run(user)
    check = IdentityCheck.objects.create(
        user=user, method=backend.method, outcome=result.outcome, detail=result.detail[:200], reference=result.reference
    )
    logger.info("identity check %s of user %s by %s: %s", check.pk, user.pk, backend.method, result.outcome)
    if result.outcome == Outcome.MATCH:
        assurance_grant(user=user, check=check, level=Assurance.VERIFIED)
    return check


def identity_verify_at_counter(*, user: User, officer: User, document_type: str, document_number: str) -> IdentityCheck:
    """An officer saw the person and their ID card: record it and raise the account to In person.

    The number on the card must be the account's; otherwise the mismatch is recorded and nothing is raised.
    """
    if officer.office_id is None or not (officer.has_role(Role.POLICE_OFFICER) or officer.is_superuser):
        raise ValidationError(_("Only a police station officer can confirm an identity at the counter."), code="role")
    if officer.pk == user.pk or (officer.id_number and officer.id_number == user.id_number):
        raise ValidationError(_("You cannot confirm your own identity."), code="own")
    if document_type not in IdentityCheck.Document.values:
        raise ValidationError(_("Choose the document you saw."), code="document_type")
    seen = idnumber.normalize(document_number)
    check = IdentityCheck(
        user=user,
        method=IdentityMethod.COUNTER,
        document_type=document_type,
        document_number=idnumber.mask(seen) if len(seen) == 18 else "",
        officer=officer,
        office=officer.office,
    )
    if not user.id_number or seen != user.id_number:
        check.outcome, check.detail = Outcome.MISMATCH, "the number on the card is not the account's"
        check.save()
        logger.warning("counter check %s of user %s by officer %s: mismatch", check.pk, user.pk, officer.pk)
        raise ValidationError(
            _("The number on the card you saw is not this account's ID number. Nothing was confirmed."),
            code="mismatch",
        )
    check.outcome = Outcome.MATCH
    check.save()
    assurance_grant(user=user, check=check, level=Assurance.IN_PERSON)
    logger.info("counter check %s: user %s confirmed in person by officer %s", check.pk, user.pk, officer.pk)
    return check


# --- who keeps the number --------------------------------------------------------------------------------


def assurance_grant(*, user: User, check: IdentityCheck, level: str) -> list[User]:
    """Raise `user` to `level` on the strength of `check`, and supersede every other account with the same number.

    Atomic, and safe when two people verify the same number at once: every account with the number is row-locked in
    primary-key order before anything is decided (PostgreSQL), and the partial unique index on verified numbers is
    the last word. Of two, the second finds the first verified and is refused. An account already at `level` or a
    higher one blocks the grant; a lower verified one (Verified, against an officer's In person) is superseded.
    Returns the superseded accounts.
    """
    if not user.id_number:
        raise ValidationError(_("This account has no resident ID number to check."), code="no_id_number")
    now = timezone.now()
    with transaction.atomic():
        holders = list(
            User.objects.select_for_update().filter(Q(id_number=user.id_number) | Q(pk=user.pk)).order_by("pk")
        )
        me = next(h for h in holders if h.pk == user.pk)
        if assurance_rank(me.assurance_level) >= assurance_rank(level):
            return []
        others = [h for h in holders if h.pk != me.pk]
        if any(assurance_rank(h.assurance_level) >= assurance_rank(level) for h in others):
            raise number_taken_error()
        # Verified rivals an officer's check overrides lose the level first, so the unique index admits the winner.
        demoted = [h.pk for h in others if h.assurance_level in VERIFIED_LEVELS]
        if demoted:
            User.objects.filter(pk__in=demoted).update(assurance_level=Assurance.DECLARED)
        try:
            with transaction.atomic():
                User.objects.filter(pk=me.pk).update(
                    assurance_level=level, assurance_method=check.method, assured_at=now, assurance_check=check
                )
        except IntegrityError:
            raise number_taken_error() from None
        user.assurance_level, user.assurance_method, user.assured_at = level, check.method, now
        user.assurance_check = check
        for other in others:
            _supersede(other, by=user)
        if others:
            notify_administrators(
                template="accounts/identity_superseded_admin",
                context={
                    "winner": user,
                    "check": check,
                    "superseded": others,
                    "admin_url": f"{settings.SITE_URL}{reverse('admin:accounts_user_change', args=[user.pk])}",
                },
            )
    logger.info("user %s reached %s by %s (check %s)", user.pk, level, check.method, check.pk)
    return others


def _supersede(other: User, *, by: User) -> None:
    """Suspend an account whose ID number another account proved to be theirs; freeze its cases; tell its holder."""
    if not other.is_suspended:
        other.suspend("Another account proved by an identity check that this ID number is theirs")
    reason = _(
        "Frozen: another account proved by an identity check that the ID number of this application's account is "
        "theirs. The account is suspended; its holder can have it reviewed at a police station."
    )
    # portal.cases freezes the account's unfinished cases in every service, with a timeline row each.
    account_superseded.send(sender=User, user=other, by=by, reason=reason)
    notify.notify_user(other, template="accounts/identity_superseded", context={}, sms=False)
    logger.warning("user %s suspended: user %s verified the same ID number", other.pk, by.pk)
