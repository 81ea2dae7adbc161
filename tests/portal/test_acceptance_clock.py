"""The acceptance clock (issue 15, item 3): submission starts a per-service limit in working days, swept like every
deadline (due soon, overdue, escalation to the supervisor); NCR stations are told of a new case like the others."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from certificates import services
from certificates.models import Application, Status
from portal.cases.admin import countdown
from portal.cases.deadlines import send_deadline_digests, sweep_deadlines
from portal.cases.models import DueState
from portal.notify.models import OutboxMessage
from tests.factories import ApplicationFactory, StaffFactory

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()


def at(day):
    return datetime.datetime.fromisoformat(day).replace(hour=10, tzinfo=TZ)


def test_ncr_submission_starts_the_acceptance_clock_from_the_setting(citizen, station_a, settings):
    settings.ACCEPTANCE_WORKING_DAYS = {**settings.ACCEPTANCE_WORKING_DAYS, "certificates": 2}
    with time_machine.travel(at("2026-11-23"), tick=False):  # a Monday
        application = ApplicationFactory(office=station_a, applicant=citizen, draft=True, documents=True)
        services.application_submit(application=application, by=citizen)
        application.refresh_from_db()
        assert (application.clock_limit, application.due_date) == (2, datetime.date(2026, 11, 25))
        assert countdown(application) == "剩余 2 个工作日"
    with time_machine.travel(at("2026-11-24"), tick=False):
        services.application_accept(application=application, by=StaffFactory(office=station_a))
        application.refresh_from_db()
        # Acceptance starts the 3 working days of the decision.
        assert (application.status, application.clock_limit) == (Status.ACCEPTED, 3)
        assert application.due_date == datetime.date(2026, 11, 27)


def test_the_station_is_told_of_a_new_ncr_case(citizen, station_a):
    officer = StaffFactory(office=station_a, language="en")
    application = ApplicationFactory(office=station_a, applicant=citizen, draft=True, documents=True)
    services.application_submit(application=application, by=citizen)
    [message] = OutboxMessage.objects.filter(user=officer, template="certificates/inbox")
    assert application.case_number in message.subject
    assert "awaits acceptance" in message.body and "?inbox=acting" in message.body
    assert citizen.id_number not in message.body


def test_an_unaccepted_ncr_case_becomes_due_soon_then_overdue_and_reaches_the_supervisor(citizen, station_a):
    officer = StaffFactory(office=station_a)
    supervisor = StaffFactory(office=station_a.parent, role="supervisor")
    with time_machine.travel(at("2026-11-23"), tick=False):
        application = ApplicationFactory(office=station_a, applicant=citizen, draft=True, documents=True)
        services.application_submit(application=application, by=citizen)
        assert sweep_deadlines([Application]) == {"due_soon": 1, "overdue": 0}  # 1 working day: due tomorrow
        send_deadline_digests()  # the notify task the sweep publishes
    OutboxMessage.objects.all().delete()
    with time_machine.travel(at("2026-11-25"), tick=False):
        assert sweep_deadlines([Application]) == {"due_soon": 0, "overdue": 1}
        send_deadline_digests()
        application.refresh_from_db()
        assert application.due_state == DueState.OVERDUE
        told = set(OutboxMessage.objects.values_list("user_id", flat=True))
        assert {officer.pk, supervisor.pk} <= told
        assert countdown(application) == "已超期 1 个工作日"


def test_every_service_starts_an_acceptance_clock_on_submission():
    from certificates.workflow import WORKFLOW as NCR
    from familyplanning.workflow import WORKFLOW as FP
    from hukou.workflow import WORKFLOW as HUKOU
    from portal.cases.workflow import Clock

    for workflow in (NCR, FP, HUKOU):
        step = workflow["submit"]
        assert step.clock == Clock.START and callable(step.clock_limit), workflow.service
        assert step.notify_office == "inbox", workflow.service
