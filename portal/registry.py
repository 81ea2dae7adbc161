"""How services tell `portal` about themselves without `portal` importing them.

Each service registers a `Service` from its AppConfig.ready(). `/` lists the services, `/me/` asks each
for the citizen's cases, `/track/` asks each to find a case by number and second factor, and the
deadline sweep asks each for its case models.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CaseSummary:
    """What `/me/` and `/track/` show of a case of any service."""

    service: str
    case_number: str
    title: str
    status_label: str
    updated_at: object
    due_date: object = None
    url: str = ""
    timeline: tuple = ()


@dataclass(frozen=True)
class Service:
    key: str
    title: object  # lazy translation
    summary: object
    url_name: str
    order: int = 100
    case_models: tuple = ()
    cases_for_user: Callable[[object], Iterable[CaseSummary]] | None = None
    track: Callable[[str, str], CaseSummary | None] | None = None
    guide: tuple = field(default=())


_services: dict[str, Service] = {}


def register(service: Service) -> None:
    _services[service.key] = service


def services() -> list[Service]:
    return sorted(_services.values(), key=lambda s: (s.order, s.key))


def case_models() -> list:
    return [model for service in services() for model in service.case_models]


def cases_for_user(user) -> list[CaseSummary]:
    found = []
    for service in services():
        if service.cases_for_user:
            found.extend(service.cases_for_user(user))
    return sorted(found, key=lambda c: c.updated_at, reverse=True)


def track(case_number: str, second_factor: str) -> CaseSummary | None:
    for service in services():
        if service.track:
            summary = service.track(case_number, second_factor)
            if summary is not None:
                return summary
    return None
