"""Case numbers, guarded transitions and timeline rows, freezing, drafts: called by views, admin actions and tasks alike.

The working-day clock and the deadline sweep are in portal.cases.deadlines.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Collection
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import registry

from .models import Case, CaseSequence, Transition

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django_stubs_ext import StrOrPromise

    from accounts.models import Office, User

logger = logging.getLogger(__name__)

_CaseT = TypeVar("_CaseT", bound=Case)


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


def _timeline_row(
    case: Case,
    *,
    by: User | AnonymousUser | None,
    from_status: str,
    to_status: str,
    office: Office | None = None,
    note: str = "",
    internal_note: str = "",
    **flags: Any,
) -> Transition:
    """One row of the case's timeline: who (an account, or nobody), under which office, from and to which status,
    the message to the applicant (`note`) and the note for staff (`internal_note`, stripped)."""
    return Transition.objects.create(
        content_type=ContentType.objects.get_for_model(type(case)),
        object_id=case.pk,
        from_status=from_status,
        to_status=to_status,
        actor=_actor(by),
        office=office,
        note=note,
        internal_note=(internal_note or "").strip(),
        **flags,
    )


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
        _timeline_row(case, by=by, from_status=old, to_status=to, office=office, note=note, internal_note=internal_note)
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
    return _timeline_row(
        case, by=by, from_status="", to_status=case.status, office=office, note=note, internal_note=internal_note
    )


def record_note(
    case: Case,
    *,
    by: User | AnonymousUser | None,
    note: str = "",
    internal_note: str = "",
    office: Office | None = None,
    **flags: Any,
) -> Transition:
    """A timeline row that leaves the status as it is and changes nothing else (record_event also writes fields)."""
    return _timeline_row(
        case,
        by=by,
        from_status=case.status,
        to_status=case.status,
        office=office,
        note=note,
        internal_note=internal_note,
        **flags,
    )


def record_staff_event(
    case: Case, *, by: User | AnonymousUser | None, internal_note: str, office: Office | None = None
) -> Transition:
    """A timeline row only staff see (the applicant's pages leave it out): a step that concerns the file, not the
    decision, such as a document set aside. The status does not change."""
    return record_note(case, by=by, internal_note=internal_note, office=office, staff_only=True)


def record_event(
    case: Case,
    *,
    by: User | AnonymousUser | None,
    note: str = "",
    internal_note: str = "",
    event: str = "",
    office: Office | None = None,
    guard: dict[str, Any] | None = None,
    staff_only: bool = False,
    **changes: Any,
) -> Transition:
    """A timeline row for a step that leaves the status as it is (a revocation, a paper copy, a check recorded).

    Guarded like transition(): the UPDATE names the status this object was read with and `guard`, so a stale page
    or a double click changes nothing and raises TransitionConflict. `changes` are written in the same UPDATE.
    `staff_only`: the applicant's pages leave the row out (a claim or an assignment).
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
        row = record_note(
            case, by=by, note=note, internal_note=internal_note, office=office, event=event, staff_only=staff_only
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
