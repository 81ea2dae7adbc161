"""The one way to read a private document: a permission-checked, logged download; and the applicant's withdrawal of
an upload."""

import ipaddress
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from portal.cases.services import TransitionError
from portal.ratelimit import client_ip

from . import services
from .models import Document

INLINE_TYPES = ("image/jpeg", "image/png")


@require_GET
@login_required
def download(request, public_id):
    document = get_object_or_404(Document, public_id=public_id)
    # Not the owner and not in scope looks exactly like "no such document".
    if not services.document_may_view(user=request.user, document=document):
        raise Http404
    inline = (
        request.GET.get("inline") == "1"
        and request.user.is_staff
        and document.owner_id != request.user.pk
        and document.mime_type in INLINE_TYPES
    )
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    services.document_record_access(document=document, user=request.user, ip=_ip(request), inline=inline)
    response = FileResponse(
        handle, as_attachment=not inline, filename=document.download_name, content_type=document.mime_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Even if a browser rendered the file, it would run in a sandbox with no script and no origin.
    response["Content-Security-Policy"] = "sandbox"
    return response


def _ip(request):
    value = client_ip(request)
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _back(request: HttpRequest) -> str:
    """Where the citizen came from (the page listing their uploads), if it is ours; else /me/."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("me")


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """GET asks for confirmation; POST withdraws the upload (docs/architecture.md#security-and-privacy)."""
    # Someone else's document looks exactly like no document at all.
    document = get_object_or_404(Document, public_id=public_id, owner=request.user, withdrawn=False)
    back = _back(request)
    if not services.document_may_withdraw(document=document, user=request.user):
        messages.info(
            request,
            _("A file can be withdrawn only while the application is a draft or more information is requested."),
        )
        return redirect(back)
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.document_withdraw(document=document, by=request.user)
        except TransitionError as exc:
            errors = [str(exc)]
        else:
            messages.success(
                request, _("The file “%(name)s” is withdrawn from the application.") % {"name": document.download_name}
            )
            return redirect(back)
    context = {"document": document, "case": document.case, "back": back, "errors": errors}
    return render(request, "documents/withdraw.html", context, status=400 if errors else 200)
