"""One-time TOTP enrolment links for staff: a signed, expiring URL whose page shows the QR code until the member
enters a valid code (docs/deploy.md#offices-and-staff), so that no secret is ever printed to a terminal or log."""

import hashlib

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

SALT = "accounts.totp-enrol"
# Long enough for a new member to be handed the link on their first day; a stale link is reissued with --reenrol.
MAX_AGE_SECONDS = 72 * 3600


def _fingerprint(device: TOTPDevice) -> str:
    # Binds the link to this key: a re-enrolment makes a new key, and every earlier link for the member dies with it.
    return hashlib.sha256(device.key.encode("ascii")).hexdigest()[:16]


def new_device(*, user: object) -> TOTPDevice:
    """Replace the member's TOTP devices with one unconfirmed device, usable only once they have proved it works."""
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def enrolment_url(device: TOTPDevice) -> str:
    token = signing.dumps({"d": device.pk, "k": _fingerprint(device)}, salt=SALT, compress=True)
    return settings.SITE_URL + reverse("totp_enrol", args=[token])


def device_for_token(token: str) -> TOTPDevice | None:
    """The unconfirmed device of an active staff member a valid, unexpired link names; None otherwise."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    device = TOTPDevice.objects.select_related("user").filter(pk=data.get("d"), confirmed=False).first()
    if device is None or _fingerprint(device) != data.get("k"):
        return None
    if not (device.user.is_active and device.user.is_staff):
        return None
    return device
