"""Helpers the booked-visit tests share (portal.visits): a station that takes bookings, an accepted move that may
book, and the clock at a given local time."""

import datetime

from django.utils import timezone

from portal.visits.models import VisitStation
from portal.visits.slots import open_slots
from tests.factories import MigrationApplicationFactory

TZ = timezone.get_default_timezone()


def at(day: str, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=TZ)


def visit_station(office, **settings) -> VisitStation:
    """Mornings 9:00–11:00 and afternoons 14:00–16:00 in 60-minute slots (four a day), 2 people each."""
    values = {
        "morning_opens": datetime.time(9),
        "morning_closes": datetime.time(11),
        "afternoon_opens": datetime.time(14),
        "afternoon_closes": datetime.time(16),
        "slot_minutes": 60,
        "capacity": 2,
        "days_ahead": 5,
        **settings,
    }
    return VisitStation.objects.create(office=office, **values)


def accepted_move(office, applicant=None, **fields):
    """A move accepted by `office` (the move-in station): its applicant may book the check of the originals."""
    extra = {"applicant": applicant} if applicant is not None else {}
    if "status" not in fields:
        fields = {"accepted": True, **fields}
    return MigrationApplicationFactory(office=office, **extra, **fields)


def first_slot(station, day=None):
    slots = open_slots(station)
    return (slots.filter(day=day) if day else slots).first()
