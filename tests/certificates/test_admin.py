"""The police station's queue and review page: scoped to the station, actions through services, bounded queries."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from certificates.models import Application, CriminalRecord, Delivery, Status
from portal.cases.admin import countdown
from portal.cases.deadlines import clock_start
from portal.documents.models import DocumentAccess
from tests.casework import take_step
from tests.factories import ApplicationFactory, StaffFactory, attach_documents, make_id_number

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()
D = datetime.date


@pytest.fixture(autouse=True)
def english(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def queued(monkeypatch):
    from certificates import tasks

    published = []
    monkeypatch.setattr(tasks.generate_certificate, "delay", lambda *a: published.append(a))
    monkeypatch.setattr(tasks.generate_refusal_notice, "delay", lambda *a: published.append(a))
    return published


def url(name, *args):
    return reverse(f"admin:certificates_application_{name}", args=args)


def act(client, application, action, text="", seen=None, **extra):
    """Take a step as the review page does: its required checklist ticked, an irreversible one confirmed."""
    data = {"text": text, **({"seen_status": seen} if seen else {}), **extra}
    return take_step(client, url("act", application.pk, action), data)


def flash(response):
    """The errors and successes an action reported: as messages after the redirect, or on the step's page."""
    shown = response.context.get("errors") if response.status_code == 400 and response.context else None
    return [str(m) for m in response.wsgi_request._messages] + list(shown or [])


# --- scope -------------------------------------------------------------------------------------------------


def test_queue_lists_only_the_officers_station_and_never_drafts(staff_client, station_a, station_b, officer_a):
    mine = ApplicationFactory(office=station_a)
    theirs = ApplicationFactory(office=station_b)
    draft = ApplicationFactory(office=station_a, draft=True)
    html = staff_client(officer_a).get(url("changelist")).content.decode()
    assert mine.case_number in html
    assert theirs.case_number not in html and draft.case_number not in html


def test_another_stations_officer_gets_404_everywhere(staff_client, station_a, officer_b, queued):
    application = ApplicationFactory(office=station_a, accepted=True)
    client = staff_client(officer_b)
    assert client.get(url("change", application.pk)).status_code == 404
    assert client.get(url("history", application.pk)).status_code == 404
    for action in ("accept", "approve", "refuse", "request_info"):
        assert act(client, application, action, "reason").status_code == 404
    response = client.post(
        url("changelist"), {"action": "export_csv", "_selected_action": [application.pk]}, follow=True
    )
    assert application.case_number not in response.content.decode()
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED and queued == []


def test_export_reaches_only_the_own_station(staff_client, station_a, station_b, officer_a):
    mine, theirs = ApplicationFactory(office=station_a), ApplicationFactory(office=station_b)
    response = staff_client(officer_a).post(
        url("changelist"), {"action": "export_csv", "_selected_action": [mine.pk, theirs.pk]}
    )
    body = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert mine.case_number in body and theirs.case_number not in body
    assert mine.holder_id_number not in body


def test_supervisor_sees_the_stations_below(staff_client, station_a, station_b):
    from accounts.models import Office, Role

    city = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    supervisor = StaffFactory(office=city, role=Role.SUPERVISOR)
    mine = ApplicationFactory(office=station_a)  # station_a is under Zhengzhou
    html = staff_client(supervisor).get(url("changelist")).content.decode()
    assert mine.case_number in html
    assert staff_client(supervisor).get(url("change", mine.pk)).status_code == 200


# --- the review page ---------------------------------------------------------------------------------------


def test_review_page_shows_documents_register_and_the_valid_actions(staff_client, station_a, officer_a):
    application = ApplicationFactory(office=station_a, accepted=True)
    documents = attach_documents(application)
    CriminalRecord.objects.create(
        id_number=application.holder_id_number,
        name=application.holder_name,
        offence="寻衅滋事罪",
        court="郑州市中级人民法院",
        judgment_date=D(2012, 3, 1),
        sentence="有期徒刑一年",
        sentence_months=12,
        age_at_offence=16,
    )
    response = staff_client(officer_a).get(url("change", application.pk))
    html = response.content.decode()
    assert response.status_code == 200
    for document in documents:
        assert document.inline_url.replace("&", "&amp;") in html and document.get_absolute_url() in html
    assert not DocumentAccess.objects.exists()  # the page links; only fetching a file is a logged view
    assert "寻衅滋事罪" in html and "sealed (juvenile record)" in html
    assert 'data-testid="ncr-register-sealed-only"' in html
    for action in ("request_info", "approve", "refuse"):
        assert f'data-testid="ncr-action-{action}"' in html
    assert 'data-testid="ncr-action-accept"' not in html and 'data-testid="ncr-action-revoke"' not in html
    assert 'name="_save"' not in html  # citizen data is read-only: nothing to save


