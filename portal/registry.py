"""How services tell `portal` about themselves without `portal` importing them.

Each service registers a `Service` from its AppConfig.ready(). `/` lists the services, `/me/` asks each
for the citizen's cases (each with its next step, grouped by `Stage`) and for anything else it asks of them, `/track/` asks each to find a case by number (portal.cases.tracking then applies the one
second-factor rule and decides what to show), the deadline sweep asks each for its case models, and staff scoping
(accounts.scoping) asks which agency handles the models of an app.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.db.models import Model
    from django_stubs_ext import StrOrPromise


class Stage:
    """The three groups of `/me/`: what the citizen must do, what offices are doing, what is done."""

    ACTION = "action"
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"


@dataclass(frozen=True)
class NextStep:
    """What happens next in a case and its date, as `/me/` says it (portal.cases.progress makes it)."""

    stage: str = Stage.IN_PROGRESS
    text: str = ""
    date: datetime.date | None = None
    date_label: str = ""  # what the date is: "Due by", "Asked on", "Finished on"...


@dataclass(frozen=True)
class ActionItem:
    """Something a service asks of the citizen that is not a case's own next step (e.g. a visit to book): listed in
    `/me/`'s "needs your action" group, from `Service.actions_for_user`."""

    service: str
    title: str
    text: str
    url: str
    date: datetime.date | None = None
    date_label: str = ""
    case_number: str = ""


@dataclass(frozen=True)
class CaseSummary:
    """What `/me/` and `/track/` show of a case of any service."""

    service: str
    case_number: str
    title: str
    status_label: str
    updated_at: datetime.datetime
    due_date: datetime.date | None = None
    url: str = ""
    timeline: tuple[tuple[datetime.datetime, str], ...] = ()  # (when, status label) for /track/
    next_step: NextStep = field(default_factory=NextStep)  # /me/'s group, next step and its date


class TrackStage:
    """What `/track/` may say of a case whose outcome is confidential (docs/architecture.md#security-and-privacy)."""

    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CLOSED = "closed"  # decided, withdrawn or issued: which, only the signed-in applicant learns


@dataclass(frozen=True)
class TrackedCase:
    """A case a service found for `/track/` by its number, before any second factor is checked."""

    summary: CaseSummary  # everything /track/ may show its applicant (no personal data, no link)
    # The full ID numbers whose last four characters prove the enquirer knows the applicant: the applicant's, and
    # for a certificate applied for by an agent the holder's too.
    id_numbers: tuple[str, ...]
    # Accounts that see `summary` even where the outcome is confidential, when signed in (the applicant); and ID
    # numbers whose signed-in owner does too (the holder of a certificate).
    owner_ids: tuple[int, ...] = ()
    owner_id_numbers: tuple[str, ...] = ()
    # True where the outcome itself is personal data (a refused certificate means a criminal record): the public
    # answer then says only `stage`, never the status, the dates or the timeline.
    confidential: bool = False
    stage: str = TrackStage.SUBMITTED


@dataclass(frozen=True)
class Service:
    key: str  # the service's Django app label: every model of that app is the service's
    title: StrOrPromise  # lazy translation
    summary: StrOrPromise
    url_name: str
    # The agency that handles the service (an accounts.models.Office.Agency value): only its staff see the
    # service's cases, feedback, documents and pages (docs/architecture.md#security-and-privacy).
    agency: str
    order: int = 100
    case_models: tuple[type[Model], ...] = ()
    # Called with the request's user (an accounts.User or AnonymousUser: portal.registry does not import accounts).
    cases_for_user: Callable[[Any], Iterable[CaseSummary]] | None = None
    # Called with the signed-in user: what the service asks of them beyond their cases' next steps (ActionItem), shown
    # first on /me/ under "needs your action".
    actions_for_user: Callable[[Any], Iterable[ActionItem]] | None = None
    # Called with the request's user: the ids of issued documents of cases applied for by someone else that name this
    # user as a holder (a spouse on a couple's certificate); they join the user's wallet on /me/ and may be downloaded.
    documents_naming: Callable[[Any], Iterable[int]] | None = None
    # Called with a normalised case number; drafts are not cases yet and are never found.
    find_for_track: Callable[[str], TrackedCase | None] | None = None
    # The short guide the catalogue at / shows (templates/portal/_service_facts.html): (term, text) pairs, as
    # service_guide() makes them.
    guide: tuple[tuple[StrOrPromise, StrOrPromise], ...] = field(default=())
    # The identity assurance level (accounts.models.Assurance value: "declared", "verified", "in_person") a citizen needs
    # to submit an application of this service; `assurance_by_kind` overrides it per kind of case (e.g. feedback).
    required_assurance: str = "declared"
    assurance_by_kind: tuple[tuple[str, str], ...] = ()


