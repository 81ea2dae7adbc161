"""Two officers acting on the same case at the same moment on PostgreSQL: exactly one wins."""

import threading

import pytest
from django.db import connection, connections

from portal.cases import services
from portal.cases.models import Transition
from tests.factories import OfficeFactory, SampleCaseFactory, StaffFactory
from tests.testapp.models import SampleCase

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_concurrent_transitions_exactly_one_wins():
    assert connection.vendor == "postgresql"
    office = OfficeFactory()
    officers = [StaffFactory(office=office) for _ in range(8)]
    case = SampleCaseFactory(office=office)
    barrier = threading.Barrier(len(officers))
    outcomes = []

    def act(officer, target):
        try:
            mine = SampleCase.objects.get(pk=case.pk)  # each officer opened the case page
            barrier.wait(timeout=10)
            services.transition(mine, to=target, by=officer, allowed_from=("submitted",))
            outcomes.append(("won", target))
        except services.TransitionError:
            outcomes.append(("lost", target))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=act, args=(officer, "approved" if i % 2 else "refused"))
        for i, officer in enumerate(officers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    winners = [target for result, target in outcomes if result == "won"]
    assert len(outcomes) == len(officers)
    assert len(winners) == 1
    case.refresh_from_db()
    assert case.status == winners[0]
    assert Transition.objects.filter(object_id=case.pk).count() == 1


def test_concurrent_case_numbers_are_unique():
    numbers, errors = [], []
    barrier = threading.Barrier(6)

    def take():
        try:
            barrier.wait(timeout=10)
            numbers.extend(services.next_case_number("RACE") for _ in range(10))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(numbers) == 60 and len(set(numbers)) == 60
