"""HMAC tokens for e-mailed links whose hash includes the state they depend on, so a used link dies.

The style of django.contrib.auth.tokens: nothing is stored; a token stops working when the user's state
in the hash changes (e-mail confirmed, e-mail changed, password changed, logged in) or when it expires.
"""

import datetime

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode


def _stamp(value: datetime.datetime | None) -> str:
    # Microseconds dropped so that a token is stable on databases that do not store them.
    return "" if value is None else value.replace(microsecond=0, tzinfo=None).isoformat()


class TimedTokenGenerator(PasswordResetTokenGenerator):
    """A token generator with its own lifetime (`timeout` in seconds; None means PASSWORD_RESET_TIMEOUT)."""

    timeout: int | None = None

    def get_timeout(self) -> int:
        return self.timeout if self.timeout is not None else settings.PASSWORD_RESET_TIMEOUT

    def check_token(self, user, token):
        if not (user and token):
            return False
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        return (self._num_seconds(self._now()) - ts) <= self.get_timeout()


class PasswordResetTokens(TimedTokenGenerator):
    """Password reset links: die after use (password, last login), after an e-mail change, on suspension."""

    key_salt = "accounts.tokens.PasswordResetTokens"

    def _make_hash_value(self, user, timestamp):
        return "|".join(
            [
                str(user.pk),
                user.password,
                _stamp(user.last_login),
                str(timestamp),
                (user.email or "").lower(),
                _stamp(user.suspended_at),
                str(user.is_active),
            ]
        )


class EmailConfirmationTokens(TimedTokenGenerator):
    """E-mail confirmation links: valid 3 days; die once the address is confirmed or changed."""

    key_salt = "accounts.tokens.EmailConfirmationTokens"
    timeout = 3 * 24 * 3600

    def _make_hash_value(self, user, timestamp):
        return "|".join([str(user.pk), (user.email or "").lower(), _stamp(user.email_confirmed_at), str(timestamp)])

    def make_link_token(self, user) -> str:
        """One path segment carrying the user and the token: '<uidb64>.<timestamp>-<hash>'."""
        return f"{urlsafe_base64_encode(force_bytes(user.pk))}.{self.make_token(user)}"

    @staticmethod
    def split_link_token(link_token: str):
        """(user pk or None, token) from a link token; '.' never occurs in URL-safe base64."""
        uidb64, sep, token = (link_token or "").partition(".")
        if not sep:
            return None, ""
        try:
            pk = int(force_str(urlsafe_base64_decode(uidb64)))
        except (ValueError, TypeError, OverflowError):
            return None, ""
        return pk, token


password_reset_tokens = PasswordResetTokens()
email_confirmation_tokens = EmailConfirmationTokens()