def service_guide(
    *,
    who: StrOrPromise,
    what: StrOrPromise,
    time_limit: StrOrPromise,
    promised: StrOrPromise | None = None,
    fee: StrOrPromise | None = None,
    where: StrOrPromise | None = None,
    legal_basis: StrOrPromise | None = None,
) -> tuple[tuple[StrOrPromise, StrOrPromise], ...]:
    """A service's short guide for the catalogue: who may apply, what they get, the fee, the time limit (the
    statutory one and the one the portal promises, when it names both), where and when, and the legal basis."""
    facts: list[tuple[StrOrPromise, StrOrPromise]] = [(_("Who may apply"), who), (_("What you get"), what)]
    if fee is not None:
        facts.append((_("Fee"), fee))
    if promised is not None:
        facts += [(_("Statutory time limit"), time_limit), (_("Promised time limit"), promised)]
    else:
        facts.append((_("Time limit"), time_limit))
    if where is not None:
        facts.append((_("Where and when"), where))
    if legal_basis is not None:
        facts.append((_("Legal basis"), legal_basis))
    return tuple(facts)


_services: dict[str, Service] = {}


@dataclass(frozen=True)
class SharedApp:
    """A portal-wide app shared by every service (portal.feedback). Its rows are scoped by office alone (an office
    belongs to one agency); its case models join the deadline sweep, its cases /me/ and /track/."""

    label: str
    case_models: tuple[type[Model], ...] = ()
    cases_for_user: Callable[[Any], Iterable[CaseSummary]] | None = None
    find_for_track: Callable[[str], TrackedCase | None] | None = None


_shared: dict[str, SharedApp] = {}


def register(service: Service) -> None:
    if not service.agency:
        raise ValueError(f"service {service.key!r} names no agency")
    _services[service.key] = service


def register_shared(app: SharedApp) -> None:
    """A portal-wide app whose objects belong to whichever office they name, of any agency (not a service)."""
    _shared[app.label] = app


def is_shared(app_label: str) -> bool:
    return app_label in _shared


def get_service(key: str) -> Service | None:
    """The registered service with this key, or None."""
    return _services.get(key)


def agency_of(app_label: str) -> str | None:
    """The agency handling the service whose app is `app_label`; None for an app that is no service."""
    service = _services.get(app_label)
    return service.agency if service is not None else None


def app_labels_of_agency(agency: str) -> frozenset[str]:
    """The apps of every service `agency` handles."""
    return frozenset(service.key for service in _services.values() if service.agency == agency)


def services() -> list[Service]:
    return sorted(_services.values(), key=lambda s: (s.order, s.key))


def required_assurance(service_key: str, kind: str = "") -> str:
    """The level the service declares for `kind` (its default level without one); "declared" for an unknown service."""
    service = _services.get(service_key)
    if service is None:
        return "declared"
    return dict(service.assurance_by_kind).get(kind, service.required_assurance)


def case_models() -> list[type[Model]]:
    """Every case model: the services', then the shared apps' (feedback)."""
    return [model for service in services() for model in service.case_models] + [
        model for app in _shared.values() for model in app.case_models
    ]


def cases_for_user(user: Any) -> list[CaseSummary]:
    found: list[CaseSummary] = []
    for service in services():
        if service.cases_for_user:
            found.extend(service.cases_for_user(user))
    for app in _shared.values():
        if app.cases_for_user:
            found.extend(app.cases_for_user(user))
    return sorted(found, key=lambda c: c.updated_at, reverse=True)


def actions_for_user(user: Any) -> list[ActionItem]:
    found: list[ActionItem] = []
    for service in services():
        if service.actions_for_user:
            found.extend(service.actions_for_user(user))
    return found


def documents_naming(user: Any) -> set[int]:
    """The ids of the issued documents, of every service, that name `user` as a holder though another account applied."""
    found: set[int] = set()
    for service in services():
        if service.documents_naming:
            found.update(service.documents_naming(user))
    return found


def find_for_track(case_number: str) -> TrackedCase | None:
    """The case with this number in any service, or None (the second factor is portal.cases.tracking's business)."""
    for service in services():
        if service.find_for_track:
            found = service.find_for_track(case_number)
            if found is not None:
                return found
    for app in _shared.values():
        if app.find_for_track:
            found = app.find_for_track(case_number)
            if found is not None:
                return found
    return None
