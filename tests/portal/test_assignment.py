"""Claiming and assignment (issue 15, item 4): an officer claims a case, a supervisor assigns it to a named officer of
the office, the timeline records both (for staff only); acting on a case assigned to someone else needs the form's
explicit confirmation, and a POST without it changes nothing."""

import pytest
from django.urls import reverse
from django.utils import translation

from certificates.models import Status
from certificates.workflow import WORKFLOW
from portal.cases import assignment
from portal.cases.services import TransitionConflict, TransitionNotAllowed
from tests.casework import take_step
from tests.factories import ApplicationFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def url(name, *args):
    return reverse(f"admin:certificates_application_{name}", args=args)


def flash(response):
    return [str(m) for m in response.wsgi_request._messages]


def test_an_officer_claims_a_case_and_the_staff_timeline_says_so(station_a, officer_a):
    application = ApplicationFactory(office=station_a)
    assignment.claim(application, by=officer_a, workflow=WORKFLOW)
    application.refresh_from_db()
    assert application.assigned_to == officer_a
    row = application.timeline().last()
    assert (row.event, row.actor, row.staff_only) == ("claimed", officer_a, True)
    assert not application.public_timeline().filter(event="claimed").exists()
    # A second officer cannot take it over by claiming; nor can a stale page claim it twice.
    other = StaffFactory(office=station_a)
    with pytest.raises(TransitionNotAllowed):
        assignment.claim(application, by=other, workflow=WORKFLOW)
    stale = type(application).objects.get(pk=application.pk)
    stale.assigned_to = None
    with pytest.raises(TransitionConflict):
        assignment.claim(stale, by=other, workflow=WORKFLOW)


def test_a_supervisor_assigns_to_a_named_officer_of_the_office_only(station_a, station_b, officer_a):
    supervisor = StaffFactory(office=station_a.parent, role="supervisor")
    colleague = StaffFactory(office=station_a)
    elsewhere = StaffFactory(office=station_b)
    application = ApplicationFactory(office=station_a)
    with pytest.raises(TransitionNotAllowed):  # an officer does not assign
        assignment.assign(application, to=colleague, by=officer_a, workflow=WORKFLOW)
    with pytest.raises(TransitionNotAllowed):  # nor to another station's officer
        assignment.assign(application, to=elsewhere, by=supervisor, workflow=WORKFLOW)
    assignment.assign(application, to=colleague, by=supervisor, workflow=WORKFLOW)
    assignment.assign(application, to=officer_a, by=supervisor, workflow=WORKFLOW)  # reassigned
    application.refresh_from_db()
    assert application.assigned_to == officer_a
    events = list(application.timeline().filter(event="assigned").values_list("actor", "internal_note"))
    assert len(events) == 2 and all(actor == supervisor.pk for actor, _ in events)
    assert officer_a.real_name in events[-1][1]
    # Only the assignee or a supervisor releases it.
    with pytest.raises(TransitionNotAllowed):
        assignment.release(application, by=colleague, workflow=WORKFLOW)
    assignment.release(application, by=officer_a, workflow=WORKFLOW)
    application.refresh_from_db()
    assert application.assigned_to is None


def test_staff_outside_the_station_cannot_claim(station_a, officer_b):
    application = ApplicationFactory(office=station_a)
    with pytest.raises(TransitionNotAllowed):
        assignment.claim(application, by=officer_b, workflow=WORKFLOW)


def test_the_review_page_claims_and_the_supervisor_assigns(staff_client, station_a, officer_a):
    application = ApplicationFactory(office=station_a)
    client = staff_client(officer_a)
    page = client.get(url("change", application.pk)).content.decode()
    assert 'data-testid="case-claim"' in page and 'data-testid="case-assign"' not in page
    response = client.post(url("assignment", application.pk, "claim"))
    assert response.status_code == 302 and "You now work on case" in flash(response)[0]
    application.refresh_from_db()
    assert application.assigned_to == officer_a

    supervisor = StaffFactory(office=station_a.parent, role="supervisor")
    colleague = StaffFactory(office=station_a, real_name="李警官")
    client.force_login(supervisor)
    page = client.get(url("change", application.pk)).content.decode()
    assert 'data-testid="case-assign"' in page and "李警官" in page
    client.post(url("assignment", application.pk, "assign"), {"officer": colleague.pk})
    application.refresh_from_db()
    assert application.assigned_to == colleague


def test_acting_on_a_case_assigned_to_someone_else_asks_for_confirmation_and_is_recorded(
    staff_client, station_a, officer_a
):
    colleague = StaffFactory(office=station_a, real_name="王警官")
    application = ApplicationFactory(office=station_a)
    assignment.claim(application, by=colleague, workflow=WORKFLOW)
    client = staff_client(officer_a)
    page = client.get(url("change", application.pk)).content.decode()
    assert 'data-testid="confirm-other-assignee"' in page

    # A direct POST without the confirmation changes nothing.
    response = client.post(url("act", application.pk, "accept"), {"seen_status": Status.SUBMITTED})
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED
    assert "assigned to 王警官" in flash(response)[0]

    take_step(
        client, url("act", application.pk, "accept"), {"seen_status": Status.SUBMITTED, "confirm_other_assignee": "1"}
    )
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED
    row = application.timeline().last()
    assert row.staff_only and row.actor == officer_a and "王警官" in row.internal_note
    assert not application.public_timeline().filter(pk=row.pk).exists()


def test_the_assignee_acts_without_confirmation(staff_client, station_a, officer_a):
    application = ApplicationFactory(office=station_a)
    assignment.claim(application, by=officer_a, workflow=WORKFLOW)
    client = staff_client(officer_a)
    assert 'data-testid="confirm-other-assignee"' not in client.get(url("change", application.pk)).content.decode()
    take_step(client, url("act", application.pk, "accept"), {"seen_status": Status.SUBMITTED})
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED
