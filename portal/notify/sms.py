"""SMS backends, chosen by settings.SMS_BACKEND: "console", "database" or the http(s):// URL of a gateway.

A backend's `send(message)` returns the provider's message id ("" when there is none) or raises
DeliveryError; `permanent=True` says that trying again cannot help (the gateway refused the request).
A backend whose `delivers` is False hands the message to nobody: the outbox records it as kept, not sent.
"""

import logging
import sys

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from portal.gateway import GatewayError, is_gateway_url, post_json
from portal.masking import mask_mobile

logger = logging.getLogger("portal.notify.sms")

GATEWAY_TIMEOUT = 5  # seconds; a slow gateway is retried later rather than holding a worker


class DeliveryError(Exception):
    """Sending failed. The message text is stored on the outbox row, so it never carries a secret."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class ConsoleBackend:
    """Development: prints every SMS in full, so a developer can read confirmation codes in the terminal."""

    delivers = True  # to the developer reading the terminal

    def __init__(self, stream=None):
        self.stream = stream

    def send(self, message) -> str:
        stream = self.stream or sys.stdout
        stream.write(f"SMS to {message.to}: {message.body}\n")
        stream.flush()
        return ""


class DatabaseBackend:
    """No delivery at all: the outbox row is the record (read it in the admin or `manage.py shell`), marked kept."""

    delivers = False

    def send(self, message) -> str:
        logger.info("SMS %s to %s kept in the outbox (database SMS backend)", message.pk, mask_mobile(message.to))
        return ""


class HttpGatewayBackend:
    """POSTs {"to", "text", "id"} as JSON; 2xx is sent, 4xx a permanent refusal, 5xx and network errors retried."""

    delivers = True

    def __init__(self, url: str, token: str = "", timeout: float = GATEWAY_TIMEOUT):  # nosec B107  # an empty default
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, message) -> str:
        try:
            answer = post_json(
                self.url,
                {"to": message.to, "text": message.body, "id": message.pk},
                token=self.token,
                timeout=self.timeout,
                name="SMS gateway",
            )
        except GatewayError as exc:
            raise DeliveryError(str(exc), permanent=exc.permanent) from None
        provider_id = ""
        if isinstance(answer.data, dict) and answer.data.get("id") not in (None, ""):
            provider_id = str(answer.data["id"])[:120]
        logger.info(
            "SMS %s to %s accepted by the gateway (id %s)", message.pk, mask_mobile(message.to), provider_id or "-"
        )
        return provider_id


def get_backend():
    """The backend named by settings.SMS_BACKEND (read on every call, so tests can override it)."""
    name = (settings.SMS_BACKEND or "").strip()
    if name == "console":
        return ConsoleBackend()
    if name == "database":
        return DatabaseBackend()
    if is_gateway_url(name):
        return HttpGatewayBackend(name, token=settings.SMS_GATEWAY_TOKEN)
    raise ImproperlyConfigured("SMS_BACKEND must be 'console', 'database' or an http(s):// gateway URL.")
