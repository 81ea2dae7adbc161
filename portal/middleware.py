"""Request ids, the health check, response headers Django's own middleware does not set, and the lean path."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as sessions_middleware
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve

from .logging import accept_request_id, request_id_var

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Every request gets an id that its log lines carry and its response returns in X-Request-ID.

    The proxy's X-Request-ID is kept when it is a safe token (so one id follows a request from the load balancer
    to the worker that handles what it queued); anything else is replaced by a fresh one. First in MIDDLEWARE.

    The id stays bound until the response is closed (request_finished), not just until this middleware returns:
    Django logs "Not Found" and "Internal Server Error" after the middleware chain has run.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accept_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        request_id_var.set(request_id)
        response = self.get_response(request)
        response.headers[REQUEST_ID_HEADER] = request_id
        return response


def _unbind_request_id(**kwargs):
    request_id_var.set("")


request_finished.connect(_unbind_request_id, dispatch_uid="portal.middleware.unbind_request_id")


class HealthCheckMiddleware:
    """Answers /healthz/ before host validation and the HTTPS redirect.

    A load balancer probes each backend by its address over plain HTTP, with a Host header that is not one of
    ALLOWED_HOSTS; the answer names no host and sets no cookie, so it is safe to give before those checks (and
    cheaper: no session, no CSP, no locale).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz/" and request.method in ("GET", "HEAD"):
            from .views import healthz

            return healthz(request)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


# --- the lean path: public views served without the per-user middleware ---------------------------------------------


def lean_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Mark a public view that needs no session, signed-in user or messages (the verification page and API).

    The session, authentication and messages middleware step aside for it (below): no session is read or written,
    no cookie but CSRF's and the language's is set, and templates see an anonymous user. Locale, CSRF, security
    headers and CSP still run. The view must not read request.user or request.session, nor add messages.
    (django-otp's middleware, the forced password change and django-axes stay listed: without request.user and
    away from the login they do nothing.)
    """
    view.lean_view = True  # type: ignore[attr-defined]  # read by is_lean below; functools.wraps carries it
    return view


def is_lean(request: HttpRequest) -> bool:
    """Whether the request's view is a lean_view (resolved once per request)."""
    lean = getattr(request, "_lean_view", None)
    if lean is None:
        try:
            lean = bool(getattr(resolve(request.path_info).func, "lean_view", False))
        except Resolver404:
            lean = False
        request._lean_view = lean  # type: ignore[attr-defined]  # a per-request memo
    return lean


class _StepsAsideForLeanViews:
    """Mixed in before a middleware class: that middleware does nothing for a lean_view's request."""

    get_response: Any  # the next middleware, as the middleware class stores it

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if is_lean(request):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]  # the middleware's own __call__


class SessionMiddleware(_StepsAsideForLeanViews, sessions_middleware.SessionMiddleware):
    """Django's SessionMiddleware, except for lean views."""


class AuthenticationMiddleware(_StepsAsideForLeanViews, auth_middleware.AuthenticationMiddleware):
    """Django's AuthenticationMiddleware, except for lean views."""


class MessageMiddleware(_StepsAsideForLeanViews, messages_middleware.MessageMiddleware):
    """Django's MessageMiddleware, except for lean views (the messages context processor then finds none)."""
