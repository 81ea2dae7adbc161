"""Two people verify the same ID number at the same moment on PostgreSQL: exactly one keeps it."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from accounts.identity import assurance_grant
from accounts.models import Assurance, IdentityCheck, IdentityMethod, User
from tests.factories import UserFactory, make_id_number

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_two_verifications_of_one_number_at_once_exactly_one_wins():
    assert connection.vendor == "postgresql"
    number = make_id_number()
    people = [UserFactory(declared=True, id_number=number) for _ in range(6)]
    checks = {
        p.pk: IdentityCheck.objects.create(user=p, method=IdentityMethod.CARRIER, outcome=IdentityCheck.Outcome.MATCH)
        for p in people
    }
    barrier = threading.Barrier(len(people))
    outcomes = {}

    def verify(person):
        try:
            me = User.objects.get(pk=person.pk)
            barrier.wait(timeout=10)
            assurance_grant(user=me, check=checks[person.pk], level=Assurance.VERIFIED)
            outcomes[person.pk] = "won"
        except ValidationError as exc:
            outcomes[person.pk] = exc.code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=verify, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    winners = [pk for pk, result in outcomes.items() if result == "won"]
    assert len(outcomes) == len(people) and len(winners) == 1, outcomes
    assert set(outcomes.values()) == {"won", "number_verified"}
    verified = User.objects.filter(id_number=number, assurance_level__in=[Assurance.VERIFIED, Assurance.IN_PERSON])
    assert list(verified.values_list("pk", flat=True)) == winners
    losers = User.objects.filter(id_number=number).exclude(pk=winners[0])
    assert all(u.is_suspended and not u.is_active for u in losers)
