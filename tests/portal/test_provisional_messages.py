"""A provisional due date is called provisional in the messages that carry it, and a recomputed one is told once.

docs/architecture.md#the-working-day-clock: a deadline in a year without the official calendar is an estimate.
"""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from certificates import services as ncr_services
from portal.cases import tasks as case_tasks
from portal.notify.models import Channel, OutboxMessage
from portal.workdays import calendar
from portal.workdays.models import DayKind
from tests.factories import ApplicationFactory, StaffFactory

pytestmark = pytest.mark.django_db
LATE_DECEMBER = datetime.datetime(2026, 12, 29, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def fresh_calendar():
    calendar.clear_caches()
    yield
    calendar.clear_caches()


@pytest.fixture
def recompute_in_process(monkeypatch):
    monkeypatch.setattr(
        case_tasks.recompute_provisional_deadlines, "delay", lambda: case_tasks.recompute_provisional_deadlines()
    )


def accepted(station_a, officer_a):
    application = ApplicationFactory(office=station_a, submitted=True)
    ncr_services.application_accept(application=application, by=officer_a)
    application.refresh_from_db()
    return application


def messages(application, template):
    return OutboxMessage.objects.filter(user=application.applicant, template=template).order_by("channel")


def test_the_accepted_messages_call_a_2027_due_date_provisional(station_a, officer_a):
    with time_machine.travel(LATE_DECEMBER, tick=False):
        application = accepted(station_a, officer_a)
    assert application.deadline_provisional and application.due_date.year == 2027
    sent = messages(application, "certificates/accepted")
    assert {m.channel for m in sent} == {Channel.EMAIL, Channel.SMS}
    for message in sent:
        assert application.due_date.isoformat() in message.body
        assert "provisional: the 2027 holiday calendar is not yet published" in message.body, message.body
    assert "provisional" in sent.get(channel=Channel.EMAIL).html_body


def test_a_firm_due_date_is_not_called_provisional(station_a, officer_a):
    with time_machine.travel(datetime.datetime(2026, 6, 2, 10, 0, tzinfo=LATE_DECEMBER.tzinfo), tick=False):
        application = accepted(station_a, officer_a)
    assert not application.deadline_provisional
    for message in messages(application, "certificates/accepted"):
        assert "provisional" not in message.body


def test_chinese_messages_say_it_too(station_a, officer_a):
    with time_machine.travel(LATE_DECEMBER, tick=False):
        application = ApplicationFactory(office=station_a, submitted=True)
        application.applicant.language = "zh-hans"
        application.applicant.save()
        ncr_services.application_accept(application=application, by=officer_a)
    sms = messages(application, "certificates/accepted").get(channel=Channel.SMS)
    with translation.override("zh-hans"):
        expected = translation.gettext("(provisional: the %(year)s holiday calendar is not yet published)") % {
            "year": 2027
        }
    assert expected in sms.body and "暂定" in sms.body


def test_a_calendar_entry_that_moves_the_date_tells_the_applicant_once(
    station_a, officer_a, staff_client, recompute_in_process, django_capture_on_commit_callbacks
):
    with time_machine.travel(LATE_DECEMBER, tick=False):
        application = accepted(station_a, officer_a)
        other = accepted(station_a, officer_a)
        before = application.due_date
        administrator = StaffFactory(role="administrator", office=None)
        client = staff_client(administrator)
        # The State Council's 2027 New Year holiday, entered by hand before the year is complete.
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("admin:workdays_calendarday_add"),
                {"date": before.isoformat(), "kind": DayKind.HOLIDAY, "name": "元旦", "note": "国办发明电"},
            )
        assert response.status_code == 302
    application.refresh_from_db()
    assert application.due_date > before and application.deadline_provisional  # moved, still an estimate
    told = messages(application, "cases/deadline_changed")
    assert {m.channel for m in told} == {Channel.EMAIL, Channel.SMS} and told.count() == 2  # one message, each way
    for message in told:
        assert application.due_date.isoformat() in message.body and before.isoformat() in message.body
        assert "provisional: the 2027 holiday calendar is not yet published" in message.body
    assert messages(other, "cases/deadline_changed").count() == 2  # every changed case, each once

    # Recomputing again with nothing new tells nobody again.
    with time_machine.travel(LATE_DECEMBER, tick=False), django_capture_on_commit_callbacks(execute=True):
        case_tasks.recompute_provisional_deadlines()
    assert messages(application, "cases/deadline_changed").count() == 2


def test_a_calendar_edit_that_leaves_the_date_tells_nobody(
    station_a, officer_a, staff_client, recompute_in_process, django_capture_on_commit_callbacks
):
    with time_machine.travel(LATE_DECEMBER, tick=False):
        application = accepted(station_a, officer_a)
        client = staff_client(StaffFactory(role="administrator", office=None))
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                reverse("admin:workdays_calendarday_add"),
                {"date": "2027-10-01", "kind": DayKind.HOLIDAY, "name": "国庆节"},
            )
    application.refresh_from_db()
    assert not messages(application, "cases/deadline_changed").exists()
