"""The family-planning queue and review page: scoped to the office, answers read-only, actions through services."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Role
from familyplanning.models import Status
from portal.cases.deadlines import clock_start
from tests.casework import take_step
from tests.factories import FamilyPlanningApplicationFactory, StaffFactory

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 18, 2, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def english(client, settings, tmp_path, monkeypatch):
    from familyplanning import tasks

    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    monkeypatch.setattr(tasks.generate_document, "delay", lambda *a: None)
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


def url(name, *args):
    return reverse(f"admin:familyplanning_familyplanningapplication_{name}", args=args)


def act(client, application, action, text="", seen=None, **extra):
    """Take a step as the review page does: its required checklist ticked, an irreversible one confirmed."""
    data = {"text": text, **({"seen_status": seen} if seen else {}), **extra}
    return take_step(client, url("act", application.pk, action), data)


def flash(response):
    """The errors and successes an action reported: as messages after the redirect, or on the step's page."""
    shown = response.context.get("errors") if response.status_code == 400 and response.context else None
    return [str(m) for m in response.wsgi_request._messages] + list(shown or [])


def test_queue_lists_only_the_officers_office_and_never_drafts(staff_client, office, other_office, officer):
    mine = FamilyPlanningApplicationFactory(office=office)
    theirs = FamilyPlanningApplicationFactory(office=other_office)
    draft = FamilyPlanningApplicationFactory(office=office, draft=True)
    html = staff_client(officer).get(url("changelist")).content.decode()
    assert mine.case_number in html
    assert theirs.case_number not in html and draft.case_number not in html


def test_another_offices_officer_gets_404(staff_client, office, other_office):
    application = FamilyPlanningApplicationFactory(office=office, status=Status.ACCEPTED, **clock_start(20))
    client = staff_client(StaffFactory(office=other_office, role=Role.FAMILY_PLANNING_OFFICER))
    assert client.get(url("change", application.pk)).status_code == 404
    for action in ("accept", "approve", "refuse", "request_info"):
        assert act(client, application, action, "reason").status_code == 404
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED


def test_a_police_officer_has_no_access(staff_client, office):
    application = FamilyPlanningApplicationFactory(office=office)
    police = StaffFactory(office=office, role=Role.POLICE_OFFICER)
    assert staff_client(police).get(url("change", application.pk)).status_code in (403, 302)


def test_review_page_shows_the_answers_under_their_labels_and_acts(staff_client, office, officer):
    application = FamilyPlanningApplicationFactory(office=office, service="practice_licence")
    client = staff_client(officer)
    html = client.get(url("change", application.pk)).content.decode()
    assert "Name of the institution" in html and application.answers["institution_name"] in html
    assert 'data-testid="fp-action-accept"' in html and 'data-testid="fp-action-approve"' not in html
    response = act(client, application, "accept", seen=Status.SUBMITTED)
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED and application.due_date is not None
    html = client.get(url("change", application.pk)).content.decode()
    assert "20 working days left" in html
    # A refusal needs a reason; with one it is done.
    response = act(client, application, "refuse", "  ", seen=Status.ACCEPTED)
    assert any("reason" in m for m in flash(response))
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED
    act(client, application, "approve", "Complete.", seen=Status.ACCEPTED)
    application.refresh_from_db()
    assert application.status == Status.APPROVED and application.decided_by == officer


def test_a_stale_page_does_not_act(staff_client, office, officer):
    application = FamilyPlanningApplicationFactory(office=office, status=Status.ACCEPTED, **clock_start(20))
    response = act(staff_client(officer), application, "approve", seen=Status.SUBMITTED)
    assert any("first" in m for m in flash(response))
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED


def test_the_officers_own_case_offers_no_action(staff_client, office):
    officer = StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER)
    own = FamilyPlanningApplicationFactory(office=office, applicant=officer)
    client = staff_client(officer)
    html = client.get(url("change", own.pk)).content.decode()
    assert "concerns yourself" in html and 'data-testid="fp-action-accept"' not in html
    act(client, own, "accept", seen=Status.SUBMITTED)
    own.refresh_from_db()
    assert own.status == Status.SUBMITTED


def test_filters_by_service_status_and_deadline(staff_client, office, officer):
    licence = FamilyPlanningApplicationFactory(
        office=office,
        service="practice_licence",
        status=Status.ACCEPTED,
        **{**clock_start(20, start=timezone.localdate() - datetime.timedelta(days=40)), "due_state": "overdue"},
    )
    registration = FamilyPlanningApplicationFactory(office=office, service="birth_registration")
    client = staff_client(officer)
    html = client.get(url("changelist"), {"service": "practice_licence"}).content.decode()
    assert licence.case_number in html and registration.case_number not in html
    html = client.get(url("changelist"), {"due": "overdue"}).content.decode()
    assert licence.case_number in html and registration.case_number not in html
    html = client.get(url("changelist"), {"status__exact": "submitted"}).content.decode()
    assert registration.case_number in html and licence.case_number not in html


def test_changelist_queries_do_not_grow_with_rows(staff_client, office, officer, django_assert_max_num_queries):
    client = staff_client(officer)
    for _ in range(3):
        FamilyPlanningApplicationFactory(office=office, status=Status.ACCEPTED, **clock_start(20))
    client.get(url("changelist"), {"inbox": "all"})  # warm the calendar and the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("changelist"), {"inbox": "all"}).status_code == 200
    for _ in range(20):
        FamilyPlanningApplicationFactory(office=office, info_requested=True, paused_at=timezone.now(), workdays_left=2)
        FamilyPlanningApplicationFactory(office=office, status=Status.ACCEPTED, **clock_start(20))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("changelist"), {"inbox": "all"})
    assert response.status_code == 200 and response.content.decode().count("working day") >= 40