def test_review_page_says_no_record_found(staff_client, station_a, officer_a):
    application = ApplicationFactory(office=station_a)
    html = staff_client(officer_a).get(url("change", application.pk)).content.decode()
    assert 'data-testid="ncr-register-none"' in html and "No record found" in html
    assert 'data-testid="ncr-action-accept"' in html


def test_unsealed_record_is_marked_and_approval_refused(staff_client, station_a, officer_a, queued):
    application = ApplicationFactory(office=station_a, accepted=True)
    CriminalRecord.objects.create(
        id_number=application.holder_id_number,
        name="x",
        offence="诈骗罪",
        court="法院",
        judgment_date=D(2018, 1, 1),
        sentence="有期徒刑三年",
        sentence_months=36,
        age_at_offence=25,
    )
    client = staff_client(officer_a)
    assert 'data-testid="ncr-register-blocking"' in client.get(url("change", application.pk)).content.decode()
    response = act(client, application, "approve")
    assert response.status_code == 302 and response["Location"] == url("change", application.pk)
    assert any("not sealed" in m for m in flash(response))
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED and queued == []


def test_actions_walk_the_application_through_its_states(
    staff_client, station_a, officer_a, queued, django_capture_on_commit_callbacks
):
    application = ApplicationFactory(office=station_a, delivery=Delivery.COLLECT, collection_office=station_a)
    client = staff_client(officer_a)
    assert "accepted" in flash(act(client, application, "accept"))[0]
    response = act(client, application, "request_info", "")
    assert any("Say what information" in m for m in flash(response))
    act(client, application, "request_info", "A sharper photo, please.")
    application.refresh_from_db()
    assert application.status == Status.INFO_REQUESTED and application.info_request == "A sharper photo, please."
    Application.objects.filter(pk=application.pk).update(status=Status.ACCEPTED, paused_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        act(client, application, "approve")
    application.refresh_from_db()
    assert application.status == Status.APPROVED and queued == [(application.pk, 1)]


def test_second_officer_is_told_someone_else_acted_first(station_a, officer_a, queued, settings, no_mfa):
    application = ApplicationFactory(office=station_a, accepted=True)
    other = StaffFactory(office=station_a)
    first, second = Client(), Client()
    for client, user in ((first, officer_a), (second, other)):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        client.force_login(user)
    # Both opened the review page; officer A approves, then the other officer refuses from the stale page.
    page = second.get(url("change", application.pk)).content.decode()
    assert 'name="seen_status" value="accepted"' in page
    act(first, application, "approve", seen="accepted")
    response = act(second, application, "refuse", "record found", seen="accepted")
    messages = flash(response)
    assert any("Someone else acted on case" in m and "Approved" in m for m in messages), messages
    application.refresh_from_db()
    assert application.status == Status.APPROVED and application.refusal_reason == ""


def test_own_application_shows_no_actions_and_refuses_them(staff_client, station_a, queued):
    officer = StaffFactory(office=station_a, id_number=make_id_number())
    application = ApplicationFactory(office=station_a, applicant=officer, accepted=True)
    client = staff_client(officer)
    html = client.get(url("change", application.pk)).content.decode()
    assert "application for yourself" in html and 'data-testid="ncr-action-approve"' not in html
    response = act(client, application, "approve")
    assert any("yourself" in m for m in flash(response))
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED and queued == []


def test_actions_only_by_post_with_csrf(station_a, officer_a, no_mfa):
    application = ApplicationFactory(office=station_a)
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer_a)
    assert client.get(url("act", application.pk, "accept")).status_code == 405
    assert client.post(url("act", application.pk, "accept")).status_code == 403  # no CSRF token
    assert client.post(url("change", application.pk), {"status": "approved"}).status_code in (403, 405)
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED


def test_unknown_action_is_refused(staff_client, station_a, officer_a):
    application = ApplicationFactory(office=station_a)
    assert act(staff_client(officer_a), application, "delete").status_code == 403


def test_the_officer_without_the_permission_cannot_act(staff_client, station_a):
    from django.contrib.auth.models import Group

    bare = StaffFactory(office=station_a, role="no-such-role")
    assert not Group.objects.get(name="no-such-role").permissions.exists()
    application = ApplicationFactory(office=station_a)
    client = staff_client(bare)
    assert client.get(url("change", application.pk)).status_code == 403
    assert act(client, application, "accept").status_code == 403


# --- the countdown and the list's cost ---------------------------------------------------------------------


