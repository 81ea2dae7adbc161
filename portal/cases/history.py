"""The admin's history: a case's "history" page shows its timeline, and the admin index's "recent actions" the
staff member's own latest timeline rows (docs/architecture.md#the-officers-desk)."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.urls import NoReverseMatch, reverse

from . import events
from .models import Transition

RECENT_ACTIONS = 10


def recent_actions(user: Any, limit: int = RECENT_ACTIONS) -> list[dict[str, Any]]:
    """The user's latest timeline rows, each with its case number and review page: one query for the rows (the
    index on actor and time) and one per service among them for the case numbers."""
    if not getattr(user, "is_authenticated", False):
        return []
    rows = list(Transition.objects.filter(actor=user.pk).order_by("-at", "-pk")[:limit])
    by_type: dict[int, set[int]] = {}
    for row in rows:
        by_type.setdefault(row.content_type_id, set()).add(row.object_id)
    cases: dict[tuple[int, int], Any] = {}
    for type_id, pks in by_type.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        if model is None:
            continue
        found: Any
        for found in model._default_manager.filter(pk__in=pks).only("pk", "case_number", "status"):
            cases[(type_id, found.pk)] = found
    entries = []
    for row in rows:
        case = cases.get((row.content_type_id, row.object_id))
        if case is None:
            continue
        opts = case._meta
        try:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[case.pk])
        except NoReverseMatch:
            url = ""
        entries.append(
            {
                "at": row.at,
                "case_number": case.case_number,
                "service": opts.verbose_name,
                "what": events.label(row.event) or case.status_label(row.to_status),
                "event": row.event,
                "url": url,
            }
        )
    return entries
