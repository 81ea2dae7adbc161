"""Two parties acting on the same hukou case at the same moment on PostgreSQL: exactly one wins, once.

Each party opened the case (read it) before either acts, as two officers with the same review page open would; a
barrier then lets them act together, each in its own thread and database connection. Every check before the write
passes for both (they read the same state); the conditional UPDATE decides: the winner's step leaves one timeline row
and one set of notifications, the loser gets TransitionConflict and its transaction leaves nothing behind.
"""

import datetime

import pytest
from django.db import connection

from accounts.models import Role
from hukou import services
from hukou.constants import Status
from hukou.models import MigrationApplication
from portal.notify.models import Channel, OutboxMessage
from tests.factories import MigrationApplicationFactory, StaffFactory, UserFactory, hukou_offices, make_id_number
from tests.services.races import race

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
ROUNDS = 3  # a race is a matter of timing: each test runs it on several fresh cases


@pytest.fixture
def offices(db):
    """A move-in station and a municipal office in Zhengzhou, a station in Luoyang."""
    return hukou_offices()


def adult_applicant():
    return UserFactory(id_number=make_id_number(birth=datetime.date(1985, 3, 3)))


def test_two_municipal_officers_approving_at_once_issue_one_permit(offices):
    assert connection.vendor == "postgresql"
    first = StaffFactory(office=offices["municipal"], role=Role.HOUSEHOLD_ADMIN)
    second = StaffFactory(office=offices["municipal"], role=Role.HOUSEHOLD_ADMIN)
    move_out_officer = StaffFactory(office=offices["move_out"])
    for _ in range(ROUNDS):
        application = MigrationApplicationFactory(
            offices=offices, status=Status.FORWARDED, applicant=adult_applicant(), complete=True
        )

        def approve(officer, pk=application.pk):
            mine = MigrationApplication.objects.get(pk=pk)
            return lambda: services.hukou_approve(application=mine, by=officer, note=f"by {officer.username}")

        outcomes = race(lambda: approve(first), lambda: approve(second))

        assert sorted(o for _, o in outcomes) == ["TransitionConflict", "won"], outcomes
        application.refresh_from_db()
        assert application.status == Status.APPROVED
        (entry,) = application.timeline()
        assert (entry.from_status, entry.to_status) == (Status.FORWARDED, Status.APPROVED)
        winner = first if outcomes[0][1] == "won" else second
        assert entry.actor == winner and f"by {winner.username}" in entry.note
        assert application.decided_by == winner
        # One permit: the winner's number is on the case and on its timeline row.
        assert application.permit_number and application.permit_number in entry.note
        # One set of notifications: the applicant once by e-mail and once by SMS, the move-out station once.
        applicant = application.applicant
        approved = OutboxMessage.objects.filter(user=applicant, template="hukou/approved")
        assert sorted(approved.values_list("channel", flat=True)) == sorted([Channel.EMAIL, Channel.SMS])
        assert all(application.permit_number in m.body for m in approved)
        inbox = OutboxMessage.objects.filter(template="hukou/inbox", to=move_out_officer.email)
        assert inbox.filter(body__contains=application.case_number).count() == 1


def test_accept_and_withdraw_at_once_one_wins(offices):
    assert connection.vendor == "postgresql"
    officer = StaffFactory(office=offices["move_in"])
    for _ in range(ROUNDS):
        application = MigrationApplicationFactory(
            offices=offices, status=Status.SUBMITTED, applicant=adult_applicant(), complete=True
        )

        def accept(pk=application.pk):
            mine = MigrationApplication.objects.get(pk=pk)
            return lambda: services.hukou_accept(application=mine, by=officer)

        def withdraw(pk=application.pk):
            mine = MigrationApplication.objects.get(pk=pk)
            return lambda: services.hukou_withdraw(application=mine, by=mine.applicant)

        outcomes = race(accept, withdraw)

        assert sorted(o for _, o in outcomes) == ["TransitionConflict", "won"], outcomes
        accepted = outcomes[0][1] == "won"
        application.refresh_from_db()
        (entry,) = application.timeline()
        applicant = application.applicant
        if accepted:
            assert application.status == Status.ACCEPTED and entry.actor == officer
            assert application.due_date is not None  # the winner's clock, and only the winner's
            templates = ["hukou/accepted"]
        else:
            assert application.status == Status.WITHDRAWN and entry.actor == applicant
            assert application.due_date is None
            templates = ["hukou/withdrawn"]
        assert entry.from_status == Status.SUBMITTED and entry.to_status == application.status
        # The applicant hears about the winner's step once per channel, and nothing about the loser's.
        messages = OutboxMessage.objects.filter(user=applicant)
        assert sorted(set(messages.values_list("template", flat=True))) == templates
        assert sorted(messages.values_list("channel", flat=True)) == sorted([Channel.EMAIL, Channel.SMS])
