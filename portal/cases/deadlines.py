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

from .models import Case, DeadlineDigest, DueState

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


# Due cases locked and flagged per statement; how many one digest lists by number; digests sent per task run.
SWEEP_CHUNK = 2000
DIGEST_LIST_LIMIT = 30
DIGEST_RUN_LIMIT = 2000


@dataclass(frozen=True)
class _Due:
    model: type[Case]
    pk: int
    case_number: str
    status: str
    due_date: date
    state: str


def sweep_deadlines(case_models: Iterable[type[Case]], today: date | None = None) -> dict[str, int]:
    """Flag due-soon and overdue cases, once per case and state, and leave each office a digest to be e-mailed.

    Reads only running clocks with a due date at or before the horizon (the next working day), through the
    partial index on the open states, never every open case. Then one transaction: locks those cases (SKIP
    LOCKED: a case an officer is changing right now, or another sweep holds, waits for the next sweep), re-checks
    them, flags them with one UPDATE per state and chunk, and writes one DeadlineDigest row per office and state
    (per agency, should an office act on another agency's cases). Rendering and e-mailing the digests is the
    notify task's (send_deadline_digests), published on commit; the beat job re-sends what it left. So the cost
    follows the due cases, not the open ones, and no template or outbox row is written here.
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
    if not work:
        return counts
    with transaction.atomic():
        claimed = _claim([due for _office, cases in work.values() for due in cases])
        digests = []
        for office, cases in work.values():
            for state, service, told in _digests(cases, claimed):
                counts[str(state)] += len(told)
                digests.append(
                    DeadlineDigest(
                        office=office,
                        state=state,
                        service=service,
                        count=len(told),
                        cases=[
                            {
                                "model": due.model._meta.label_lower,
                                "case_number": due.case_number,
                                "due_date": due.due_date.isoformat(),
                            }
                            for due in told[:DIGEST_LIST_LIMIT]
                        ],
                    )
                )
        DeadlineDigest.objects.bulk_create(digests)
        if digests:
            from portal.celery import publish_on_commit

            from .tasks import send_deadline_digests as task

            publish_on_commit(task)
    return counts


def _claim(read: list[_Due]) -> set[tuple[type[Case], int]]:
    """Lock the cases as read (SKIP LOCKED), keep those unchanged since, and flag them; the claimed (model, pk)."""
    by_model: dict[type[Case], dict[int, _Due]] = {}
    for due in read:
        by_model.setdefault(due.model, {})[due.pk] = due
    claimed: set[tuple[type[Case], int]] = set()
    for model, dues in by_model.items():
        pks = list(dues)
        for start in range(0, len(pks), SWEEP_CHUNK):
            fresh = (
                model.objects.select_for_update(skip_locked=True)
                .filter(pk__in=pks[start : start + SWEEP_CHUNK], paused_at__isnull=True, frozen_at__isnull=True)
                .values_list("pk", "status", "due_date", "due_state")
            )
            per_state: dict[str, list[int]] = {}
            for pk, status, due_date, due_state in fresh:
                due = dues[pk]
                # Only as it was read: a case that moved on meanwhile is the next sweep's business.
                if (status, due_date) == (due.status, due.due_date) and due_state != due.state:
                    per_state.setdefault(due.state, []).append(pk)
            for state, flagged in per_state.items():
                model.objects.filter(pk__in=flagged).update(due_state=state)
                claimed.update((model, pk) for pk in flagged)
    return claimed


def send_deadline_digests() -> int:
    """E-mail the digests not sent yet (the notify task, on the sweep's commit and from beat); how many were sent.

    Each digest in a transaction of its own: locked (SKIP LOCKED, so two runs never take the same one), rendered for
    each recipient in their language into the outbox, and marked sent in that transaction. A digest is therefore
    e-mailed once however many runs reach it, and one that fails (logged) stays for the next run.
    """
    from accounts.notify import notify_office

    pending = list(
        DeadlineDigest.objects.filter(sent_at__isnull=True)
        .order_by("created_at")
        .values_list("pk", flat=True)[:DIGEST_RUN_LIMIT]
    )
    sent = 0
    for pk in pending:
        try:
            with transaction.atomic():
                digest = (
                    DeadlineDigest.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("office")
                    .filter(pk=pk, sent_at__isnull=True)
                    .first()
                )
                if digest is None:
                    continue  # sent meanwhile, or another run is sending it
                notify_office(
                    digest.office,
                    template="cases/deadline_digest",
                    context=digest_context(digest),
                    include_supervisors=digest.state == DueState.OVERDUE,
                    service=digest.service,
                )
                DeadlineDigest.objects.filter(pk=pk).update(sent_at=timezone.now())
        except Exception:
            logger.exception("deadline digest %s not sent; the next run tries again", pk)
            continue
        sent += 1
    return sent


def digest_context(digest: DeadlineDigest) -> dict[str, object]:
    """The template context of templates/notify/cases/deadline_digest/ (each case's kind in the reader's language)."""
    from django.apps import apps

    return {
        "overdue": digest.state == DueState.OVERDUE,
        "count": digest.count,
        "cases": [
            {
                "case_number": case["case_number"],
                "title": apps.get_model(case["model"])._meta.verbose_name,
                "due_date": case["due_date"],
            }
            for case in digest.cases
        ],
        "more": max(digest.count - len(digest.cases), 0),
    }


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
