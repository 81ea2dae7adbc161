"""A station's slots: made on demand for the days citizens may book, kept in step with the station's settings.

Bookable days are the station's next `days_ahead` working days after today, on the working-day calendar
(portal.workdays): weekends, public holidays and any day the holiday table marks off are closed, make-up working days
open. Slot rows are created the first time someone looks at a day (bulk, ignoring rows another request made first).
"""

from __future__ import annotations

import datetime

from django.db.models import Exists, F, OuterRef, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone

from portal.workdays.calendar import add_workdays, is_workday

from .models import Visit, VisitSlot, VisitStation


def bookable_days(station: VisitStation, today: datetime.date | None = None) -> list[datetime.date]:
    """The working days after today on which the station receives bookings."""
    today = today or timezone.localdate()
    last = add_workdays(today, station.days_ahead).date
    days, day = [], today + datetime.timedelta(days=1)
    while day <= last:
        if is_workday(day):
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def ensure_slots(station: VisitStation, days: list[datetime.date]) -> None:
    """Create the station's slots of `days` that do not exist yet (two requests at once make each row once)."""
    times = station.slot_times()
    if not days or not times:
        return
    existing = set(VisitSlot.objects.filter(station=station, day__in=days).values_list("day", "starts_at").order_by())
    missing = [
        VisitSlot(station=station, day=day, starts_at=start, ends_at=end, capacity=station.capacity)
        for day in days
        for start, end in times
        if (day, start) not in existing
    ]
    if missing:
        VisitSlot.objects.bulk_create(missing, ignore_conflicts=True)


def open_slots(station: VisitStation, today: datetime.date | None = None) -> QuerySet[VisitSlot]:
    """The station's slots on its bookable days at its current times, with a place left, in order."""
    days = bookable_days(station, today)
    ensure_slots(station, days)
    starts = [start for start, _end in station.slot_times()]
    return VisitSlot.objects.filter(
        station=station, day__in=days, starts_at__in=starts, booked__lt=F("capacity")
    ).order_by("day", "starts_at")


def station_changed(station: VisitStation, today: datetime.date | None = None) -> None:
    """After the station's hours or capacity changed: future slots never booked are dropped (they are made again
    from the new settings); the others keep their bookings with the new capacity, never below what they hold."""
    today = today or timezone.localdate()
    future = VisitSlot.objects.filter(station=station, day__gt=today)
    future.filter(booked=0).exclude(Exists(Visit.objects.filter(slot=OuterRef("pk")))).delete()
    future.update(capacity=Greatest(F("booked"), station.capacity))
