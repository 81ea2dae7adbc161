"""The working-day clock of a case and the deadline sweep: the clock fields each step writes, provisional
deadlines recomputed when the holiday table is filled in, and the sweep that flags due cases and tells their offices
(docs/architecture.md#cases-transitions-and-deadlines)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, TypedDict, cast

from django.db import transaction
from django.utils import timezone

from portal.workdays import calendar as workdays

from .models import Case, DueState

if TYPE_CHECKING:
    from accounts.models import Office

logger = logging.getLogger(__name__)


class ClockFields(TypedDict):
    """The fields of a case's working-day clock, as `clock_start` and `clock_stop` set them."""

    clock_limit: int | None
    clock_started_on: date | None
    due_date: date | None
    deadline_provisional: bool
    paused_at: datetime | None
    workdays_left: int | None
    due_state: str


class PausedClockFields(TypedDict):
    """The fields `clock_pause` sets."""

    paused_at: datetime
    workdays_left: int
    due_state: str


def clock_start(limit: int, start: date | None = None) -> ClockFields:
    """Fields for a clock of `limit` working days starting on `start` (day 0)."""
    start = start or timezone.localdate()
    deadline = workdays.add_workdays(start, limit)
    return {
        "clock_limit": limit,
        "clock_started_on": start,
        "due_date": deadline.date,
        "deadline_provisional": deadline.provisional,
        "paused_at": None,
        "workdays_left": None,
        "due_state": DueState.NONE,
    }


def clock_pause(case: Case, at: datetime | None = None) -> PausedClockFields:
    """Fields that stop the clock (a request for more information) and keep the working days left."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    # A clock that runs has a due date. Without one clock_limit is None too, and max() raises TypeError (unchanged).
    left = workdays.workdays_between(today, case.due_date) if case.due_date else cast("int", case.clock_limit)
    return {"paused_at": at, "workdays_left": max(left, 0), "due_state": DueState.NONE}


def clock_resume(case: Case, start: date | None = None) -> ClockFields:
    """Fields that restart a paused clock with the days it had left."""
    left = case.workdays_left if case.workdays_left is not None else (case.clock_limit or 0)
    return clock_start(left, start)


def clock_stop() -> ClockFields:
    return {
        "clock_limit": None,
        "clock_started_on": None,
        "due_date": None,
        "deadline_provisional": False,
        "paused_at": None,
        "workdays_left": None,
        "due_state": DueState.NONE,
    }


def recompute_provisional_deadlines(case_models: Iterable[type[Case]]) -> int:
    """Recompute every running provisional deadline (after the holiday table was filled in).

    An applicant whose due date moves is told once, with the new date (templates/notify/cases/deadline_changed):
    the UPDATE names the date it replaces, so a recompute that runs twice, or twice at once, tells nobody twice.
    """
    changed = 0
    for model in case_models:
        qs = model.objects.filter(
            deadline_provisional=True, paused_at__isnull=True, clock_started_on__isnull=False, clock_limit__isnull=False
        ).select_related("applicant")
        for case in qs.iterator():
            # Neither is null: the filter above reads running clocks only.
            deadline = workdays.add_workdays(cast("date", case.clock_started_on), cast("int", case.clock_limit))
            if (deadline.date, deadline.provisional) == (case.due_date, case.deadline_provisional):
                continue
            with transaction.atomic():
                updated = model.objects.filter(
                    pk=case.pk, due_date=case.due_date, deadline_provisional=True, paused_at__isnull=True
                ).update(due_date=deadline.date, deadline_provisional=deadline.provisional, due_state=DueState.NONE)
                if updated and deadline.date != case.due_date:
                    _tell_new_due_date(
                        case, previous=case.due_date, due=deadline.date, provisional=deadline.provisional
                    )
            changed += updated
    return changed


def _tell_new_due_date(case: Case, *, previous: date | None, due: date, provisional: bool) -> None:
    from portal.notify.services import notify_user

    case.due_date, case.deadline_provisional = due, provisional
    notify_user(
        case.applicant,
        template="cases/deadline_changed",
        context={
            "case": case,
            "case_number": case.case_number,
            "due_date": due,
            "previous_due_date": previous,
            "calendar_year": due.year,
        },
    )
    logger.info("case %s: due date moved from %s to %s; applicant told", case.case_number, previous, due)


def due_state_for(due_date: date, today: date) -> str:
    """Overdue after the due date's end; due soon when at most one working day is left."""
    if due_date < today:
        return DueState.OVERDUE
    if workdays.workdays_between(today, due_date) <= 1:
        return DueState.DUE_SOON
    return DueState.NONE


# Due cases flagged, and their offices told, per transaction; and how many one digest lists by number.
SWEEP_BATCH = 1000
DIGEST_LIST_LIMIT = 30


@dataclass(frozen=True)
class _Due:
    model: type[Case]
    pk: int
    case_number: str
    status: str
    due_date: date
    state: str


