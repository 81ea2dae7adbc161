"""Pages every service shares: the catalogue, my applications, the public progress enquiry, health."""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import registry
from .forms import TrackForm
from .ratelimit import rate_limited

logger = logging.getLogger(__name__)


def home(request):
    return render(request, "portal/home.html", {"services": registry.services()})


@login_required
def me(request):
    from portal.verify.models import IssuedDocument  # the shared verify app; no service is imported here

    documents = IssuedDocument.objects.filter(holder=request.user).select_related("issuing_office")
    return render(
        request, "portal/me.html", {"cases": registry.cases_for_user(request.user), "issued_documents": documents}
    )


@never_cache
def track(request):
    """Public progress enquiry: case number plus the applicant's name or the last four ID characters."""
    result = None
    searched = False
    form = TrackForm(request.POST or None)
    if request.method == "POST":
        if rate_limited(request, "track", limit=20, period=60):
            return render(request, "portal/track.html", {"form": form, "limited": True}, status=429)
        if form.is_valid():
            searched = True
            result = registry.track(form.cleaned_data["case_number"], form.cleaned_data["second_factor"])
    return render(request, "portal/track.html", {"form": form, "result": result, "searched": searched})


@require_POST
def text_size(request):
    """The large-text switch: a cookie, so it works without JavaScript and without an account."""
    size = "large" if request.POST.get("size") == "large" else "normal"
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    response.set_cookie(
        "portal_text", size, max_age=365 * 24 * 3600, samesite="Lax", httponly=True, secure=request.is_secure()
    )
    return response


@never_cache
def healthz(request):
    """Liveness and readiness for the load balancer: the database and the broker."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        logger.error("healthz: database: %s", exc)
        checks["database"] = "error"
    checks["broker"] = _broker_status()
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)


def _broker_status():
    if not settings.REDIS_URL:
        return "ok"  # the embedded broker is a folder on this machine
    try:
        import redis

        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
        return "ok"
    except Exception as exc:  # noqa: BLE001
        logger.error("healthz: broker: %s", exc)
        return "error"
