"""The working-day clock of a case and the deadline sweep: the clock fields each step writes, provisional
deadlines recomputed when the holiday table is filled in, and the sweep that flags due cases and tells their offices
(docs/architecture.md#cases-transitions-and-deadlines)."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.db import connection, transaction
from django.db.models import Case as DbCase
from django.db.models import CharField, Expression, F, Q, Value, When
from django.utils import timezone

from portal.workdays import calendar as workdays

from .models import Case, DeadlineDigest, DueState

if TYPE_CHECKING:
    from django.db.models import Field

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


def due_soon_horizon(today: date) -> date:
    """The last due date the sweep flags on `today`: the next working day. A case it flagged due soon has its due
    date on or before this horizon, one it flagged overdue before `today`; the desk's counts and the queue's deadline
    filter bound the due date the same way (so an index on the office and the due date finds the flagged cases)."""
    return workdays.add_workdays(today, 1).date


def flagged_q(state: str, today: date) -> Q:
    """The cases the sweep flagged `state` (due soon or overdue), as the desk counts them and the queue filters them:
    the flag and the due date's bound that holds for every flag the sweep set (due soon: on or before the horizon;
    overdue: before today), which lets the office's open cases by due date (`*_office_open_due`) find them, as no
    index holds due_state."""
    bound = Q(due_date__lte=due_soon_horizon(today)) if state == DueState.DUE_SOON else Q(due_date__lt=today)
    return Q(due_state=state) & bound


# How many cases one digest lists by number; digests sent per task run.
DIGEST_LIST_LIMIT = 30
DIGEST_RUN_LIMIT = 2000


def sweep_deadlines(case_models: Iterable[type[Case]], today: date | None = None) -> dict[str, int]:
    """Flag due-soon and overdue cases, once per case and state, and leave each office a digest to be e-mailed.

    One transaction, set-based: per case model one UPDATE flags the running clocks due at or before the horizon
    (the next working day) whose state changes, read through the partial index on the open states and locked with
    SKIP LOCKED (a case an officer is changing right now, or another sweep holds, waits for the next sweep), and
    returns each flagged case's acting office, state, due date and number. Then one INSERT writes one
    DeadlineDigest row per office, state and agency (the count and the first cases by due date). Rendering and
    e-mailing the digests is the notify task's (send_deadline_digests), published on commit; the beat job re-sends
    what it left. So the cost follows the due cases, not the open ones: no case is read into a model instance, no
    office is loaded, and no template or outbox row is written here.
    """
    today = today or timezone.localdate()
    horizon = due_soon_horizon(today)
    # The days from today to the horizon that are due soon (a handful); every earlier day is overdue.
    soon = [
        day
        for day in (today + timedelta(days=n) for n in range((horizon - today).days + 1))
        if due_state_for(day, today) == DueState.DUE_SOON
    ]
    from accounts.scoping import service_agency

    counts = {"due_soon": 0, "overdue": 0}
    # (office pk, state, agency) -> [service, count, the cases listed first]
    digests: dict[tuple[int, str, str], _Tally] = {}
    with transaction.atomic():
        for model in case_models:
            label = model._meta.label_lower
            service = model._meta.app_label
            agency = service_agency(service) or ""
            for office_id, state, due_date, case_number in _flag(model, today=today, horizon=horizon, soon=soon):
                counts[state] += 1
                tally = digests.setdefault((office_id, state, agency), _Tally(service))
                tally.count += 1
                tally.cases.append((_iso(due_date), case_number, label))
        DeadlineDigest.objects.bulk_create(
            DeadlineDigest(
                office_id=office_id,
                state=state,
                service=tally.service,
                count=tally.count,
                cases=[
                    {"model": label, "case_number": number, "due_date": due}
                    for due, number, label in heapq.nsmallest(DIGEST_LIST_LIMIT, tally.cases)
                ],
            )
            for (office_id, state, _agency), tally in sorted(digests.items(), key=lambda item: item[0])
        )
        if digests:
            from portal.celery import publish_on_commit

            from .tasks import send_deadline_digests as task

            publish_on_commit(task)
    return counts


@dataclass
class _Tally:
    """One digest being summed up: a service of its agency, the number of cases, and (due date, number, model)."""

    service: str
    count: int = 0
    cases: list[tuple[str, str, str]] = field(default_factory=list)


def _iso(day: date | str) -> str:
    # PostgreSQL returns dates, SQLite ISO strings (no converters on a raw cursor).
    return day if isinstance(day, str) else day.isoformat()


def _flag(model: type[Case], *, today: date, horizon: date, soon: list[date]) -> list[tuple[int, str, date | str, str]]:
    """Flag `model`'s cases whose deadline state changes, in one UPDATE; (acting office pk, state, due date, number).

    The UPDATE's rows are chosen by a subquery through the partial index (`*_open_due`) and locked there with SKIP
    LOCKED, so what is flagged is exactly what was read and locked. On PostgreSQL the subquery is an array (one
    InitPlan) and the UPDATE finds its rows by primary key, whatever the planner guesses of their number.
    """
    state = DbCase(
        When(due_date__lt=today, then=Value(DueState.OVERDUE.value)),
        *([When(due_date__in=soon, then=Value(DueState.DUE_SOON.value))] if soon else []),
        default=Value(DueState.NONE.value),
        output_field=CharField(),
    )
    chosen = (
        # A frozen case (its applicant's identity is disputed) takes no step, so no office is asked to act on it.
        model.objects.filter(
            status__in=model.OPEN_STATUSES,
            paused_at__isnull=True,
            frozen_at__isnull=True,
            due_date__isnull=False,
            due_date__lte=horizon,
        )
        .exclude(due_state=DueState.OVERDUE)
        .alias(new_state=state)
        .exclude(new_state=DueState.NONE)
        .exclude(new_state=F("due_state"))
        .order_by()  # no sort over the due rows: the partial index alone serves the query
        .select_for_update(skip_locked=True)
        .values("pk")
    )
    chosen_sql, chosen_params = chosen.query.sql_with_params()
    state_sql, state_params = _compile(model, state)
    office_sql, office_params = _compile(model, model.acting_office_expression())
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)

    def column(name: str) -> str:
        return f"{table}.{quote(cast('str', cast('Field[Any, Any]', model._meta.get_field(name)).column))}"

    pk = column(model._meta.pk.name)  # every model has a primary key
    where = f"{pk} = ANY(ARRAY({chosen_sql}))" if connection.vendor == "postgresql" else f"{pk} IN ({chosen_sql})"
    due_state = quote(cast("str", cast("Field[Any, Any]", model._meta.get_field("due_state")).column))
    # Identifiers from the model's meta and SQL the ORM compiled; every value is a parameter.
    sql = (
        f"UPDATE {table} SET {due_state} = {state_sql} WHERE {where} "  # noqa: S608  # nosec B608
        f"RETURNING {office_sql}, {column('due_state')}, {column('due_date')}, {column('case_number')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*state_params, *chosen_params, *office_params])
        return cast("list[tuple[int, str, date | str, str]]", cursor.fetchall())


def _compile(model: type[Case], expression: Expression | F) -> tuple[str, list[Any]]:
    """An expression over `model`'s own columns as SQL and parameters (for the sweep's raw UPDATE)."""
    query = model.objects.all().query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.compile(expression.resolve_expression(query, allow_joins=False))
    return sql, list(params)


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


def deadline_office(case: Case) -> Office:
    """The office that must act now: a case may say so itself (multi-office workflows)."""
    acting = getattr(case, "acting_office", None)
    return (acting() if callable(acting) else None) or case.office
