"""The one way to read a private document: a permission-checked, logged download."""

import ipaddress

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

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
