"""Enrol a staff member in TOTP: create a confirmed device and print its otpauth URL and secret."""

import base64

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


class Command(BaseCommand):
    help = "Create a confirmed TOTP device for a staff user and print the otpauth:// URL and the base32 secret."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="authenticator", help="Device name shown in the admin.")
        parser.add_argument(
            "--replace", action="store_true", help="Delete the user's existing TOTP devices first (a lost phone)."
        )

    def handle(self, *args, username, name, replace, **options):
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None
        if not user.is_staff:
            raise CommandError(f"{user.username} is not staff; only staff sign in to the admin.")
        existing = TOTPDevice.objects.filter(user=user)
        if existing.exists() and not replace:
            raise CommandError(f"{user.username} already has a TOTP device; use --replace to start again.")
        with transaction.atomic():
            existing.delete()
            device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
        secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
        self.stdout.write(f"otpauth URL: {device.config_url}")
        self.stdout.write(f"secret (base32): {secret}")
        self.stdout.write(
            "Scan the URL as a QR code or type the secret into the authenticator app; then destroy this output."
        )
