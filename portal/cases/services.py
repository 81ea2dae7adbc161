"""Case numbers, guarded transitions and the working-day clock: called by views, admin actions and tasks alike."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, cast

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import registry
from portal.workdays import calendar as workdays

from .models import Case, CaseSequence, DueState, Transition

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django_stubs_ext import StrOrPromise

    from accounts.models import Office, User

logger = logging.getLogger(__name__)

_CaseT = TypeVar("_CaseT", bound=Case)


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


class TransitionError(Exception):
    """The transition cannot happen; `str()` is a message for the user."""


class TransitionNotAllowed(TransitionError):
    pass


class TransitionConflict(TransitionError):
    """Someone else changed the case first (two officers acting at once)."""


# Crockford base32 without the letters people misread (I, L, O, U), as the verification codes.
CASE_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CASE_NUMBER_RANDOM_GROUPS = 2  # two groups of four characters: 8 x 5 = 40 bits from `secrets`
CASE_NUMBER_ATTEMPTS = 5
# PREFIX-YYYYMMDD-XXXX-XXXX since random case numbers; PREFIX-YYYYMMDD-NNNNN (a daily counter) before.
CASE_NUMBER_RE = re.compile(r"[A-Z]{2,8}-[0-9]{8}-(?:[0-9A-Z]{4}-[0-9A-Z]{4}|[0-9]{5,})")
# For URL converters: what a case number of `prefix` can look like, old or new.
CASE_NUMBER_TAIL = r"-[0-9]{8}-(?:[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}|[0-9]{5,})"


def next_case_number(prefix: str, day: date | None = None) -> str:
    """PREFIX-YYYYMMDD-XXXX-XXXX: readable prefix and date, then 40 random bits, so that a case number cannot be
    guessed from its neighbours (docs/architecture.md#stable-urls). Unique by the column's constraint: create cases
    with `create_with_case_number`, which draws again on the (rare) collision."""
    day = day or timezone.localdate()
    groups = ("".join(secrets.choice(CASE_NUMBER_ALPHABET) for _ in range(4)) for _ in range(CASE_NUMBER_RANDOM_GROUPS))
    return f"{prefix}-{day:%Y%m%d}-" + "-".join(groups)


def normalize_case_number(text: str) -> str:
    """What a citizen typed, as stored: upper case, no spaces; I, L and O read as 1, 1 and 0 in the random part."""
    cleaned = "".join((text or "").split()).upper()
    parts = cleaned.split("-")
    if len(parts) == 4:  # the new format: only its random part can hold a misread letter
        parts[2:] = [part.translate(_READ_AS) for part in parts[2:]]
    return "-".join(parts)


_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


def create_with_case_number(model: type[_CaseT], prefix: str, **fields: Any) -> _CaseT:
    """`model.objects.create(case_number=<new>, **fields)`, drawing a new number if one is already taken."""
    for attempt in range(1, CASE_NUMBER_ATTEMPTS + 1):
        number = next_case_number(prefix)
        try:
            with transaction.atomic():
                return model.objects.create(case_number=number, **fields)
        except IntegrityError:
            if attempt == CASE_NUMBER_ATTEMPTS or not model.objects.filter(case_number=number).exists():
                raise  # another constraint failed, or the generator is broken
            logger.warning("case number %s drawn twice; drawing again", number)
    raise AssertionError("unreachable")


def next_serial_number(prefix: str, day: date | None = None) -> str:
    """PREFIX-YYYYMMDD-NNNNN from a per-prefix, per-day counter, safe under concurrency: for document serial numbers
    (a hukou Permit to Move In), which are printed on paper and never looked up by the public."""
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


def _actor(by: User | AnonymousUser | None) -> User | None:
    """The account to record on the timeline: None for nobody (a task) or an anonymous visitor."""
    if by is not None and getattr(by, "is_authenticated", False):
        return cast("User", by)  # authenticated: an account, not AnonymousUser
    return None


def transition(
    case: _CaseT,
    *,
    to: str,
    by: User | AnonymousUser | None = None,
    note: str = "",
    internal_note: str = "",
    allowed_from: Collection[str] | None = None,
    office: Office | None = None,
    **changes: Any,
) -> _CaseT:
    """Move `case` to status `to` if it is still in the status this object was read with.

    A conditional UPDATE (`WHERE pk = … AND status = <old>`) means that of two officers acting at once
    exactly one wins; the other gets TransitionConflict. `changes` are further fields written in the
    same UPDATE (clock fields, decision fields). A timeline row records who, when, from, to and why: `note` is the
    message to the applicant (shown on their pages), `internal_note` is for staff only.
    """
    old = case.status
    if case.frozen_at is not None:
        raise TransitionNotAllowed(_frozen_message(case))
    if allowed_from is not None and old not in allowed_from:
        raise TransitionNotAllowed(
            _("This action is not possible while the case is “%(status)s”.") % {"status": case.status_label(old)}
        )
    model = type(case)
    now = timezone.now()
    with transaction.atomic():
        updated = model.objects.filter(pk=case.pk, status=old, frozen_at__isnull=True).update(
            status=to, updated_at=now, **changes
        )
        if updated != 1:
            frozen = model.objects.filter(pk=case.pk, frozen_at__isnull=False).first()
            if frozen is not None:
                raise TransitionNotAllowed(_frozen_message(frozen))
            raise TransitionConflict(
                _("Case %(number)s was changed by someone else a moment ago. Reload it and check before acting.")
                % {"number": case.case_number}
            )
        Transition.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            object_id=case.pk,
            from_status=old,
            to_status=to,
            actor=_actor(by),
            office=office,
            note=note,
            internal_note=(internal_note or "").strip(),
        )
    case.status = to
    case.updated_at = now
    for name, value in changes.items():
        setattr(case, name, value)
    logger.info("case %s: %s -> %s by user %s", case.case_number, old, to, getattr(by, "pk", None))
    return case


def _frozen_message(case: Case) -> str:
    return str(
        _("Case %(number)s is frozen and can take no further step: %(reason)s")
        % {"number": case.case_number, "reason": case.frozen_reason}
    )


def freeze_cases_of(applicant: User, *, reason: str, by: User | None = None) -> list[Case]:
    """Freeze every unfinished case of `applicant` in every service, each with a timeline row giving `reason`.

    Unfinished is anything but the model's CLOSED_STATUSES: drafts, submitted, under review, waiting for more
    information. A frozen case keeps its status and answers (staff see both, and why it is frozen) but takes no
    transition until it is released (docs/architecture.md#identity-assurance).
    """
    now = timezone.now()
    frozen: list[Case] = []
    for model in cast("list[type[Case]]", registry.case_models()):
        content_type = ContentType.objects.get_for_model(model)
        candidates = model.objects.filter(applicant=applicant, frozen_at__isnull=True).exclude(
            status__in=model.CLOSED_STATUSES
        )
        for case in candidates:
            # Conditional on the status read, like transition(): a case that moved on meanwhile is read again next time.
            if not model.objects.filter(pk=case.pk, status=case.status, frozen_at__isnull=True).update(
                frozen_at=now, frozen_reason=reason[:300]
            ):
                continue
            Transition.objects.create(
                content_type=content_type,
                object_id=case.pk,
                from_status=case.status,
                to_status=case.status,
                actor=by,
                note=reason,
            )
            case.frozen_at, case.frozen_reason = now, reason[:300]
            frozen.append(case)
            logger.warning("case %s frozen: its applicant's account was superseded", case.case_number)
    return frozen


def record_opened(
    case: Case,
    *,
    by: User | AnonymousUser | None = None,
    note: str = "",
    internal_note: str = "",
    office: Office | None = None,
) -> Transition:
    """The first timeline row of a case created directly in its first open status (not through a draft)."""
    return Transition.objects.create(
        content_type=ContentType.objects.get_for_model(type(case)),
        object_id=case.pk,
        from_status="",
        to_status=case.status,
        actor=_actor(by),
        office=office,
        note=note,
        internal_note=(internal_note or "").strip(),
    )


def record_staff_event(
    case: Case, *, by: User | AnonymousUser | None, internal_note: str, office: Office | None = None
) -> Transition:
    """A timeline row only staff see (the applicant's pages leave it out): a step that concerns the file, not the
    decision, such as a document set aside. The status does not change."""
    return Transition.objects.create(
        content_type=ContentType.objects.get_for_model(type(case)),
        object_id=case.pk,
        from_status=case.status,
        to_status=case.status,
        actor=_actor(by),
        office=office,
        internal_note=internal_note,
        staff_only=True,
    )


def record_event(
    case: Case,
    *,
    by: User | AnonymousUser | None,
    note: str = "",
    internal_note: str = "",
    event: str = "",
    office: Office | None = None,
    guard: dict[str, Any] | None = None,
    **changes: Any,
) -> Transition:
    """A timeline row for a step that leaves the status as it is (a revocation, a paper copy, a check recorded).

    Guarded like transition(): the UPDATE names the status this object was read with and `guard`, so a stale page
    or a double click changes nothing and raises TransitionConflict. `changes` are written in the same UPDATE.
    """
    model = type(case)
    now = timezone.now()
    with transaction.atomic():
        updated = model.objects.filter(pk=case.pk, status=case.status, **(guard or {})).update(
            updated_at=now, **changes
        )
        if updated != 1:
            raise TransitionConflict(
                _("Case %(number)s was changed by someone else a moment ago. Reload it and check before acting.")
                % {"number": case.case_number}
            )
        row = Transition.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            object_id=case.pk,
            from_status=case.status,
            to_status=case.status,
            actor=_actor(by),
            office=office,
            note=note,
            internal_note=(internal_note or "").strip(),
            event=event,
        )
    for name, value in changes.items():
        setattr(case, name, value)
    case.updated_at = now
    return row


def save_answers(case: _CaseT, *, allowed: Collection[str], conflict: StrOrPromise, **fields: Any) -> _CaseT:
    """Write the applicant's answers to a case still in one of the `allowed` statuses it was read in.

    A conditional UPDATE on the status read: if the case moved on meanwhile (the office acted, another tab
    submitted), nothing is written and TransitionConflict says `conflict` (with %(number)s).
    """
    ensure_status(case, allowed)
    updated = type(case).objects.filter(pk=case.pk, status=case.status).update(updated_at=timezone.now(), **fields)
    if updated != 1:
        raise TransitionConflict(conflict % {"number": case.case_number})
    for name, value in fields.items():
        setattr(case, name, value)
    return case


def delete_draft(case: Case, *, by: User | AnonymousUser | None) -> None:
    """The applicant deletes a draft with its uploads (the files after commit) and its timeline."""
    from portal.documents.services import documents_delete, documents_for_case

    ensure_applicant(by, case)
    model = type(case)
    with transaction.atomic():
        locked = model.objects.select_for_update().filter(pk=case.pk, status__in=model.DRAFT_STATUSES)
        if not locked.exists():
            raise TransitionNotAllowed(_("Only a draft can be deleted."))
        documents_delete(documents_for_case(case).only("pk", "file"))
        Transition.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id=case.pk).delete()
        locked.delete()
    logger.info("%s draft %s deleted by its applicant", model._meta.app_label, case.case_number)


# --- the working-day clock -----------------------------------------------------------------------


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


# --- small guards the services share ---------------------------------------------------------------------


def ensure_applicant(by: User | AnonymousUser | None, case: Case) -> None:
    """Only the applicant may take a citizen's step (submit, resubmit, withdraw)."""
    if by is None or by.pk != case.applicant_id:
        raise TransitionNotAllowed(_("Only the applicant can do this."))


def required_text(value: str, message: StrOrPromise) -> str:
    """A reason, message or reply that must not be empty; returned stripped."""
    from django.core.exceptions import ValidationError

    value = (value or "").strip()
    if not value:
        raise ValidationError(message, code="required")
    return value


def ensure_status(case: Case, allowed: Collection[str]) -> None:
    """Checked before work that needs the right state (a clock, a register lookup); transition() checks again."""
    if case.status not in allowed:
        raise TransitionNotAllowed(
            _("This action is not possible while the case is “%(status)s”.") % {"status": case.status_label()}
        )
