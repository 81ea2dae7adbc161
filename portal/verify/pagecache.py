"""The verification page of a found code from a shell rendered once per process: no page rendered on the request.

/verify/<code>/ is the QR target, and rendering it (the portal's shell, the verdict, the holder-check form) cost more
than everything else on the request. What it shows for a GET without a query string depends only on:

- the verdict and details (`verify/_detail_result.html`), rendered once per result and language and kept in the
  process's fragments cache under `VerificationResult.fragment_key`, a digest of every field: a revocation or an
  expiry changes it, so a fragment rendered for "valid" is never found for a result that is not (the result itself
  comes from the row cache, which a revocation keeps from answering "valid", rowcache.py);
- the rest of the page, the shell: the language, the care-mode cookie and whether the result is valid (the title),
  rendered once per process with slots for the verdict, the page's address (in the holder check's form and the
  switches' "next") and the CSRF token;
- the CSRF token of the three forms (the switches and the holder check): each response fills the slot with a token
  of its own (masked anew every time, and setting the cookie as the tag would).

Nothing else is per visitor on a lean view (portal.middleware.lean_view): no user, session or messages. The shell is
not used after a holder check (it shows a full name), for an unknown code (404) nor for an address that is not the
code's canonical one or has a query string: those are rendered as usual.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.html import escape

from portal.context_processors import care_mode

if TYPE_CHECKING:
    from .lookup import VerificationResult

logger = logging.getLogger("portal.verify")

# The slots of a shell: random at each start, so no field of a document can contain one; letters, digits and hyphens,
# which HTML escaping leaves as they are.
_TOKEN = secrets.token_hex(12)
_SLOTS = {name: f"slot-{name}-{_TOKEN}" for name in ("verdict", "path", "action", "csrf")}
_SLOT_RE = re.compile("(" + "|".join(_SLOTS.values()) + ")")
_NAMES = {slot: name for name, slot in _SLOTS.items()}
# (language, care mode, valid, script prefix) -> the shell split at its slots: text at even indexes, slot names at odd.
_shells: dict[tuple[str, bool, bool, str], list[str]] = {}
VERDICT_SECONDS = 300


def page_cacheable(request: HttpRequest, result: VerificationResult) -> bool:
    """Whether this answer may be the shell's: a GET of a found code at its canonical address, no query string."""
    return (
        request.method == "GET"
        and result.found
        and not request.META.get("QUERY_STRING")
        and request.path_info == f"/verify/{result.code}/"
    )


def cached_page(
    request: HttpRequest, result: VerificationResult, context: Callable[[], dict[str, Any]]
) -> HttpResponse:
    """The page of `result`: the shell (rendered with what `context()` returns, on first use) with its slots filled."""
    language = translation.get_language() or ""
    key = (language, care_mode(request), result.valid, get_script_prefix())
    parts = _shells.get(key)
    if parts is None:
        shell = render_to_string(
            "verify/detail.html",
            {
                **context(),
                "whole_page": True,
                "verdict_html": _SLOTS["verdict"],
                "page_path": _SLOTS["path"],
                "holder_action": _SLOTS["action"],
                "csrf_token": _SLOTS["csrf"],
            },
            request=request,
        )
        parts = [_NAMES.get(part, part) if i % 2 else part for i, part in enumerate(_SLOT_RE.split(shell))]
        if set(parts[1::2]) != set(_SLOTS) or parts[1::2].count("verdict") != 1:
            # A template that lost a slot would show one code's verdict or token on every page: render instead.
            logger.error("verify/detail.html has not every slot of the shell once; the page is rendered each time")
            return render(request, "verify/detail.html", context())
        if not settings.DEBUG:  # in development a template edited shows at once
            _shells[key] = parts
    values = {
        "verdict": _verdict(request, result, language),
        "path": escape(request.get_full_path()),
        "action": escape(reverse("verify:detail", args=[result.code])),
        "csrf": get_token(request),
    }
    return HttpResponse("".join(values[part] if i % 2 else part for i, part in enumerate(parts)))


def _verdict(request: HttpRequest, result: VerificationResult, language: str) -> str:
    fragments = caches["fragments"]  # this process's memory: no round trip
    key = f"verify-verdict:{result.fragment_key}:{language}"
    found = fragments.get(key)
    if isinstance(found, str):
        return found
    html = render_to_string("verify/_detail_result.html", {"result": result}, request=request)
    fragments.set(key, html, VERDICT_SECONDS)
    return html