def sweep_deadlines(case_models: Iterable[type[Case]], today: date | None = None) -> dict[str, int]:
    """Flag due-soon and overdue cases and tell the office that must act, once per case and state.

    Reads only running clocks with a due date at or before the horizon (the next working day), through the
    partial index on the open states, never every open case. Then, a batch of offices per transaction: locks
    those cases (SKIP LOCKED: a case an officer is changing right now, or another sweep holds, waits for the
    next sweep), re-checks them, flags them with one UPDATE per state, and writes each office one digest per
    state listing its cases (overdue ones also to its supervisors) in the same transaction as the flags. The
    cost follows the due cases and the offices told, not the open cases: one e-mail per case and recipient
    was 2-3 ms each, most of it an outbox INSERT and a broker publish.
    """
    today = today or timezone.localdate()
    horizon = workdays.add_workdays(today, 1).date
    states: dict[date, str] = {}  # thousands of due cases share a handful of due dates

    def state_on(due_date: date) -> str:
        if due_date not in states:
            states[due_date] = due_state_for(due_date, today)
        return states[due_date]

    work: dict[int, tuple[Office, list[_Due]]] = {}  # acting office pk -> (office, [_Due])
    for model in case_models:
        office_fields = ("office", *model.DEADLINE_OFFICE_FIELDS)
        candidates = (
            # A frozen case (its applicant's identity is disputed) takes no step, so no office is asked to act on it.
            model.objects.filter(
                status__in=model.OPEN_STATUSES,
                paused_at__isnull=True,
                frozen_at__isnull=True,
                due_date__isnull=False,
                due_date__lte=horizon,
            )
            .exclude(due_state=DueState.OVERDUE)
            .only("pk", "case_number", "status", "due_date", "due_state", *office_fields)
            # Offices by prefetch: one instance per office and chunk, not one per case as a join would make.
            .prefetch_related(*office_fields)
            .order_by()  # no sort over the due rows: the partial index alone serves the query
        )
        for case in candidates.iterator(chunk_size=2000):
            due_date = cast("date", case.due_date)  # due_date__isnull=False above
            new_state = state_on(due_date)
            if new_state == DueState.NONE or new_state == case.due_state:
                continue
            office = deadline_office(case)
            due = _Due(model, case.pk, case.case_number, case.status, due_date, new_state)
            work.setdefault(office.pk, (office, []))[1].append(due)

    counts = {"due_soon": 0, "overdue": 0}
    batch: list[tuple[Office, list[_Due]]] = []
    size = 0
    for office, cases in work.values():
        batch.append((office, cases))
        size += len(cases)
        if size >= SWEEP_BATCH:
            _sweep_batch(batch, counts)
            batch = []
            size = 0
    if batch:
        _sweep_batch(batch, counts)
    return counts


def _sweep_batch(batch: list[tuple[Office, list[_Due]]], counts: dict[str, int]) -> None:
    """Claim the cases of a few offices and write their digests, in one transaction."""
    from accounts.notify import notify_office

    with transaction.atomic():
        by_model: dict[type[Case], dict[int, _Due]] = {}
        for _office, cases in batch:
            for due in cases:
                by_model.setdefault(due.model, {})[due.pk] = due
        claimed: set[tuple[type[Case], int]] = set()
        for model, read in by_model.items():
            fresh = (
                model.objects.select_for_update(skip_locked=True)
                .filter(pk__in=list(read), paused_at__isnull=True, frozen_at__isnull=True)
                .values_list("pk", "status", "due_date", "due_state")
            )
            per_state: dict[str, list[int]] = {}
            for pk, status, due_date, due_state in fresh:
                due = read[pk]
                # Only as it was read: a case that moved on meanwhile is the next sweep's business.
                if (status, due_date) == (due.status, due.due_date) and due_state != due.state:
                    per_state.setdefault(due.state, []).append(pk)
            for state, pks in per_state.items():
                model.objects.filter(pk__in=pks).update(due_state=state)
                claimed.update((model, pk) for pk in pks)
        for office, cases in batch:
            for state, service, told in _digests(cases, claimed):
                counts[str(state)] += len(told)
                notify_office(
                    office,
                    template="cases/deadline_digest",
                    context={
                        "overdue": state == DueState.OVERDUE,
                        "count": len(told),
                        "cases": [
                            {
                                "case_number": due.case_number,
                                "title": due.model._meta.verbose_name,
                                "due_date": due.due_date.isoformat(),
                            }
                            for due in told[:DIGEST_LIST_LIMIT]
                        ],
                        "more": max(len(told) - DIGEST_LIST_LIMIT, 0),
                    },
                    include_supervisors=state == DueState.OVERDUE,
                    service=service,
                )


def _digests(cases: list[_Due], claimed: set[tuple[type[Case], int]]) -> list[tuple[DueState, str, list[_Due]]]:
    """An office's claimed cases as digests, one per state and agency: (state, a service of the agency, cases).

    Each digest goes only to the staff of the agency that handles its services and, overdue, to that agency's
    supervisors above (accounts.notify.office_recipients), never to another agency's.
    """
    from accounts.scoping import service_agency

    digests: list[tuple[DueState, str, list[_Due]]] = []
    for state in (DueState.DUE_SOON, DueState.OVERDUE):
        by_agency: dict[str, tuple[str, list[_Due]]] = {}
        for due in cases:
            if due.state == state and (due.model, due.pk) in claimed:
                label = due.model._meta.app_label
                by_agency.setdefault(service_agency(label) or "", (label, []))[1].append(due)
        for _agency, (service, told) in sorted(by_agency.items()):
            digests.append((state, service, sorted(told, key=lambda due: (due.due_date, due.case_number))))
    return digests


def deadline_office(case: Case) -> Office:
    """The office that must act now: a case may say so itself (multi-office workflows)."""
    acting = getattr(case, "acting_office", None)
    return (acting() if callable(acting) else None) or case.office
