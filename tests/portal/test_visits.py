"""Booked visits (issue 15, item 7; portal.visits): a station's slots on the working-day calendar, booking up to
the capacity, rebooking and cancelling with their timeline rows and SMS, the reminder the working day before (once),
and the officer's record of the visit, scoped to the station's staff."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from hukou.constants import Status
from portal.cases.models import Transition
from portal.notify.models import Channel, OutboxMessage
from portal.visits import services
from portal.visits.models import Visit, VisitSlot, VisitStation, VisitStatus
from portal.visits.services import VisitError
from portal.visits.slots import bookable_days, open_slots, station_changed
from tests.factories import StaffFactory, UserFactory
from tests.portal.visits import accepted_move, at, first_slot, visit_station

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):  # the messages below are matched in English; the portal's default is Chinese
        yield


@pytest.fixture
def station(station_a):
    return visit_station(station_a)


def sms_to(user, template):
    return list(OutboxMessage.objects.filter(user=user, channel=Channel.SMS, template=f"visits/{template}"))


def test_a_day_is_cut_into_slots_and_impossible_hours_are_refused(station_a):
    station = VisitStation(office=station_a, slot_minutes=45)
    # 9:00–12:00 gives four 45-minute slots; 14:00–17:00 four more.
    assert [f"{start:%H:%M}" for start, _end in station.slot_times()] == [
        "09:00", "09:45", "10:30", "11:15", "14:00", "14:45", "15:30", "16:15",
    ]  # fmt: skip
    station.afternoon_opens = datetime.time(11)
    with pytest.raises(ValidationError) as error:
        station.full_clean()
    assert "afternoon_opens" in error.value.message_dict
    station.afternoon_opens, station.afternoon_closes = None, datetime.time(17)
    with pytest.raises(ValidationError) as error:
        station.full_clean()
    assert "afternoon_closes" in error.value.message_dict


def test_bookable_days_follow_the_working_day_calendar(station):
    """From the Wednesday before National Day 2026: 1–7 October are off, Saturday 10 October is a make-up working
    day, so the next three working days are 8, 9 and 10 October."""
    station.days_ahead = 3
    assert bookable_days(station, today=D(2026, 9, 30)) == [D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10)]
    # From the Mid-Autumn holiday (Friday 25 September) the weekend is skipped too.
    station.days_ahead = 2
    assert bookable_days(station, today=D(2026, 9, 25)) == [D(2026, 9, 28), D(2026, 9, 29)]


def test_slots_are_made_once_and_offered_only_with_a_place_left(station):
    with time_machine.travel(at("2026-09-25"), tick=False):
        first = list(open_slots(station))
        again = list(open_slots(station))
    # Five working days (28, 29, 30 September, 8 and 9 October) of four slots; no row made twice.
    assert len(first) == len(again) == VisitSlot.objects.count() == 20
    assert {slot.day for slot in first} == {
        D(2026, 9, 28),
        D(2026, 9, 29),
        D(2026, 9, 30),
        D(2026, 10, 8),
        D(2026, 10, 9),
    }
    full = first[0]
    VisitSlot.objects.filter(pk=full.pk).update(booked=2)
    with time_machine.travel(at("2026-09-25"), tick=False):
        assert full.pk not in {slot.pk for slot in open_slots(station)}


def test_a_slot_takes_as_many_people_as_its_capacity_and_no_more(station):
    people = [UserFactory() for _ in range(3)]
    moves = [accepted_move(station.office, person) for person in people]
    with time_machine.travel(at("2026-09-25"), tick=False):
        slot = first_slot(station)
        services.book(moves[0], slot_id=slot.pk, by=people[0])
        services.book(moves[1], slot_id=slot.pk, by=people[1])
        with pytest.raises(VisitError, match="cannot be booked any more"):
            services.book(moves[2], slot_id=slot.pk, by=people[2])
    slot.refresh_from_db()
    assert slot.booked == 2 and Visit.objects.filter(slot=slot, status=VisitStatus.BOOKED).count() == 2
    assert not Visit.objects.filter(object_id=moves[2].pk).exists()
    # The database itself refuses a slot booked beyond its capacity.
    with pytest.raises(IntegrityError), transaction.atomic():
        VisitSlot.objects.filter(pk=slot.pk).update(booked=3)


def test_booking_writes_the_timeline_and_sends_the_sms_and_a_case_books_once(station, citizen):
    move = accepted_move(station.office, citizen)
    with time_machine.travel(at("2026-09-25"), tick=False):
        slot = first_slot(station)
        visit = services.book(move, slot_id=slot.pk, by=citizen)
        with pytest.raises(VisitError, match="already has a booked visit"):
            services.book(move, slot_id=first_slot(station, D(2026, 9, 29)).pk, by=citizen)
    assert visit.case_number == move.case_number and visit.slot == slot and visit.purpose == "hukou_originals"
    row = Transition.objects.get(object_id=move.pk, event=services.Event.BOOKED)
    assert row.actor == citizen and row.office == station.office and not row.staff_only
    (sms,) = sms_to(citizen, "booked")
    assert move.case_number in sms.body and "2026-09-28" in sms.body and "09:00" in sms.body
    slot.refresh_from_db()
    assert slot.booked == 1


def test_only_the_applicant_books_and_only_while_the_case_needs_the_visit(station, citizen, other_citizen):
    move = accepted_move(station.office, citizen)
    with time_machine.travel(at("2026-09-25"), tick=False):
        slot = first_slot(station)
        with pytest.raises(VisitError, match="Only the applicant"):
            services.book(move, slot_id=slot.pk, by=other_citizen)
        submitted = accepted_move(station.office, citizen, status=Status.SUBMITTED)
        with pytest.raises(VisitError, match="no booking at this stage"):
            services.book(submitted, slot_id=slot.pk, by=citizen)
        # A station that publishes no slots: the citizen is told the office will get in touch.
        elsewhere = accepted_move(StaffFactory().office, citizen)
        with pytest.raises(VisitError, match="no bookings online"):
            services.book(elsewhere, slot_id=slot.pk, by=citizen)
        # A slot of another day than the bookable ones (today) is refused.
        today = VisitSlot.objects.create(
            station=station, day=D(2026, 9, 25), starts_at=datetime.time(9), ends_at=datetime.time(10), capacity=2
        )
        with pytest.raises(VisitError, match="cannot be booked any more"):
            services.book(move, slot_id=today.pk, by=citizen)
    assert not Visit.objects.exists()


def test_rebooking_moves_the_place_and_cancelling_frees_it(station, citizen):
    move = accepted_move(station.office, citizen)
    with time_machine.travel(at("2026-09-25"), tick=False):
        old = first_slot(station)
        visit = services.book(move, slot_id=old.pk, by=citizen)
        Visit.objects.filter(pk=visit.pk).update(reminder_sent_at=at("2026-09-25"))
        new = first_slot(station, D(2026, 9, 29))
        moved = services.rebook(move, visit, slot_id=new.pk, by=citizen)
        assert moved.slot == new and moved.reminder_sent_at is None  # the new day gets its own reminder
        old.refresh_from_db()
        new.refresh_from_db()
        assert (old.booked, new.booked) == (0, 1)
        assert len(sms_to(citizen, "rebooked")) == 1

        services.cancel(move, Visit.objects.get(pk=visit.pk), by=citizen)
    new.refresh_from_db()
    assert new.booked == 0 and Visit.objects.get(pk=visit.pk).status == VisitStatus.CANCELLED
    assert len(sms_to(citizen, "cancelled")) == 1
    events = list(Transition.objects.filter(object_id=move.pk).exclude(event="").values_list("event", flat=True))
    assert events == [services.Event.BOOKED, services.Event.REBOOKED, services.Event.CANCELLED]
    # Cancelled: the case may book again.
    with time_machine.travel(at("2026-09-25"), tick=False):
        again = services.book(move, slot_id=old.pk, by=citizen)
    assert again.status == VisitStatus.BOOKED


def test_a_visit_cannot_be_cancelled_on_its_day(station, citizen):
    move = accepted_move(station.office, citizen)
    with time_machine.travel(at("2026-09-25"), tick=False):
        visit = services.book(move, slot_id=first_slot(station).pk, by=citizen)
    with time_machine.travel(at("2026-09-28", 8), tick=False), pytest.raises(VisitError, match="until the day before"):
        services.cancel(move, visit, by=citizen)
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.BOOKED


def test_the_reminder_goes_once_on_the_working_day_before(station, citizen, other_citizen):
    """Booked on Tuesday 22 September for Monday 28 and Tuesday 29. Friday 25 is the Mid-Autumn holiday, so Monday's
    visit is reminded on Thursday 24 (once, however often beat runs), nothing goes out on the holiday or the weekend,
    and Tuesday's visit is reminded on Monday."""
    monday_move = accepted_move(station.office, citizen)
    tuesday_move = accepted_move(station.office, other_citizen)
    with time_machine.travel(at("2026-09-22"), tick=False):
        monday = services.book(monday_move, slot_id=first_slot(station, D(2026, 9, 28)).pk, by=citizen)
        tuesday = services.book(tuesday_move, slot_id=first_slot(station, D(2026, 9, 29)).pk, by=other_citizen)
    with time_machine.travel(at("2026-09-23"), tick=False):
        assert services.send_reminders() == 0
    with time_machine.travel(at("2026-09-24"), tick=False):
        assert services.send_reminders() == 1
        assert services.send_reminders() == 0
    (reminder,) = sms_to(citizen, "reminder")
    assert monday_move.case_number in reminder.body and "2026-09-28" in reminder.body
    assert station.office.name in reminder.body
    for day in ("2026-09-25", "2026-09-26", "2026-09-27"):  # the holiday and the weekend
        with time_machine.travel(at(day), tick=False):
            assert services.send_reminders() == 0
    assert not sms_to(other_citizen, "reminder")
    with time_machine.travel(at("2026-09-28"), tick=False):
        assert services.send_reminders() == 1
    assert len(sms_to(other_citizen, "reminder")) == 1 and len(sms_to(citizen, "reminder")) == 1
    assert Visit.objects.get(pk=monday.pk).reminder_sent_at and Visit.objects.get(pk=tuesday.pk).reminder_sent_at


