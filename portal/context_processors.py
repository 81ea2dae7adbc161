"""Template context every page needs: the care-mode preference, the registered services, the unread messages."""

from django.utils.functional import SimpleLazyObject

from . import registry
from .notify import inbox

CARE_COOKIE = "portal_text"  # the name the large-text switch used: its "large" counts as care mode
CARE_VALUES = ("care", "large")


def care_mode(request) -> bool:
    return request.COOKIES.get(CARE_COOKIE) in CARE_VALUES


def portal(request):
    user = getattr(request, "user", None)
    return {
        "care_mode": care_mode(request),
        "portal_services": registry.services(),
        # One query, made only by a page that shows it (the header of signed-in portal pages, not the admin).
        "unread_messages": SimpleLazyObject(lambda: inbox.unread_count(user)),
    }
