"""The whole verification page of a found code, rendered once and served from the shared cache with a fresh CSRF token.

/verify/<code>/ is the QR target, and rendering it (the portal's shell, the verdict, the holder-check form) cost more
than everything else on the request. What it shows for a GET without a query string depends only on:

- the result (`VerificationResult.fragment_key`, a digest of every field: a revocation or an expiry changes it, so
  a page rendered for "valid" is never found for a result that is not; the result itself comes from the row cache,
  which a revocation keeps from answering "valid", rowcache.py);
- the language and the care-mode cookie (both in the key);
- the code, which is in the result (a code that is not written canonically is redirected before this, and a
  request with a query string, whose address the language and care-mode switches send back, is rendered as usual);
- the CSRF token of the three forms (the switches and the holder check): rendered as a slot that each response
  fills with a token of its own (masked anew every time, and setting the cookie as the tag would).

Nothing else is per visitor on a lean view (portal.middleware.lean_view): no user, session or messages. The page is
not used after a holder check (it shows a full name) nor for an unknown code (404, rendered as usual).
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import translation

from portal.context_processors import care_mode

if TYPE_CHECKING:
    from .lookup import VerificationResult

logger = logging.getLogger("portal.verify")

# Seconds a rendered page is kept (in Redis with it, ~8 KB each: at most the pages asked for in that time).
PAGE_SECONDS = 300
# Where each response's CSRF token goes: random per process, so no field of a document can contain it.
_CSRF_SLOT = f"csrf-slot-{secrets.token_hex(16)}"


def page_key(result: VerificationResult, request: HttpRequest) -> str:
    care = "care" if care_mode(request) else "plain"
    return f"verify-page:{result.fragment_key}:{translation.get_language()}:{care}"


def page_cacheable(request: HttpRequest, result: VerificationResult) -> bool:
    """Whether this answer may be the cached page: a GET of a found code at its canonical address, no query string."""
    return (
        request.method == "GET"
        and result.found
        and not request.META.get("QUERY_STRING")
        and request.path_info == f"/verify/{result.code}/"
    )


def cached_page(request: HttpRequest, result: VerificationResult, context: dict[str, Any]) -> HttpResponse:
    """The page of `result` from the shared cache, or rendered (with `context`) and cached; its CSRF slot filled."""
    key = page_key(result, request)
    try:
        body = cache.get(key)
    except Exception as exc:  # noqa: BLE001 - the cache is an optimisation: any fault of it renders the page
        logger.warning("verification page cache unreadable (%s); rendering", exc.__class__.__name__)
        body = None
    if not isinstance(body, str):
        body = render_to_string(
            "verify/detail.html", {**context, "csrf_token": _CSRF_SLOT, "whole_page": True}, request=request
        )
        try:
            cache.set(key, body, PAGE_SECONDS)
        except Exception as exc:  # noqa: BLE001 - as above: not cached this time
            logger.warning("verification page not cached (%s)", exc.__class__.__name__)
    return HttpResponse(body.replace(_CSRF_SLOT, get_token(request)))