def test_the_reminder_crosses_a_holiday_and_skips_a_visit_booked_that_day(station, citizen, other_citizen):
    early = accepted_move(station.office, citizen)
    late = accepted_move(station.office, other_citizen)
    with time_machine.travel(at("2026-09-28"), tick=False):
        services.book(early, slot_id=first_slot(station, D(2026, 10, 8)).pk, by=citizen)
    with time_machine.travel(at("2026-09-30", 9), tick=False):
        services.book(late, slot_id=first_slot(station, D(2026, 10, 8)).pk, by=other_citizen)
    # Wednesday 30 September is the working day before Thursday 8 October; the late booking was just confirmed.
    with time_machine.travel(at("2026-09-30", 11), tick=False):
        assert services.send_reminders() == 1
    assert len(sms_to(citizen, "reminder")) == 1 and not sms_to(other_citizen, "reminder")


def test_changing_the_station_keeps_bookings_and_remakes_free_slots(station, citizen):
    move = accepted_move(station.office, citizen)
    with time_machine.travel(at("2026-09-25"), tick=False):
        booked = first_slot(station)
        services.book(move, slot_id=booked.pk, by=citizen)
        station.capacity, station.slot_minutes = 1, 30
        station.save()
        station_changed(station)
        slots = list(open_slots(station))
    booked.refresh_from_db()
    assert booked.capacity == 1 and booked.booked == 1  # honoured, now full
    assert booked.pk not in {slot.pk for slot in slots}
    assert {slot.capacity for slot in slots} == {1}
    assert len([slot for slot in slots if slot.day == D(2026, 9, 29)]) == 8  # 30-minute slots now
