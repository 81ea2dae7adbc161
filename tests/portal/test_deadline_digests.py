"""The deadline sweep's digests: flagged and written in one transaction, e-mailed by the notify task once, and
re-sent by the beat job when a run left them (portal/cases/deadlines.py)."""

import datetime

import pytest
from django.conf import settings

from portal.cases import deadlines, tasks
from portal.cases.models import DeadlineDigest, DueState
from portal.celery import app as celery_app
from portal.notify.models import OutboxMessage
from tests.factories import OfficeFactory, SampleCaseFactory, StaffFactory
from tests.testapp.models import SampleCase

TODAY = datetime.date(2026, 11, 24)
OVERDUE = datetime.date(2026, 11, 20)
TOMORROW = datetime.date(2026, 11, 25)


@pytest.fixture
def due_cases(station_a, officer_a):
    StaffFactory(office=station_a.parent, role="supervisor")
    return [
        SampleCaseFactory(office=station_a, due_date=OVERDUE),
        SampleCaseFactory(office=station_a, due_date=OVERDUE),
    ] + [SampleCaseFactory(office=station_a, due_date=TOMORROW)]


def test_the_sweep_writes_one_digest_per_office_and_state_and_no_message(due_cases, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as published:
        assert deadlines.sweep_deadlines([SampleCase], today=TODAY) == {"due_soon": 1, "overdue": 2}
    digests = {d.state: d for d in DeadlineDigest.objects.all()}
    assert set(digests) == {DueState.OVERDUE, DueState.DUE_SOON}
    assert digests[DueState.OVERDUE].count == 2 and digests[DueState.DUE_SOON].count == 1
    assert {c["case_number"] for c in digests[DueState.OVERDUE].cases} == {c.case_number for c in due_cases[:2]}
    assert all(d.sent_at is None for d in digests.values())
    assert not OutboxMessage.objects.exists()  # rendering and e-mailing are the notify task's
    assert len(published) == 1  # the task, once, when the flags commit


def test_the_notify_task_sends_each_digest_once(due_cases, officer_a):
    deadlines.sweep_deadlines([SampleCase], today=TODAY)
    assert tasks.send_deadline_digests.apply().get() == 2
    bodies = list(OutboxMessage.objects.filter(to=officer_a.email).values_list("body", flat=True))
    assert len(bodies) == 2 and any(due_cases[0].case_number in body for body in bodies)
    sent = OutboxMessage.objects.count()
    assert not DeadlineDigest.objects.filter(sent_at__isnull=True).exists()
    # Run again (the beat job, a redelivered task): nothing is sent twice.
    assert tasks.send_deadline_digests.apply().get() == 0
    assert OutboxMessage.objects.count() == sent


def test_a_digest_left_undone_is_sent_by_the_beat_job(due_cases, officer_a, caplog):
    deadlines.sweep_deadlines([SampleCase], today=TODAY)
    broken = DeadlineDigest.objects.get(state=DueState.OVERDUE)
    good_cases = broken.cases
    # A digest whose rendering fails is left, logged, while the others go out.
    DeadlineDigest.objects.filter(pk=broken.pk).update(cases=[{**good_cases[0], "model": "testapp.nosuchcase"}])
    assert deadlines.send_deadline_digests() == 1
    assert "not sent" in caplog.text
    assert DeadlineDigest.objects.get(pk=broken.pk).sent_at is None
    assert OutboxMessage.objects.filter(to=officer_a.email).count() == 1
    # Mended (or its worker came back): the beat job's run sends it, once.
    DeadlineDigest.objects.filter(pk=broken.pk).update(cases=good_cases)
    beat = settings.CELERY_BEAT_SCHEDULE["deadline-digests"]
    assert beat["task"] == tasks.send_deadline_digests.name
    assert celery_app.tasks[beat["task"]].apply().get() == 1
    assert OutboxMessage.objects.filter(to=officer_a.email).count() == 2
    assert deadlines.send_deadline_digests() == 0


def test_the_digests_go_out_on_the_notify_queue():
    assert celery_app.amqp.router.route({}, tasks.send_deadline_digests.name)["queue"].name == "notify"
    assert celery_app.amqp.router.route({}, tasks.sweep_deadlines.name)["queue"].name == "default"


def test_the_sweeps_queries_do_not_grow_with_the_due_cases_or_offices(station_a):
    def sweep_queries(offices, per_office):
        for office in offices:
            for _ in range(per_office):
                SampleCaseFactory(office=office, due_date=OVERDUE)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            counts = deadlines.sweep_deadlines([SampleCase], today=TODAY)
        assert counts["overdue"] == len(offices) * per_office
        return len(queries)

    few = sweep_queries([station_a], 2)
    SampleCase.objects.all().delete()
    many = sweep_queries([OfficeFactory(division_code=f"41030{i}") for i in range(1, 6)], 20)
    assert many == few  # one UPDATE (flag and return) per case model, one INSERT of every digest
