"""Template context every page needs: the large-text preference and the registered services."""

from . import registry


def portal(request):
    return {
        "large_text": request.COOKIES.get("portal_text") == "large",
        "portal_services": registry.services(),
    }
