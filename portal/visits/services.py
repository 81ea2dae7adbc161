"""Booking, rebooking and cancelling a visit, the officer's record of it, and the reminder the working day before.

Of two citizens taking the last place of a slot at once exactly one wins: a booking is a conditional UPDATE
(`booked = booked + 1 WHERE booked < capacity`), which PostgreSQL re-checks on the row the other transaction
committed; the check constraint `visits_slot_within_capacity` has the last word, and a partial unique index keeps one
live booking per case. Each step writes its timeline row on the case (portal.cases.services.record_event, guarded
on the case's status) and queues its SMS in the same transaction.
"""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from accounts.scoping import may_see_office
from portal.cases.services import TransitionError, record_event
from portal.notify.services import notify_user
from portal.workdays.calendar import add_workdays, is_workday

from . import purposes
from .models import Visit, VisitSlot, VisitStation, VisitStatus
from .slots import open_slots

if TYPE_CHECKING:
    from accounts.models import User

    from .purposes import Purpose

logger = logging.getLogger(__name__)


class VisitError(TransitionError):
    """The booking step cannot happen; `str()` is a message for the user."""


class Event:
    BOOKED = "visit_booked"
    REBOOKED = "visit_rebooked"
    CANCELLED = "visit_cancelled"
    ATTENDED = "visit_attended"
    NO_SHOW = "visit_no_show"


EVENT_LABELS = {
    Event.BOOKED: _("Visit booked"),
    Event.REBOOKED: _("Visit moved"),
    Event.CANCELLED: _("Visit cancelled"),
    Event.ATTENDED: _("Came to the booked visit"),
    Event.NO_SHOW: _("Did not come to the booked visit"),
}

OUTCOMES: dict[str, str] = {VisitStatus.ATTENDED: Event.ATTENDED, VisitStatus.NO_SHOW: Event.NO_SHOW}


def station_of(case: Any, purpose: Purpose) -> VisitStation | None:
    """The station taking bookings for this case, if its office publishes slots."""
    office = purpose.station_office(case)
    if office is None:
        return None
    return VisitStation.objects.filter(office=office, active=True).select_related("office").first()


def visits_of(case: Any) -> Any:
    """Every visit of the case, newest slot first."""
    return (
        Visit.objects.filter(content_type=ContentType.objects.get_for_model(type(case)), object_id=case.pk)
        .select_related("slot__station__office", "outcome_by")
        .order_by("-slot__day", "-slot__starts_at", "-pk")
    )


def attended(case: Any, purpose: str) -> bool:
    """The case has a visit for `purpose` the office recorded as attended (the originals were seen, say)."""
    return bool(visits_of(case).filter(purpose=purpose, status=VisitStatus.ATTENDED).exists())


def live_visit(case: Any) -> Visit | None:
    return visits_of(case).filter(status=VisitStatus.BOOKED).first()


def when_text(slot: VisitSlot) -> str:
    from django.utils.formats import date_format

    return f"{date_format(slot.day, 'DATE_FORMAT')} {slot.starts_at:%H:%M}–{slot.ends_at:%H:%M}"


def _ensure_applicant_may_book(case: Any, by: Any, purpose: Purpose | None) -> Purpose:
    if by is None or by.pk != case.applicant_id:
        raise VisitError(_("Only the applicant can book a visit for this case."))
    if purpose is None or case.frozen_at is not None or not purpose.open_for(case):
        raise VisitError(_("Case %(number)s takes no booking at this stage.") % {"number": case.case_number})
    return purpose


def _take(slot_id: int, station: VisitStation) -> VisitSlot:
    """One place of the slot, if it is still open and has one (the conditional UPDATE the race is about)."""
    if not open_slots(station).filter(pk=slot_id).exists():
        raise VisitError(_("That time cannot be booked any more. Choose another one."))
    if not VisitSlot.objects.filter(pk=slot_id, booked__lt=F("capacity")).update(booked=F("booked") + 1):
        raise VisitError(_("Someone else has just taken the last place at that time. Choose another one."))
    return VisitSlot.objects.select_related("station__office").get(pk=slot_id)


