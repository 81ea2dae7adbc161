"""Public verification pages and API (no login), and the holder's / staff's download of an issued PDF."""

import ipaddress
import time
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from portal.middleware import lean_view
from portal.ratelimit import client_ip, rate_limited, rate_limited_key, window_key

from . import schema, sharing
from .access import issued_document_may_download, issued_document_record_access
from .codes import normalize_code
from .forms import CodeForm, HolderCheckForm, PdfForm, ShareCreateForm, ShareUseForm
from .lookup import State, VerificationResult, verification_result, verify_code_within_limit
from .models import DocumentStatus, IssuedDocument, ShareCode, VerificationLog
from .pagecache import cached_page, page_cacheable
from .pdfverify import verify_pdf

if TYPE_CHECKING:
    from accounts.models import User

# Per client address: (requests, seconds). PDF checks cost a signature validation each, so they get fewer.
# Settings may override them (the load benchmark lifts the first).
DEFAULT_LOOKUP_LIMIT = (30, 60)
DEFAULT_PDF_LIMIT = (10, 60)
# Holder checks and share-code uses: per client address AND per code, so that guessing a name or a date of birth
# for one code from many addresses is refused too (a few tries an hour is all a real verifier needs).
DEFAULT_HOLDER_LIMIT = (5, 900)


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


def _verify_within_limit(request: HttpRequest, code: str, channel: str) -> tuple[VerificationResult | None, int]:
    """(result, period): the verification of `code`, or (None, period) past the client's look-up limit."""
    limit: int
    period: int
    limit, period = getattr(settings, "VERIFY_RATE_LIMIT", DEFAULT_LOOKUP_LIMIT)
    result = verify_code_within_limit(
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
            outcome = verify_pdf(pdf=pdf_form.cleaned_data["pdf"], ip=_ip(request))
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


@lean_view  # no session, user or messages (portal.middleware); CSRF still guards the holder check's POST
@never_cache
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, code: str) -> HttpResponse:
    """The QR target: the verdict first, then what the code stands for; POST checks the holder's name and birth date."""
    canonical = normalize_code(code)
    if canonical and canonical != code:
        # Typed by hand (lower case, no hyphens, O for 0): one canonical address, not counted twice.
        limited, period = _limited(request, "verify", "VERIFY_RATE_LIMIT", DEFAULT_LOOKUP_LIMIT)
        if limited:
            return _limited_page(request, period)
        return redirect("verify:detail", code=canonical, permanent=True)
    if request.method == "POST":
        return _holder_check(request, code)
    result, period = _verify_within_limit(request, code, VerificationLog.Channel.PAGE)
    if result is None:
        return _limited_page(request, period)

    def context() -> dict[str, object]:
        # Built only when a page is rendered: a shell already rendered needs no form (a form costs deep copies).
        return {"result": result, "holder_form": HolderCheckForm() if result.found else None}

    if page_cacheable(request, result):
        return cached_page(request, result, context)
    return render(request, "verify/detail.html", context(), status=404 if result.state == State.NOT_FOUND else 200)


def _holder_limited(request: HttpRequest, scope: str, code: str) -> tuple[bool, int]:
    """Count one guess against the client's address and against the code itself; True past either limit."""
    limit: int
    period: int
    limit, period = getattr(settings, "VERIFY_HOLDER_RATE_LIMIT", DEFAULT_HOLDER_LIMIT)
    if rate_limited(request, scope, limit=limit, period=period):
        return True, period
    code_key = f"rl:{scope}-code:{code}:{int(time.time() // period)}"
    return rate_limited_key(code_key, limit=limit, period=period), period


