"""What a service tells portal.visits about its in-person steps, without portal importing the service.

Each service registers a `Purpose` from its AppConfig.ready(): which case model books, in which state a case may
book (and rebook or cancel), at which office, and the words its pages and messages use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Purpose:
    key: str  # stored on the visit, e.g. "hukou_originals"
    model: type[Model]  # the case model that books
    title: StrOrPromise  # what the visit is for: "Check of the originals"
    bring: StrOrPromise  # what the citizen brings
    attended_label: StrOrPromise  # the officer's button and the timeline's words: "Originals seen"
    # The case may book, rebook or cancel now (a service's rule of its states).
    open_for: Callable[[Any], bool]
    # The office the citizen goes to (an accounts.Office), or None.
    station_office: Callable[[Any], Any]
    # The citizen's page of the case, where the booking panel is shown.
    case_url: Callable[[Any], str]


_purposes: dict[str, Purpose] = {}


def register(purpose: Purpose) -> None:
    _purposes[purpose.key] = purpose


def get(key: str) -> Purpose | None:
    return _purposes.get(key)


def for_model(model: type[Model]) -> list[Purpose]:
    return [purpose for purpose in _purposes.values() if purpose.model is model]


def open_purpose(case: Any) -> Purpose | None:
    """The purpose for which `case` may book now, if any."""
    for purpose in for_model(type(case)):
        if purpose.open_for(case):
            return purpose
    return None


def case_models() -> list[type[Model]]:
    return list({purpose.model for purpose in _purposes.values()})
