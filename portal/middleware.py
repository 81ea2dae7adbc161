"""Request ids, the health check, and response headers Django's own middleware does not set."""

from django.conf import settings
from django.core.signals import request_finished

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
