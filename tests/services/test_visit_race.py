"""Two citizens taking the last place of a slot at the same moment on PostgreSQL: exactly one gets it.

Each citizen opened the booking page (read the slot with one place left) before either books; a barrier then lets
them book together, each in its own thread and database connection. Both pass every check made before the write
(the slot is open and has a place); the conditional UPDATE decides, the check constraint backs it: the winner's
visit, timeline row and SMS exist, the loser is told the place has just gone and their transaction leaves nothing.
The same holds for two tabs of one citizen booking two places for one case (the partial unique index).
"""

import pytest
import time_machine
from django.db import connection

from portal.cases.models import Transition
from portal.notify.models import OutboxMessage
from portal.visits import services
from portal.visits.models import Visit, VisitSlot, VisitStatus
from tests.factories import OfficeFactory, UserFactory
from tests.portal.visits import accepted_move, at, first_slot, visit_station
from tests.services.races import race

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
ROUNDS = 3  # a race is a matter of timing: run it on several fresh slots


@pytest.fixture
def clock():
    with time_machine.travel(at("2026-09-22"), tick=True):
        yield


def last_place_round(station):
    """One citizen has booked a slot of two places; two more race for the last one."""
    slot = first_slot(station)
    early, first, second = UserFactory(), UserFactory(), UserFactory()
    services.book(accepted_move(station.office, early), slot_id=slot.pk, by=early)  # one place left
    moves = {first: accepted_move(station.office, first), second: accepted_move(station.office, second)}

    def book(person):
        return lambda: services.book(moves[person], slot_id=slot.pk, by=person)

    outcomes = race(lambda: book(first), lambda: book(second))

    assert sorted(outcome for _, outcome in outcomes) == ["VisitError", "won"], outcomes
    winner, loser = (first, second) if outcomes[0][1] == "won" else (second, first)
    slot.refresh_from_db()
    assert (slot.booked, slot.capacity) == (2, 2)
    assert Visit.objects.filter(slot=slot, status=VisitStatus.BOOKED).count() == 2
    assert Visit.objects.filter(applicant=winner).count() == 1
    assert not Visit.objects.filter(applicant=loser).exists()
    assert Transition.objects.filter(object_id=moves[winner].pk, event=services.Event.BOOKED).count() == 1
    assert not Transition.objects.filter(object_id=moves[loser].pk).exists()
    assert OutboxMessage.objects.filter(user=winner, template="visits/booked").count() == 1
    assert not OutboxMessage.objects.filter(user=loser).exists()


def test_two_citizens_booking_the_last_place_at_once_one_gets_it(clock):
    assert connection.vendor == "postgresql"
    station = visit_station(OfficeFactory(), capacity=2)
    for _ in range(ROUNDS):
        last_place_round(station)


def two_tabs_round(station):
    """One citizen's two tabs book two different slots for the same case at once."""
    citizen = UserFactory()
    move = accepted_move(station.office, citizen)
    slot = first_slot(station)
    other = VisitSlot.objects.filter(station=station, day=slot.day).exclude(pk=slot.pk).first()

    def book(slot_id):
        return lambda: services.book(move, slot_id=slot_id, by=citizen)

    outcomes = race(lambda: book(slot.pk), lambda: book(other.pk))

    assert sorted(outcome for _, outcome in outcomes) == ["VisitError", "won"], outcomes
    (visit,) = Visit.objects.filter(object_id=move.pk, status=VisitStatus.BOOKED)
    booked = dict(VisitSlot.objects.filter(pk__in=[slot.pk, other.pk]).values_list("pk", "booked"))
    # The losing tab's place was given back with its rolled-back transaction.
    assert booked[visit.slot_id] == 1 and sum(booked.values()) == 1
    Visit.objects.filter(pk=visit.pk).update(status=VisitStatus.CANCELLED)  # the next round starts from empty slots
    VisitSlot.objects.filter(pk=visit.slot_id).update(booked=0)


def test_two_tabs_booking_for_one_case_at_once_leave_one_visit(clock):
    station = visit_station(OfficeFactory(), capacity=5)
    for _ in range(ROUNDS):
        two_tabs_round(station)
