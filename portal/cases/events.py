"""The names of timeline rows that leave the status as it was (Transition.event): a claim, a booked visit, a
revocation. Each part of the portal that writes such rows registers its words from its AppConfig.ready(), so the
staff timeline and "recent actions" name the row ("Visit booked") instead of "accepted → accepted", without
portal.cases importing the part (docs/architecture.md#cases-transitions-and-deadlines)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_labels: dict[str, StrOrPromise] = {}


def register(labels: Mapping[str, StrOrPromise]) -> None:
    _labels.update(labels)


def label(event: str) -> StrOrPromise | None:
    """The registered words for the event (translated when read), or None for a change of status or an unknown one."""
    return _labels.get(event) if event else None
