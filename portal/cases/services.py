"""Case numbers, guarded transitions and the working-day clock: called by views, admin actions and tasks alike."""

import logging
from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.workdays import calendar as workdays

from .models import CaseSequence, DueState, Transition

logger = logging.getLogger(__name__)


class TransitionError(Exception):
    """The transition cannot happen; `str()` is a message for the user."""


class TransitionNotAllowed(TransitionError):
    pass


class TransitionConflict(TransitionError):
    """Someone else changed the case first (two officers acting at once)."""


def next_case_number(prefix: str, day: date | None = None) -> str:
    """PREFIX-YYYYMMDD-NNNNN, unique per prefix and day, safe under concurrency."""
    day = day or timezone.localdate()
    with transaction.atomic():
        if not CaseSequence.objects.filter(prefix=prefix, day=day).update(last=F("last") + 1):
            try:
                with transaction.atomic():
                    CaseSequence.objects.create(prefix=prefix, day=day, last=1)
            except IntegrityError:  # another request created today's row first
                CaseSequence.objects.filter(prefix=prefix, day=day).update(last=F("last") + 1)
        last = CaseSequence.objects.get(prefix=prefix, day=day).last
    return f"{prefix}-{day:%Y%m%d}-{last:05d}"


def transition(case, *, to: str, by=None, note: str = "", allowed_from=None, office=None, **changes):
    """Move `case` to status `to` if it is still in the status this object was read with.

    A conditional UPDATE (`WHERE pk = … AND status = <old>`) means that of two officers acting at once
    exactly one wins; the other gets TransitionConflict. `changes` are further fields written in the
    same UPDATE (clock fields, decision fields). A timeline row records who, when, from, to and why.
    """
    old = case.status
    if allowed_from is not None and old not in allowed_from:
        raise TransitionNotAllowed(
            _("This action is not possible while the case is “%(status)s”.") % {"status": case.status_label(old)}
        )
    model = type(case)
    now = timezone.now()
    with transaction.atomic():
        updated = model.objects.filter(pk=case.pk, status=old).update(status=to, updated_at=now, **changes)
        if updated != 1:
            raise TransitionConflict(
                _("Case %(number)s was changed by someone else a moment ago. Reload it and check before acting.")
                % {"number": case.case_number}
            )
        Transition.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            object_id=case.pk,
            from_status=old,
            to_status=to,
            actor=by if (by is not None and getattr(by, "is_authenticated", False)) else None,
            office=office,
            note=note,
        )
    case.status = to
    case.updated_at = now
    for name, value in changes.items():
        setattr(case, name, value)
    logger.info("case %s: %s -> %s by user %s", case.case_number, old, to, getattr(by, "pk", None))
    return case


# --- the working-day clock -----------------------------------------------------------------------


def clock_start(limit: int, start: date | None = None) -> dict:
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


def clock_pause(case, at=None) -> dict:
    """Fields that stop the clock (a request for more information) and keep the working days left."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    left = workdays.workdays_between(today, case.due_date) if case.due_date else case.clock_limit
    return {"paused_at": at, "workdays_left": max(left, 0), "due_state": DueState.NONE}


def clock_resume(case, start: date | None = None) -> dict:
    """Fields that restart a paused clock with the days it had left."""
    left = case.workdays_left if case.workdays_left is not None else (case.clock_limit or 0)
    return clock_start(left, start)


def clock_stop() -> dict:
    return {
        "clock_limit": None,
        "clock_started_on": None,
        "due_date": None,
        "deadline_provisional": False,
        "paused_at": None,
        "workdays_left": None,
        "due_state": DueState.NONE,
    }


def recompute_provisional_deadlines(case_models) -> int:
    """Recompute every running provisional deadline (after the holiday table was filled in)."""
    changed = 0
    for model in case_models:
        qs = model.objects.filter(
            deadline_provisional=True, paused_at__isnull=True, clock_started_on__isnull=False, clock_limit__isnull=False
        ).only("pk", "clock_started_on", "clock_limit", "due_date", "deadline_provisional")
        for case in qs.iterator():
            deadline = workdays.add_workdays(case.clock_started_on, case.clock_limit)
            if (deadline.date, deadline.provisional) != (case.due_date, case.deadline_provisional):
                model.objects.filter(pk=case.pk).update(
                    due_date=deadline.date, deadline_provisional=deadline.provisional, due_state=DueState.NONE
                )
                changed += 1
    return changed


def due_state_for(due_date: date, today: date) -> str:
    """Overdue after the due date's end; due soon when at most one working day is left."""
    if due_date < today:
        return DueState.OVERDUE
    if workdays.workdays_between(today, due_date) <= 1:
        return DueState.DUE_SOON
    return DueState.NONE


def sweep_deadlines(case_models, today: date | None = None) -> dict:
    """Flag due-soon and overdue cases and notify once per case and state.

    Reads only running clocks with a due date at or before the horizon (the next working day), through
    the index on (status, due_date), never every open case. The state is claimed with a conditional
    UPDATE, so two sweeps running at once notify once.
    """
    from portal.notify.services import notify_office

    today = today or timezone.localdate()
    horizon = workdays.add_workdays(today, 1).date
    counts = {"due_soon": 0, "overdue": 0}
    for model in case_models:
        candidates = (
            model.objects.filter(
                status__in=model.OPEN_STATUSES, paused_at__isnull=True, due_date__isnull=False, due_date__lte=horizon
            )
            .exclude(due_state=DueState.OVERDUE)
            .select_related("office", *model.DEADLINE_OFFICE_FIELDS)
            .only("pk", "case_number", "status", "due_date", "due_state", "office", *model.DEADLINE_OFFICE_FIELDS)
            .order_by()  # no sort over the due rows: the partial index alone serves the query
        )
        for case in candidates.iterator(chunk_size=500):
            new_state = due_state_for(case.due_date, today)
            if new_state == DueState.NONE or new_state == case.due_state:
                continue
            claimed = model.objects.filter(pk=case.pk, due_state=case.due_state, status=case.status).update(
                due_state=new_state
            )
            if not claimed:
                continue
            counts[new_state] += 1
            office = deadline_office(case)
            notify_office(
                office,
                template="cases/deadline",
                context={
                    "case_number": case.case_number,
                    "state": new_state,
                    "overdue": new_state == DueState.OVERDUE,
                    "due_date": case.due_date.isoformat(),
                },
                include_supervisors=new_state == DueState.OVERDUE,
            )
    return counts


def deadline_office(case):
    """The office that must act now: a case may say so itself (multi-office workflows)."""
    acting = getattr(case, "acting_office", None)
    return (acting() if callable(acting) else None) or case.office


# --- small guards the services share ---------------------------------------------------------------------


def ensure_applicant(by, case) -> None:
    """Only the applicant may take a citizen's step (submit, resubmit, withdraw)."""
    if by is None or by.pk != case.applicant_id:
        raise TransitionNotAllowed(_("Only the applicant can do this."))


def required_text(value: str, message) -> str:
    """A reason, message or reply that must not be empty; returned stripped."""
    from django.core.exceptions import ValidationError

    value = (value or "").strip()
    if not value:
        raise ValidationError(message, code="required")
    return value


def ensure_status(case, allowed) -> None:
    """Checked before work that needs the right state (a clock, a register lookup); transition() checks again."""
    if case.status not in allowed:
        raise TransitionNotAllowed(
            _("This action is not possible while the case is “%(status)s”.") % {"status": case.status_label()}
        )
