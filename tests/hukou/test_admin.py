"""Each office's inbox of migration cases: scoped to the step where a case reaches it, actions through services."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from hukou import services
from hukou.constants import Status
from tests.casework import take_step
from tests.factories import MigrationApplicationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def url(name, *args):
    return reverse(f"admin:hukou_migrationapplication_{name}", args=args)


def flash(response):
    """The errors and successes an action reported: as messages after the redirect, or on the step's page."""
    shown = response.context.get("errors") if response.status_code == 400 and response.context else None
    return [str(m) for m in response.wsgi_request._messages] + list(shown or [])


def test_the_move_out_station_sees_a_case_only_from_the_approval(staff_client, offices, staff):
    application = MigrationApplicationFactory(offices=offices, forwarded=True, complete=True)
    application.forwarded_at = application.submitted_at
    application.save()
    client = staff_client(staff["move_out"])
    assert application.case_number not in client.get(url("changelist")).content.decode()
    assert client.get(url("change", application.pk)).status_code == 404
    services.hukou_approve(application=application, by=staff["municipal"])
    assert application.case_number in client.get(url("changelist") + "?inbox=acting").content.decode()
    page = client.get(url("change", application.pk)).content.decode()
    assert 'data-testid="hk-action-register_emigration"' in page
    # After it registers the emigration the case stays visible, but it is no longer in its inbox.
    services.hukou_register_emigration(application=application, by=staff["move_out"])
    assert application.case_number in client.get(url("changelist") + "?inbox=waiting").content.decode()
    assert application.case_number not in client.get(url("changelist") + "?inbox=acting").content.decode()
    assert application.case_number not in client.get(url("changelist")).content.decode()  # the default: acting
    page = client.get(url("change", application.pk)).content.decode()
    assert "Your office has no action to take in this state." in page


def test_the_municipal_office_sees_nothing_before_forwarding(staff_client, offices, staff):
    application = MigrationApplicationFactory(offices=offices, accepted=True, complete=True)
    client = staff_client(staff["municipal"])
    assert client.get(url("change", application.pk)).status_code == 404
    services.hukou_forward(application=application, by=staff["move_in"], originals_seen_at_counter=True)
    assert client.get(url("change", application.pk)).status_code == 200


def test_review_page_shows_people_rules_timeline_and_the_valid_actions(staff_client, offices, staff):
    application = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
    page = staff_client(staff["move_in"]).get(url("change", application.pk)).content.decode()
    assert 'data-testid="hk-rules-ok"' in page and "李四" in page
    for action in ("accept", "refuse", "switch_to_paper"):
        assert f'data-testid="hk-action-{action}"' in page
    assert 'data-testid="hk-action-approve"' not in page


def test_an_action_posted_from_the_review_page_runs_the_service(staff_client, offices, staff):
    application = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
    client = staff_client(staff["move_in"])
    response = take_step(client, url("act", application.pk, "accept"), {"seen_status": Status.SUBMITTED})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED and application.due_date is not None
    response = take_step(client, url("act", application.pk, "switch_to_paper"), {"seen_status": "accepted", "text": ""})
    assert any("technical reason" in m for m in flash(response))
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED


def test_a_stale_page_changes_nothing(staff_client, offices, staff):
    application = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
    client = staff_client(staff["move_in"])
    services.hukou_refuse(application=application, by=staff["move_in"], reason="材料不全")
    response = client.post(url("act", application.pk, "accept"), {"seen_status": Status.SUBMITTED})
    assert any("Someone else acted" in m for m in flash(response))
    application.refresh_from_db()
    assert application.status == Status.REFUSED


def test_the_wrong_office_gets_a_message_not_an_action(staff_client, offices, staff):
    application = MigrationApplicationFactory(offices=offices, approved=True, permit_issued_at=None, complete=True)
    # The move-in station sees the case (it accepted it) but the step belongs to the move-out station.
    response = staff_client(staff["move_in"]).post(
        url("act", application.pk, "register_emigration"), {"seen_status": Status.APPROVED}
    )
    assert any("belongs to" in m for m in flash(response))
    application.refresh_from_db()
    assert application.status == Status.APPROVED


def test_overdue_filter_and_countdown(staff_client, offices, staff):
    late = MigrationApplicationFactory(
        offices=offices, accepted=True, due_state="overdue", due_date="2026-01-05", complete=True
    )
    fine = MigrationApplicationFactory(offices=offices, accepted=True, complete=True)
    html = staff_client(staff["move_in"]).get(url("changelist") + "?due=overdue").content.decode()
    assert late.case_number in html and fine.case_number not in html
    assert "overdue by" in html


def test_changelist_query_count_is_pinned(staff_client, offices, staff):
    client = staff_client(staff["move_in"])
    for _ in range(3):
        MigrationApplicationFactory(offices=offices, accepted=True, complete=True)
    client.get(url("changelist"))  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("changelist") + "?inbox=acting").status_code == 200
    for _ in range(10):
        MigrationApplicationFactory(offices=offices, accepted=True, complete=True)
    with CaptureQueriesContext(connection) as many:
        client.get(url("changelist") + "?inbox=acting")
    assert len(many) == len(few) <= 15  # constant: session, user, scope, count, one page of rows with offices
