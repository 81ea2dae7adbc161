"""Send a user whose password must be changed (an administrator forced a reset) to the change page first."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse


class ForcePasswordChangeMiddleware:
    # Pages that stay reachable: the change itself, leaving, the reset link, language and static files.
    allowed_names = (
        "accounts:password_change",
        "accounts:password_change_done",
        "accounts:logout",
        "accounts:password_reset_complete",
        "set_language",
        "text_size",
    )
    allowed_prefixes = ("/accounts/password/reset/", "/healthz/", "/jsi18n/")

    def __init__(self, get_response):
        self.get_response = get_response
        self._allowed_paths = None

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password and not self._allowed(request):
            return redirect("accounts:password_change")
        return self.get_response(request)

    def _allowed(self, request):
        if self._allowed_paths is None:
            self._allowed_paths = {reverse(name) for name in self.allowed_names}
        path = request.path_info
        static = settings.STATIC_URL or "/static/"
        return path in self._allowed_paths or path.startswith((static, *self.allowed_prefixes))
