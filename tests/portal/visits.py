"""Helpers the booked-visit tests share (portal.visits): a station that takes bookings, an accepted move that may
book, and the clock at a given local time."""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from hukou.constants import Status as HukouStatus
from portal.visits.models import Visit, VisitSlot, VisitStation
from portal.visits.slots import open_slots
from tests.factories import MigrationApplicationFactory, OfficeFactory

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


def booked_visit(slot, move):
    """A visit of `move` in `slot`, written directly (the slot's count is the caller's business): for lists and
    counts, where the booking itself is not under test."""
    return Visit.objects.create(
        slot=slot,
        content_type=ContentType.objects.get_for_model(move),
        object_id=move.pk,
        case_number=move.case_number,
        purpose="hukou_originals",
        applicant=move.applicant,
        booked_at=timezone.now(),
    )


# Row makers of the query-budget test (tests/portal/test_query_budgets.py): n rows its staff member sees.


def make_visit_stations(world, n):
    """n stations at new offices under Zhengzhou (a supervisor's subtree)."""
    for _ in range(n):
        VisitStation.objects.create(office=OfficeFactory(parent=world["offices"]["zhengzhou"]))


def make_visits(world, n):
    """n visits tomorrow at the world's police station, one per slot."""
    station, _ = VisitStation.objects.get_or_create(office=world["offices"]["station"])
    day = timezone.localdate() + datetime.timedelta(days=1)
    for _ in range(n):
        minutes = VisitSlot.objects.filter(station=station).count()
        slot = VisitSlot.objects.create(
            station=station,
            day=day,
            starts_at=datetime.time(8 + minutes // 60, minutes % 60),
            ends_at=datetime.time(8 + (minutes + 1) // 60, (minutes + 1) % 60),
            capacity=1,
            booked=1,
        )
        booked_visit(slot, MigrationApplicationFactory(office=station.office, status=HukouStatus.ACCEPTED))