def _release(slot_id: int) -> None:
    VisitSlot.objects.filter(pk=slot_id, booked__gt=0).update(booked=F("booked") - 1)


def _record(
    case: Any,
    by: Any,
    event: str,
    note: Any,
    purpose: Purpose | None,
    slot: VisitSlot,
    internal_note: str = "",
    **extra: Any,
) -> None:
    """The step's row on the case's timeline, at the station's office; `note` names %(purpose)s, %(when)s,
    %(office)s and the `extra` values as it needs them."""
    office = slot.station.office
    values = {"purpose": purpose.title if purpose else "", "when": when_text(slot), "office": office, **extra}
    record_event(case, by=by, note=note % values, internal_note=internal_note, event=event, office=office)


def _tell(visit: Visit, template: str, purpose: Purpose | None, case: Any) -> None:
    office = visit.slot.station.office
    notify_user(
        visit.applicant,
        template=f"visits/{template}",
        context={
            "case_number": visit.case_number,
            "office": office,
            "address": office.address,
            "day": visit.slot.day,
            "starts_at": visit.slot.starts_at,
            "ends_at": visit.slot.ends_at,
            "purpose": purpose.title if purpose else "",
            "bring": purpose.bring if purpose else "",
        },
        email=False,
    )


def book(case: Any, *, slot_id: int, by: Any) -> Visit:
    """The applicant books a place in a slot of the station their case goes to."""
    purpose = _ensure_applicant_may_book(case, by, purposes.open_purpose(case))
    station = station_of(case, purpose)
    if station is None:
        raise VisitError(_("This office takes no bookings online. It will contact you."))
    if attended(case, purpose.key):
        raise VisitError(_("The office has already seen you for case %(number)s.") % {"number": case.case_number})
    now = timezone.now()
    with transaction.atomic():
        slot = _take(slot_id, station)
        try:
            with transaction.atomic():
                visit = Visit.objects.create(
                    slot=slot,
                    content_type=ContentType.objects.get_for_model(type(case)),
                    object_id=case.pk,
                    case_number=case.case_number,
                    purpose=purpose.key,
                    applicant=by,
                    booked_at=now,
                )
        except IntegrityError:
            raise VisitError(
                _("Case %(number)s already has a booked visit. Move or cancel that one.") % {"number": case.case_number}
            ) from None
        _record(case, by, Event.BOOKED, _("%(purpose)s: %(when)s at %(office)s."), purpose, slot)
        _tell(visit, "booked", purpose, case)
    logger.info("visit %s booked for %s, slot %s", visit.pk, case.case_number, slot.pk)
    return visit


def _locked_live(visit: Visit) -> Visit:
    locked = (
        Visit.objects.select_for_update()
        .filter(pk=visit.pk, status=VisitStatus.BOOKED)
        .select_related("slot__station__office", "applicant")
        .first()
    )
    if locked is None:
        raise VisitError(_("This visit was changed a moment ago. Reload the page."))
    return locked


def rebook(case: Any, visit: Visit, *, slot_id: int, by: Any) -> Visit:
    """The applicant moves their visit to another slot; the old place is given back in the same transaction."""
    purpose = _ensure_applicant_may_book(case, by, purposes.get(visit.purpose))
    station = station_of(case, purpose)
    if station is None or visit.slot.station_id != station.pk:
        raise VisitError(_("This office takes no bookings online. It will contact you."))
    with transaction.atomic():
        current = _locked_live(visit)
        old = current.slot_id
        if old == slot_id:
            return current
        # Slot rows are always updated in primary-key order, so two rebookings crossing over cannot deadlock.
        if old < slot_id:
            _release(old)
            slot = _take(slot_id, station)
        else:
            slot = _take(slot_id, station)
            _release(old)
        Visit.objects.filter(pk=current.pk).update(slot=slot, booked_at=timezone.now(), reminder_sent_at=None)
        current.slot, current.reminder_sent_at = slot, None
        _record(case, by, Event.REBOOKED, _("%(purpose)s moved to %(when)s at %(office)s."), purpose, slot)
        _tell(current, "rebooked", purpose, case)
    return current