def test_countdown_in_working_days():
    application = Application(status=Status.ACCEPTED, due_date=D(2026, 10, 10))
    assert countdown(application, today=D(2026, 9, 30)) == "3 working days left"
    assert countdown(application, today=D(2026, 10, 9)) == "1 working day left"
    assert countdown(application, today=D(2026, 10, 10)) == "due today"
    assert countdown(application, today=D(2026, 10, 12)) == "overdue by 1 working day"
    assert countdown(application, today=D(2026, 10, 14)) == "overdue by 3 working days"
    paused = Application(status=Status.INFO_REQUESTED, paused_at=timezone.now(), workdays_left=2)
    assert countdown(paused) == "paused (2 working days left)"
    assert countdown(Application(status=Status.ISSUED)) == "—"


def test_changelist_shows_the_countdown_and_filters_overdue(staff_client, station_a, officer_a):
    with time_machine.travel(datetime.datetime(2026, 9, 30, 9, 0, tzinfo=TZ), tick=False):
        soon = ApplicationFactory(office=station_a, accepted=True, **clock_start(3))
    Application.objects.filter(pk=soon.pk).update(due_state="overdue")
    fresh = ApplicationFactory(office=station_a)
    with time_machine.travel(datetime.datetime(2026, 10, 12, 9, 0, tzinfo=TZ), tick=False):
        client = staff_client(officer_a)
        html = client.get(url("changelist")).content.decode()
        assert "overdue by 1 working day" in html
        filtered = client.get(url("changelist"), {"due": "overdue"}).content.decode()
    assert soon.case_number in filtered and fresh.case_number not in filtered
    assert soon.holder_name not in html or len(soon.holder_name) < 2  # names are masked in the list
    assert soon.masked_holder_name in html


def test_changelist_queries_do_not_grow_with_rows(staff_client, station_a, officer_a, django_assert_max_num_queries):
    client = staff_client(officer_a)
    for _ in range(3):
        ApplicationFactory(office=station_a, accepted=True, **clock_start(3))
    client.get(url("changelist"), {"inbox": "all"})  # warm the calendar and the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url("changelist"), {"inbox": "all"}).status_code == 200
    for _ in range(25):
        ApplicationFactory(office=station_a, info_requested=True, paused_at=timezone.now(), workdays_left=2)
        ApplicationFactory(office=station_a, accepted=True, **clock_start(3))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("changelist"), {"inbox": "all"})
    assert response.status_code == 200 and response.content.decode().count("working day") >= 50
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("changelist"), {"q": "NCR-20260101-00001"})


def test_issued_application_offers_revoke_reissue_and_paper_and_escapes_citizen_text(
    staff_client, station_a, officer_a, queued, django_capture_on_commit_callbacks
):
    from certificates.services import KIND_CERTIFICATE
    from portal.verify.issuing import issued_document_claim, issued_document_store
    from portal.verify.models import DocumentStatus

    application = ApplicationFactory(
        office=station_a,
        issued=True,
        delivery=Delivery.COLLECT,
        collection_office=station_a,
        receiving_organisation='<script>alert("x")</script>',
    )
    document, _ = issued_document_claim(
        source=application,
        generation=1,
        kind=KIND_CERTIFICATE,
        title="无犯罪记录证明",
        title_en="Certificate",
        holder=application.applicant,
        holder_name=application.holder_name,
        issuing_office=station_a,
        valid_until=D(2027, 1, 1),
    )
    issued_document_store(document=document, pdf=b"%PDF-1.7\n%%EOF\n")
    client = staff_client(officer_a)
    html = client.get(url("change", application.pk)).content.decode()
    assert '<script>alert("x")</script>' not in html and "&lt;script&gt;" in html
    assert document.code in html and reverse("verify:download", args=[document.code]) in html
    for action in ("revoke", "reissue", "paper_printed"):
        assert f'data-testid="ncr-action-{action}"' in html
    assert 'data-testid="ncr-action-paper_collected"' not in html

    act(client, application, "paper_printed", seen="issued")
    application.refresh_from_db()
    assert application.paper_printed_at is not None
    assert 'data-testid="ncr-action-paper_collected"' in client.get(url("change", application.pk)).content.decode()

    response = act(client, application, "revoke", "")
    assert any("reason" in m for m in flash(response))
    with django_capture_on_commit_callbacks(execute=True):
        act(client, application, "reissue", "Wrong purpose printed.", seen="issued")
    document.refresh_from_db()
    application.refresh_from_db()
    assert document.status == DocumentStatus.REVOKED
    assert application.status == Status.APPROVED and queued == [(application.pk, 2)]