def _holder_check(request: HttpRequest, code: str) -> HttpResponse:
    form = HolderCheckForm(request.POST)
    result = verification_result(code=code)
    if not result.found:
        return render(request, "verify/detail.html", {"result": result, "holder_form": None}, status=404)
    match = None
    full_name = ""
    status = 200
    if form.is_valid():
        limited, period = _holder_limited(request, "verify-holder", result.code)
        if limited:
            return _limited_page(request, period)
        match, full_name = sharing.holder_matches(
            code=result.code,
            name=form.cleaned_data["name"],
            birth_date=form.cleaned_data["birth_date"],
            ip=_ip(request),
        )
        form = HolderCheckForm(initial={"name": form.cleaned_data["name"]}) if match else form
    else:
        status = 400
    return render(
        request,
        "verify/detail.html",
        {"result": result, "holder_form": form, "holder_match": match, "holder_full_name": full_name},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def share(request: HttpRequest) -> HttpResponse:
    """/verify/share/: an organisation enters the share code it was given with the holder's date of birth."""
    form = ShareUseForm(request.POST if request.method == "POST" else None)
    answer = None
    status = 200
    if request.method == "POST":
        limited, period = _limited(request, "verify", "VERIFY_RATE_LIMIT", DEFAULT_LOOKUP_LIMIT)
        if limited:
            return _limited_page(request, period)
        if form.is_valid():
            limited, period = _holder_limited(request, "verify-share", form.cleaned_data["code"])
            if limited:
                return _limited_page(request, period)
            answer = sharing.share_code_use(
                code=form.cleaned_data["code"],
                birth_date=form.cleaned_data["birth_date"],
                organisation=form.cleaned_data["organisation"],
                notify_email=form.cleaned_data["notify_email"],
                ip=_ip(request),
            )
            if not answer.matched:
                status = 404
        else:
            status = 400
    return render(request, "verify/share.html", {"form": form, "answer": answer}, status=status)


@login_required
@require_http_methods(["POST"])
def share_create(request: HttpRequest) -> HttpResponse:
    """From /me/: a new share code for one of the holder's valid documents; shown once, on /me/."""
    user = cast("User", request.user)  # login_required
    documents = list(
        IssuedDocument.objects.filter(holder=user, status=DocumentStatus.VALID).exclude(
            valid_until__lt=timezone.localdate()
        )
    )
    form = ShareCreateForm(request.POST, documents=[(d.code, d.title) for d in documents])
    if form.is_valid():
        document = next(d for d in documents if d.code == form.cleaned_data["document"])
        try:
            created, code = sharing.share_code_create(
                document=document,
                holder=user,
                organisation=form.cleaned_data["organisation"],
                purpose=form.cleaned_data["purpose"],
                days=form.cleaned_data["days"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            request.session[NEW_SHARE_SESSION_KEY] = {"pk": created.pk, "code": code}
            return redirect(reverse("me") + f"#share-{created.pk}")
    request.session[SHARE_FORM_SESSION_KEY] = {"data": request.POST.dict(), "errors": form.errors.get_json_data()}
    return redirect(reverse("me") + "#share-heading")


@login_required
@require_http_methods(["POST"])
def share_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = cast("User", request.user)  # login_required
    found = ShareCode.objects.filter(pk=pk, holder=user).first()
    if found is None:
        raise Http404
    sharing.share_code_cancel(share=found, holder=user)
    messages.success(request, _("The share code ending in %(hint)s is cancelled.") % {"hint": found.code_hint})
    return redirect(reverse("me") + f"#share-{found.pk}")


NEW_SHARE_SESSION_KEY = "verify_new_share_code"
SHARE_FORM_SESSION_KEY = "verify_share_form"


@never_cache
@require_GET
def openapi(request: HttpRequest) -> HttpResponse:
    """The verification API's schema (OpenAPI 3.1, info.version "2"): docs/api/verify.md."""
    response = JsonResponse(schema.openapi_document(), json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["X-Content-Type-Options"] = "nosniff"
    return response


@lean_view  # no session, user or messages (portal.middleware)
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
        status=404 if result.state == State.NOT_FOUND else 200,
        json_dumps_params={"ensure_ascii": False},
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@csrf_exempt  # a machine's upload carries no session: nothing here acts for anyone
@never_cache
@require_http_methods(["POST"])
def api_pdf(request: HttpRequest) -> HttpResponse:
    """JSON for machines: the verdict on an uploaded PDF (multipart field "pdf"), as on the upload page."""
    limited, period = _limited(request, "verify-pdf", "VERIFY_PDF_RATE_LIMIT", DEFAULT_PDF_LIMIT)
    if limited:
        response = JsonResponse({"error": "rate_limited", "detail": "Too many requests; try again later."}, status=429)
        response["Retry-After"] = str(period)
        return response
    form = PdfForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = [str(message) for messages_ in form.errors.values() for message in messages_]
        return JsonResponse({"error": "invalid_upload", "detail": " ".join(errors)}, status=400)
    outcome = verify_pdf(pdf=form.cleaned_data["pdf"], ip=_ip(request))
    response = JsonResponse(outcome.as_json(), json_dumps_params={"ensure_ascii": False})
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@login_required
def download(request: HttpRequest, code: str) -> HttpResponseBase:
    """The issued PDF, for its holder or for staff whose offices include the issuing office; 404 to anyone else."""
    canonical = normalize_code(code)
    document = IssuedDocument.objects.filter(code=canonical).first() if canonical else None
    if document is None or not issued_document_may_download(user=request.user, document=document):
        raise Http404
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    user = cast("User", request.user)  # login_required
    issued_document_record_access(document=document, user=user, ip=_ip(request))
    response = FileResponse(
        handle, as_attachment=True, filename=f"{document.kind}-{document.code}.pdf", content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response