def cancel(case: Any, visit: Visit, *, by: Any) -> Visit:
    """The applicant cancels their visit; the place is free again."""
    purpose = purposes.get(visit.purpose)
    if by is None or by.pk != case.applicant_id or visit.applicant_id != by.pk:
        raise VisitError(_("Only the applicant can cancel this visit."))
    with transaction.atomic():
        current = _locked_live(visit)
        if current.slot.day <= timezone.localdate():
            raise VisitError(_("A visit can be cancelled until the day before. Call the office."))
        Visit.objects.filter(pk=current.pk).update(status=VisitStatus.CANCELLED, closed_at=timezone.now())
        _release(current.slot_id)
        current.status = VisitStatus.CANCELLED
        _record(case, by, Event.CANCELLED, _("The visit of %(when)s is cancelled."), purpose, current.slot)
        _tell(current, "cancelled", purpose, case)
    return current


def may_record(user: Any, visit: Visit) -> bool:
    """Active staff whose scope covers the station, for a visit of a service their agency handles."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and may_see_office(user, visit.slot.station.office_id, service=visit.content_type.app_label)
    )


def record_outcome(visit: Visit, *, outcome: str, by: User, note: str = "") -> Visit:
    """The officer records that the citizen came (originals seen, paper copy collected) or did not come."""
    if outcome not in OUTCOMES:
        raise VisitError(_("Choose whether the applicant came."))
    if not may_record(by, visit):
        raise VisitError(_("Only the staff of the office receiving the visit can record it."))
    own = idnumber.normalize(getattr(by, "id_number", "") or "")
    if by.pk == visit.applicant_id or (own and own == idnumber.normalize(visit.applicant.id_number or "")):
        raise VisitError(_("You cannot record a visit for your own case. Another officer must do it."))
    if visit.slot.day > timezone.localdate():
        raise VisitError(_("A visit can be recorded from its day on."))
    purpose = purposes.get(visit.purpose)
    with transaction.atomic():
        current = _locked_live(visit)
        case = current.case
        if case is None:
            raise VisitError(_("This visit was changed a moment ago. Reload the page."))
        Visit.objects.filter(pk=current.pk).update(
            status=outcome, closed_at=timezone.now(), outcome_by=by, outcome_note=(note or "").strip()
        )
        came = purpose.attended_label if purpose else EVENT_LABELS[Event.ATTENDED]
        text = came if outcome == VisitStatus.ATTENDED else EVENT_LABELS[Event.NO_SHOW]
        _record(
            case,
            by,
            OUTCOMES[outcome],
            _("%(outcome)s (visit of %(when)s)."),
            purpose,
            current.slot,
            internal_note=note,
            outcome=text,
        )
        current.status = outcome
    logger.info("visit %s of %s recorded %s by user %s", visit.pk, visit.case_number, outcome, by.pk)
    return current


def send_reminders(today: datetime.date | None = None) -> int:
    """On a working day, an SMS to everyone booked for the next working day, once each (a visit booked today was
    just confirmed and is not reminded). Runs from beat several times a day; the conditional UPDATE of
    `reminder_sent_at` keeps it to one message however often it runs, in however many processes."""
    today = today or timezone.localdate()
    if not is_workday(today):
        return 0
    next_day = add_workdays(today, 1).date
    start_of_today = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    due = (
        Visit.objects.filter(
            status=VisitStatus.BOOKED,
            reminder_sent_at__isnull=True,
            slot__day__gt=today,
            slot__day__lte=next_day,
            booked_at__lt=start_of_today,
        )
        .select_related("slot__station__office", "applicant")
        .order_by("pk")
    )
    sent = 0
    for visit in due.iterator(chunk_size=500):
        with transaction.atomic():
            if not Visit.objects.filter(pk=visit.pk, status=VisitStatus.BOOKED, reminder_sent_at__isnull=True).update(
                reminder_sent_at=timezone.now()
            ):
                continue
            _tell(visit, "reminder", purposes.get(visit.purpose), None)
            sent += 1
    if sent:
        logger.info("visit reminders sent: %d for %s", sent, next_day)
    return sent


def masked_applicant(user: Any) -> str:
    """The applicant as staff lists show them: the name and the masked ID number."""
    return f"{user.real_name} · {idnumber.mask(user.id_number or '')}"
