"""One JSON POST to an outside HTTP gateway (the SMS gateway, the identity-check gateway), with its failure classified.

Both gateways are configured by a URL and a bearer token, must answer within a timeout, must not redirect, and fail
in the same few ways: refused (4xx: trying again cannot help), unavailable (5xx, network: try again later) or too
slow. Callers decide what to do with each: the outbox retries later, an identity check retries a bounded number of
times at once and records the outcome.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import IO, Any
from urllib.parse import urlsplit

MAX_ANSWER_BYTES = 64 * 1024


class GatewayError(Exception):
    """The gateway gave no usable answer. The text never carries a secret (it is stored and logged)."""

    def __init__(self, message: str, *, permanent: bool = False, timeout: bool = False, status: int | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.timeout = timeout
        self.status = status


@dataclass(frozen=True)
class GatewayAnswer:
    status: int
    data: Any  # the decoded JSON body, or None when it was not JSON


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would turn a redirected POST into a GET without the body; a gateway that redirects is misconfigured.
    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Message, newurl: str
    ) -> None:
        return None


def is_gateway_url(url: str) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def post_json(url: str, payload: dict[str, Any], *, token: str = "", timeout: float, name: str) -> GatewayAnswer:
    """POST `payload` as JSON; a 2xx answer is returned, anything else raises GatewayError naming `name`."""
    if not is_gateway_url(url):
        # Only http(s), never file:// or ftp:// (urllib would open those too).
        raise GatewayError(f"{name} URL is not an http(s):// address", permanent=True)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers=headers, method="POST")  # noqa: S310
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:  # nosec B310  # the scheme is checked above
            status = response.status
            body = response.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as exc:
        exc.close()
        # 408 and 429 ask us to come back later; any other non-5xx answer will not change on a retry.
        permanent = exc.code < 500 and exc.code not in (408, 429)
        raise GatewayError(f"{name} answered HTTP {exc.code}", permanent=permanent, status=exc.code) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise GatewayError(f"{name} did not answer within {timeout:g} s", timeout=True) from None
        raise GatewayError(f"{name} unreachable: {exc.reason}") from None
    except TimeoutError:
        raise GatewayError(f"{name} did not answer within {timeout:g} s", timeout=True) from None
    except OSError as exc:
        raise GatewayError(f"{name} connection failed: {exc.__class__.__name__}") from None
    if not 200 <= status < 300:
        raise GatewayError(f"{name} answered HTTP {status}", permanent=status < 500, status=status)
    try:
        data = json.loads(body or b"null")
    except ValueError:
        data = None
    return GatewayAnswer(status=status, data=data)
