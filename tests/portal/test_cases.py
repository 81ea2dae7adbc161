"""The shared case machinery: case numbers, guarded transitions, the clock and the deadline sweep."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from portal.cases import deadlines, services
from portal.cases.models import DueState, Transition
from portal.notify.models import OutboxMessage
from tests.factories import SampleCaseFactory, StaffFactory
from tests.testapp.models import SampleCase

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()


def test_serial_numbers_are_readable_sequential_and_per_prefix_and_day():
    # For document serials such as the Permit to Move In; case numbers are random (tests/portal/test_track.py).
    day = datetime.date(2026, 11, 24)
    assert services.next_serial_number("ZQ", day) == "ZQ-20261124-00001"
    assert services.next_serial_number("ZQ", day) == "ZQ-20261124-00002"
    assert services.next_serial_number("QY", day) == "QY-20261124-00001"
    assert services.next_serial_number("ZQ", day + datetime.timedelta(days=1)) == "ZQ-20261125-00001"


def test_transition_records_who_when_from_to_and_why(station_a, officer_a):
    case = SampleCaseFactory(office=station_a)
    services.transition(case, to="approved", by=officer_a, note="all checked", allowed_from=("submitted",))
    case.refresh_from_db()
    assert case.status == "approved"
    [row] = Transition.objects.filter(object_id=case.pk)
    assert (row.from_status, row.to_status, row.actor, row.note) == ("submitted", "approved", officer_a, "all checked")
    assert list(case.timeline()) == [row]


def test_transition_refused_from_a_state_where_it_is_not_allowed(station_a, officer_a):
    case = SampleCaseFactory(office=station_a, status="draft")
    with pytest.raises(services.TransitionNotAllowed):
        services.transition(case, to="approved", by=officer_a, allowed_from=("submitted",))
    case.refresh_from_db()
    assert case.status == "draft"
    assert not Transition.objects.filter(object_id=case.pk).exists()


def test_second_of_two_officers_acting_on_a_stale_copy_loses(station_a, officer_a):
    first = SampleCaseFactory(office=station_a)
    second = SampleCase.objects.get(pk=first.pk)  # both officers opened the case
    services.transition(first, to="approved", by=officer_a)
    with pytest.raises(services.TransitionConflict):
        services.transition(second, to="refused", by=StaffFactory(office=station_a), note="late")
    second.refresh_from_db()
    assert second.status == "approved"
    assert Transition.objects.filter(object_id=first.pk).count() == 1


def test_clock_counts_working_days_and_pauses_with_the_days_left(station_a):
    case = SampleCaseFactory(office=station_a)
    case = services.transition(case, to="submitted", **deadlines.clock_start(20, datetime.date(2026, 9, 25)))
    case.refresh_from_db()
    assert case.due_date == datetime.date(2026, 10, 29)
    assert not case.deadline_provisional
    # Paused on Monday 2026-10-12 (a request for more information): working days after it up to the 29th.
    with time_machine.travel(datetime.datetime(2026, 10, 12, 10, tzinfo=TZ), tick=False):
        case = services.transition(case, to="info_requested", **deadlines.clock_pause(case))
    case.refresh_from_db()
    assert case.workdays_left == 13  # 13th..16th, 19th..23rd, 26th..29th
    # Resumed a week later with the same 13 days left.
    case = services.transition(case, to="submitted", **deadlines.clock_resume(case, datetime.date(2026, 10, 19)))
    case.refresh_from_db()
    assert case.due_date == datetime.date(2026, 11, 5)
    assert case.paused_at is None


def test_a_clock_reaching_into_2027_is_provisional_and_recomputed(station_a):
    case = SampleCaseFactory(office=station_a)
    services.transition(case, to="submitted", **deadlines.clock_start(20, datetime.date(2026, 12, 21)))
    case.refresh_from_db()
    assert case.deadline_provisional
    assert case.due_date.year == 2027
    # Nothing official appeared yet: recomputation leaves it alone.
    assert deadlines.recompute_provisional_deadlines([SampleCase]) == 0


def test_sweep_flags_due_soon_and_overdue_once_and_escalates_overdue_to_the_supervisor(station_a, officer_a):
    supervisor = StaffFactory(office=station_a.parent, role="supervisor")
    due_tomorrow = SampleCaseFactory(office=station_a, due_date=datetime.date(2026, 11, 25))
    overdue = SampleCaseFactory(office=station_a, due_date=datetime.date(2026, 11, 20))
    far = SampleCaseFactory(office=station_a, due_date=datetime.date(2026, 12, 20))
    paused = SampleCaseFactory(office=station_a, due_date=datetime.date(2026, 11, 20), paused_at=timezone.now())
    frozen = SampleCaseFactory(
        office=station_a, due_date=datetime.date(2026, 11, 20), frozen_at=timezone.now(), frozen_reason="x"
    )
    closed = SampleCaseFactory(office=station_a, status="approved", due_date=datetime.date(2026, 11, 20))
    today = datetime.date(2026, 11, 24)

    counts = deadlines.sweep_deadlines([SampleCase], today=today)
    assert counts == {"due_soon": 1, "overdue": 1}
    assert deadlines.send_deadline_digests() == 2  # the notify task: one digest per state
    states = dict(SampleCase.objects.values_list("pk", "due_state"))
    assert states[due_tomorrow.pk] == DueState.DUE_SOON
    assert states[overdue.pk] == DueState.OVERDUE
    assert states[far.pk] == states[paused.pk] == states[frozen.pk] == states[closed.pk] == DueState.NONE
    to = list(OutboxMessage.objects.values_list("to", "body"))
    assert sum(1 for addr, _ in to if addr == officer_a.email) == 2
    assert [body for addr, body in to if addr == supervisor.email] and all(
        overdue.case_number in body for addr, body in to if addr == supervisor.email
    )

    # Once per case and state: a second sweep sends nothing new.
    sent = OutboxMessage.objects.count()
    assert deadlines.sweep_deadlines([SampleCase], today=today) == {"due_soon": 0, "overdue": 0}
    assert deadlines.send_deadline_digests() == 0
    assert OutboxMessage.objects.count() == sent
    # The next day the due-soon case becomes overdue: one more round for it.
    assert deadlines.sweep_deadlines([SampleCase], today=datetime.date(2026, 11, 26)) == {"due_soon": 0, "overdue": 1}


def test_sweep_reads_only_cases_within_the_horizon(station_a, django_assert_max_num_queries):
    for day in range(1, 28):
        SampleCaseFactory(office=station_a, due_date=datetime.date(2026, 12, day))
    with django_assert_max_num_queries(4):
        assert deadlines.sweep_deadlines([SampleCase], today=datetime.date(2026, 11, 24)) == {
            "due_soon": 0,
            "overdue": 0,
        }
