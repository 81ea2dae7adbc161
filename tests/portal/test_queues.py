"""The queues (issue 15, item 2): by default the cases needing the office's action, the most urgent first; finished
cases behind a filter; search by case number, name, full ID number or its last four characters, mobile number;
"needs my action", "assigned to me" and "unassigned" in every service."""

import datetime

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from certificates.models import Application, Status
from familyplanning.models import FamilyPlanningApplication
from hukou.models import MigrationApplication
from portal.cases.deadlines import clock_start
from portal.cases.queues import AssignmentFilter, InboxFilter
from tests.factories import ApplicationFactory, StaffFactory, UserFactory, make_id_number

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def listed(client, **params):
    response = client.get(reverse("admin:certificates_application_changelist"), params)
    assert response.status_code == 200
    return [row.case_number for row in response.context["cl"].result_list]


def due(days):
    return {**clock_start(3), "due_date": timezone.localdate() + datetime.timedelta(days=days)}


def test_every_service_queue_has_the_inbox_and_assignment_filters():
    for model in (Application, FamilyPlanningApplication, MigrationApplication):
        filters = admin.site._registry[model].list_filter
        assert InboxFilter in filters and AssignmentFilter in filters, model


def test_the_default_queue_is_what_the_office_must_do_most_urgent_first(staff_client, station_a, station_b, officer_a):
    later = ApplicationFactory(office=station_a, status=Status.ACCEPTED, **due(10))
    overdue = ApplicationFactory(office=station_a, status=Status.ACCEPTED, **due(-3))
    today = ApplicationFactory(office=station_a, status=Status.SUBMITTED, **due(0))
    soon = ApplicationFactory(office=station_a, status=Status.ACCEPTED, **due(1))
    waiting = ApplicationFactory(
        office=station_a, status=Status.INFO_REQUESTED, paused_at=timezone.now(), workdays_left=2
    )
    refused = ApplicationFactory(office=station_a, status=Status.REFUSED)
    ApplicationFactory(office=station_b, status=Status.ACCEPTED, **due(-5))  # another station's
    client = staff_client(officer_a)

    assert listed(client) == [overdue.case_number, today.case_number, soon.case_number, later.case_number]
    assert listed(client, inbox="acting") == listed(client)
    assert listed(client, inbox="waiting") == [waiting.case_number]
    assert listed(client, inbox="finished") == [refused.case_number]
    assert set(listed(client, inbox="all")) == {c.case_number for c in (later, overdue, today, soon, waiting, refused)}
    page = client.get(reverse("admin:certificates_application_changelist")).content.decode()
    assert "Needs my office&#x27;s action" in page and "Finished" in page


def test_search_by_case_number_name_id_number_last_four_and_mobile_reaches_finished_cases(
    staff_client, station_a, officer_a
):
    applicant = UserFactory(real_name="周八", mobile="13912345678", id_number=make_id_number())
    finished = ApplicationFactory(office=station_a, applicant=applicant, status=Status.REFUSED)
    other = ApplicationFactory(office=station_a, status=Status.ACCEPTED, **due(2))
    client = staff_client(officer_a)
    number = finished.case_number
    for term in (number, number.lower(), "周八", applicant.id_number, applicant.id_number[-4:], "13912345678"):
        assert listed(client, q=term) == [number], term
    assert listed(client, q="nobody") == []
    assert other.case_number in listed(client, q=other.holder_name)


def test_assigned_to_me_and_unassigned(staff_client, station_a, officer_a):
    from certificates.workflow import WORKFLOW
    from portal.cases import assignment

    mine = ApplicationFactory(office=station_a, status=Status.ACCEPTED, **due(2))
    theirs = ApplicationFactory(office=station_a, status=Status.ACCEPTED, **due(2))
    free = ApplicationFactory(office=station_a, status=Status.ACCEPTED, **due(2))
    assignment.claim(mine, by=officer_a, workflow=WORKFLOW)
    assignment.claim(theirs, by=StaffFactory(office=station_a), workflow=WORKFLOW)
    client = staff_client(officer_a)
    assert listed(client, assigned="me") == [mine.case_number]
    assert listed(client, assigned="unassigned") == [free.case_number]


def test_the_default_queue_costs_the_same_queries_with_3_and_30_cases(
    staff_client, station_a, officer_a, django_assert_max_num_queries
):
    client = staff_client(officer_a)
    for days in range(3):
        ApplicationFactory(office=station_a, status=Status.ACCEPTED, **due(days))
    listed(client)
    with CaptureQueriesContext(connection) as few:
        listed(client)
    for days in range(27):
        ApplicationFactory(office=station_a, status=Status.ACCEPTED, **due(days - 5))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(listed(client)) == 30
