"""Public verification pages and API (no login), and the holder's / staff's download of an issued PDF."""

import ipaddress
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from portal.ratelimit import client_ip, rate_limited, window_key

from . import services
from .codes import normalize_code
from .forms import CodeForm, PdfForm
from .models import IssuedDocument, VerificationLog

if TYPE_CHECKING:
    from accounts.models import User

# Per client address: (requests, seconds). PDF checks cost a signature validation each, so they get fewer.
# Settings may override them (the load benchmark lifts the first).
DEFAULT_LOOKUP_LIMIT = (30, 60)
DEFAULT_PDF_LIMIT = (10, 60)


def _limited(request: HttpRequest, scope: str, setting: str, default: tuple[int, int]) -> tuple[bool, int]:
    limit: int
    period: int
    limit, period = getattr(settings, setting, default)
    return rate_limited(request, scope, limit=limit, period=period), period


def _ip(request: HttpRequest) -> str | None:
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None


def _verify_within_limit(
    request: HttpRequest, code: str, channel: str
) -> tuple[services.VerificationResult | None, int]:
    """(result, period): the verification of `code`, or (None, period) past the client's look-up limit."""
    limit: int
    period: int
    limit, period = getattr(settings, "VERIFY_RATE_LIMIT", DEFAULT_LOOKUP_LIMIT)
    result = services.verify_code_within_limit(
        code=code,
        channel=channel,
        ip=_ip(request),
        limit_key=window_key(request, "verify", period),
        limit=limit,
        period=period,
    )
    return result, period


def _limited_page(request: HttpRequest, period: int) -> HttpResponse:
    response = render(request, "verify/limited.html", status=429)
    response["Retry-After"] = str(period)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """GET: the code form (a submitted code redirects to its page). POST: check an uploaded PDF."""
    code_form = CodeForm(request.GET if "code" in request.GET else None)
    pdf_form = PdfForm()
    outcome = None
    if request.method == "POST":
        limited, period = _limited(request, "verify-pdf", "VERIFY_PDF_RATE_LIMIT", DEFAULT_PDF_LIMIT)
        if limited:
            return _limited_page(request, period)
        pdf_form = PdfForm(request.POST, request.FILES)
        if pdf_form.is_valid():
            outcome = services.verify_pdf(pdf=pdf_form.cleaned_data["pdf"], ip=_ip(request))
            pdf_form = PdfForm()
    elif code_form.is_bound:
        limited, period = _limited(request, "verify", "VERIFY_RATE_LIMIT", DEFAULT_LOOKUP_LIMIT)
        if limited:
            return _limited_page(request, period)
        if code_form.is_valid():
            return redirect("verify:detail", code=code_form.cleaned_data["code"])
    return render(
        request,
        "verify/index.html",
        {"code_form": code_form, "pdf_form": pdf_form, "outcome": outcome},
        status=400 if (code_form.errors or pdf_form.errors) else 200,
    )


@never_cache
@require_GET
def detail(request: HttpRequest, code: str) -> HttpResponse:
    """The QR target: what the code stands for, in the minimum the rules allow."""
    canonical = normalize_code(code)
    if canonical and canonical != code:
        # Typed by hand (lower case, no hyphens, O for 0): one canonical address, not counted twice.
        limited, period = _limited(request, "verify", "VERIFY_RATE_LIMIT", DEFAULT_LOOKUP_LIMIT)
        if limited:
            return _limited_page(request, period)
        return redirect("verify:detail", code=canonical, permanent=True)
    result, period = _verify_within_limit(request, code, VerificationLog.Channel.PAGE)
    if result is None:
        return _limited_page(request, period)
    return render(
        request,
        "verify/detail.html",
        {"result": result},
        status=404 if result.state == services.State.NOT_FOUND else 200,
    )


@never_cache
@require_GET
def api(request: HttpRequest, code: str) -> HttpResponse:
    """JSON for machines: {"code","state","document_type","holder","issued_on","issuing_office",...}."""
    result, period = _verify_within_limit(request, code, VerificationLog.Channel.API)
    if result is None:
        response = JsonResponse({"error": "rate_limited", "detail": "Too many requests; try again later."}, status=429)
        response["Retry-After"] = str(period)
        return response
    response = JsonResponse(
        result.as_json(),
        status=404 if result.state == services.State.NOT_FOUND else 200,
        json_dumps_params={"ensure_ascii": False},
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@login_required
def download(request: HttpRequest, code: str) -> HttpResponseBase:
    """The issued PDF, for its holder or for staff whose offices include the issuing office; 404 to anyone else."""
    canonical = normalize_code(code)
    document = IssuedDocument.objects.filter(code=canonical).first() if canonical else None
    if document is None or not services.issued_document_may_download(user=request.user, document=document):
        raise Http404
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    user = cast("User", request.user)  # login_required
    services.issued_document_record_access(document=document, user=user, ip=_ip(request))
    response = FileResponse(
        handle, as_attachment=True, filename=f"{document.kind}-{document.code}.pdf", content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response
