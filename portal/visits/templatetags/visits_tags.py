"""The booking panel on a case's own page: `{% load visits_tags %}{% visit_panel application %}`."""

from __future__ import annotations

from typing import Any

from django import template

from .. import purposes, services
from ..models import VisitStatus

register = template.Library()


@register.inclusion_tag("visits/_panel.html")
def visit_panel(case: Any) -> dict[str, Any]:
    """The live booking with its change and cancel links, the invitation to book while the case's step needs a
    visit, and the outcome of the last visit recorded."""
    purpose = purposes.open_purpose(case)
    visits = list(services.visits_of(case)[:5])
    live = next((visit for visit in visits if visit.status == VisitStatus.BOOKED), None)
    recorded = next((visit for visit in visits if visit.status in (VisitStatus.ATTENDED, VisitStatus.NO_SHOW)), None)
    if live or recorded:
        known = purposes.get((live or recorded).purpose)  # type: ignore[union-attr]
    else:
        known = purpose
    return {
        "case": case,
        "purpose": purpose,
        "known": known,
        "station": services.station_of(case, purpose) if purpose and not live else None,
        "live": live,
        "recorded": recorded,
        "recorded_label": (purposes.get(recorded.purpose) or purpose) if recorded else None,
        "statuses": VisitStatus,
    }
