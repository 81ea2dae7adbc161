"""SMS backends, chosen by settings.SMS_BACKEND: "console", "database" or the http(s):// URL of a gateway.

A backend's `send(message)` returns the provider's message id ("" when there is none) or raises
DeliveryError; `permanent=True` says that trying again cannot help (the gateway refused the request).
A backend whose `delivers` is False hands the message to nobody: the outbox records it as kept, not sent.
"""

import json
import logging
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would turn a redirected POST into a GET without the body; a gateway that redirects is misconfigured.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class HttpGatewayBackend:
    """POSTs {"to", "text", "id"} as JSON; 2xx is sent, 4xx a permanent refusal, 5xx and network errors retried."""

    delivers = True

    def __init__(self, url: str, token: str = "", timeout: float = GATEWAY_TIMEOUT):  # nosec B107  # an empty default
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, message) -> str:
        payload = json.dumps({"to": message.to, "text": message.body, "id": message.pk}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        # The scheme is checked in get_backend: only http(s), never file:// or ftp://.
        request = urllib.request.Request(self.url, data=payload, headers=headers, method="POST")  # noqa: S310
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                status = response.status
                body = response.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            exc.close()
            # 408 and 429 ask us to come back later; any other non-5xx answer will not change on a retry.
            permanent = exc.code < 500 and exc.code not in (408, 429)
            raise DeliveryError(f"SMS gateway answered HTTP {exc.code}", permanent=permanent) from None
        except urllib.error.URLError as exc:
            raise DeliveryError(f"SMS gateway unreachable: {exc.reason}") from None
        except TimeoutError:
            raise DeliveryError(f"SMS gateway did not answer within {self.timeout:g} s") from None
        except OSError as exc:
            raise DeliveryError(f"SMS gateway connection failed: {exc.__class__.__name__}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"SMS gateway answered HTTP {status}", permanent=status < 500)
        provider_id = ""
        try:
            answer = json.loads(body or b"null")
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("id") not in (None, ""):
            provider_id = str(answer["id"])[:120]
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
    if urlsplit(name).scheme in ("http", "https"):
        return HttpGatewayBackend(name, token=settings.SMS_GATEWAY_TOKEN)
    raise ImproperlyConfigured("SMS_BACKEND must be 'console', 'database' or an http(s):// gateway URL.")
