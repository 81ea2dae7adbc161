"""Enrol one staff member in TOTP: print a signed one-time enrolment link (accounts.totp_enrol), never the secret."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.totp_enrol import MAX_AGE_SECONDS, enrolment_url, new_device


class Command(BaseCommand):
    help = (
        "Give a staff user a new authenticator and print its one-time enrolment link (SITE_URL/admin/totp-enrol/…/), "
        "whose page shows the QR code until a valid code confirms the device. The secret is never printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--replace", action="store_true", help="Delete the user's confirmed TOTP device first (a lost phone)."
        )

    def handle(self, *args, username, replace, **options):
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None
        if not user.is_staff:
            raise CommandError(f"{user.username} is not staff; only staff sign in to the admin.")
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists() and not replace:
            raise CommandError(f"{user.username} already has an authenticator; use --replace to start again.")
        with transaction.atomic():
            # Any earlier device goes, and with it every earlier link for this member.
            url = enrolment_url(new_device(user=user))
        hours = MAX_AGE_SECONDS // 3600
        # The link is the credential until it is used: hand it to the member only, over a trusted channel.
        self.stdout.write(f"enrol {user.username}: {url}")
        self.stdout.write(
            f"The link works once, for {hours} hours; the member opens it, scans the QR code and enters a code."
        )
