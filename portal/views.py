"""Pages every service shares: the catalogue, my applications, the public progress enquiry, health."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Q
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import registry
from .cases import tracking
from .context_processors import CARE_COOKIE
from .forms import TrackForm
from .ratelimit import rate_limited

if TYPE_CHECKING:
    from redis import Redis

logger = logging.getLogger(__name__)


STAGES = (registry.Stage.ACTION, registry.Stage.IN_PROGRESS, registry.Stage.FINISHED)


def home(request):
    return render(request, "portal/home.html", {"services": registry.services()})


@login_required
@never_cache
def me(request):
    """My applications in three groups (needs your action, in progress, finished), each with its next step and date;
    my certificates and licences (the wallet) with their share codes; my messages and my account."""
    from portal.verify import sharing  # the shared verify app; no service is imported here
    from portal.verify.forms import ShareCreateForm
    from portal.verify.models import DocumentStatus, IssuedDocument
    from portal.verify.views import NEW_SHARE_SESSION_KEY, SHARE_FORM_SESSION_KEY

    # The user's own documents, and those of cases someone else applied for that name them (a spouse's certificate).
    named = registry.documents_naming(request.user)
    own = Q(holder=request.user)
    documents = list(
        IssuedDocument.objects.filter(own | Q(pk__in=named) if named else own).select_related("issuing_office")
    )
    today = timezone.localdate()
    # Share codes are the account holder's to give: for the documents issued to them.
    shareable = [
        (d.code, f"{d.title} · {d.code}")
        for d in documents
        if d.holder_id == request.user.pk
        and d.status == DocumentStatus.VALID
        and (d.valid_until is None or d.valid_until >= today)
    ]
    kept = request.session.pop(SHARE_FORM_SESSION_KEY, None)
    share_form = ShareCreateForm(kept["data"] if kept else None, documents=shareable)
    if kept:
        share_form.is_valid()  # shows the errors of the form just posted, with what was typed
    share_codes = list(sharing.share_codes_for_holder(request.user)) if documents else []
    cases = registry.cases_for_user(request.user)
    groups = {stage: [c for c in cases if c.next_step.stage == stage] for stage in STAGES}
    action_items = registry.actions_for_user(request.user)
    return render(
        request,
        "portal/me.html",
        {
            "cases": cases,
            # Needs your action: what the services ask beyond a case's own step (a visit to book…), then the cases.
            "action_items": action_items,
            "action_count": len(action_items) + len(groups[registry.Stage.ACTION]),
            "cases_to_act_on": groups[registry.Stage.ACTION],
            "cases_in_progress": groups[registry.Stage.IN_PROGRESS],
            "cases_finished": groups[registry.Stage.FINISHED],
            "issued_documents": documents,
            "share_form": share_form if shareable else None,
            "share_codes": share_codes,
            "new_share": request.session.pop(NEW_SHARE_SESSION_KEY, None),
            "now": timezone.now(),
            "today": today,
        },
    )


@never_cache
def track(request):
    """Public progress enquiry: the case number and the last four characters of the applicant's ID number.

    The rule and what is shown to whom: portal.cases.tracking (docs/architecture.md#security-and-privacy).
    """
    result = None
    searched = False
    form = TrackForm(request.POST or None)
    if request.method == "POST":
        if rate_limited(request, "track", limit=20, period=60):
            return render(request, "portal/track.html", {"form": form, "limited": True}, status=429)
        if form.is_valid():
            searched = True
            result = tracking.track(
                form.cleaned_data["case_number"], form.cleaned_data["second_factor"], user=request.user
            )
    return render(request, "portal/track.html", {"form": form, "result": result, "searched": searched})


@require_POST
def care_mode(request):
    """The care-mode switch (长辈版): a cookie, so it works without JavaScript and without an account.

    A plain form post comes back to the page it was sent from; static/js/portal.js posts the same form with
    `Accept: application/json` and switches the page in place. The old large-text form (`size=large`) still works.
    """
    on = request.POST.get("care") == "on" or request.POST.get("size") == "large"
    if "application/json" in request.headers.get("Accept", ""):
        response: HttpResponse = JsonResponse({"care_mode": on})
    else:
        target = request.POST.get("next") or "/"
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = "/"
        response = HttpResponseRedirect(target)
    response.set_cookie(
        CARE_COOKIE,
        "care" if on else "normal",
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
        secure=request.is_secure(),
    )
    return response


@never_cache
def healthz(request):
    """Liveness and readiness for the load balancer: the database and the broker, each with a short timeout.

    200 {"status": "ok", ...} when both answer; 503 naming the check that failed otherwise. Reached through
    HealthCheckMiddleware (before host validation and the HTTPS redirect); one `SELECT 1` and one PING, no more.
    """
    checks = {"database": _database_status(), "broker": _broker_status()}
    failed = [name for name, value in checks.items() if value != "ok"]
    return JsonResponse(
        {"status": "error" if failed else "ok", "checks": checks, "failed": failed}, status=503 if failed else 200
    )


def _database_status():
    # The connection's connect_timeout (DATABASE_CONNECT_TIMEOUT) bounds the wait for an unreachable server.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        logger.error("healthz: database: %s: %s", type(exc).__name__, exc)
        return "error"


_redis_clients: dict[str, Redis] = {}  # REDIS_URL -> client


def _broker_status():
    if not settings.REDIS_URL:
        # The embedded broker (make run) is a folder shared with the worker on this machine.
        folder = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}).get("data_folder_in")
        if folder and not os.access(folder, os.W_OK):
            logger.error("healthz: broker: folder %s is not writable", folder)
            return "error"
        return "ok"
    try:
        client = _redis_clients.get(settings.REDIS_URL)
        if client is None:
            import redis

            # One client (and connection pool) per process, reused by every probe; a dead server fails in a second.
            client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
            _redis_clients[settings.REDIS_URL] = client
        client.ping()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        logger.error("healthz: broker: %s: %s", type(exc).__name__, exc)
        return "error"


def server_error(request, *args, **kwargs):
    """The 500 page; while the database is unreachable (a restart, a fail-over) a 503 with Retry-After instead, so
    that browsers, load balancers and clients know to try again shortly. Called inside Django's exception handler,
    so sys.exc_info() is the error being answered."""
    import sys

    from django.db import DatabaseError, InterfaceError, OperationalError
    from django.views import defaults

    response = defaults.server_error(request, template_name="portal/500.html")
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DatabaseError) and "connection" in str(error).lower()
    ):
        response.status_code = 503
        response["Retry-After"] = "5"
    return response
