"""The shared confirmation pages (portal.cases.views): a refusal by the service is shown, answered 400, and changes
nothing; the service pages' own tests cover asking, confirming and the redirects."""

import datetime

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from certificates import services
from certificates.models import Application, Status
from portal.cases.services import required_text
from portal.cases.views import delete_draft_case, error_messages, withdraw_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def post(user, path):
    request = RequestFactory().post(path)
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def detail_url(application):
    return reverse("certificates:detail", kwargs={"case_number": application.case_number})


def test_a_withdrawal_refused_by_the_service_shows_why_with_400(citizen, station_a):
    application = services.application_create_draft(applicant=citizen, for_self=True, office=station_a)
    Application.objects.filter(pk=application.pk).update(status=Status.SUBMITTED)
    application.refresh_from_db()
    # The office accepts the application while the citizen's confirmation page is open.
    Application.objects.filter(pk=application.pk).update(status=Status.ACCEPTED)
    response = withdraw_case(
        post(citizen, "/withdraw/"),
        application,
        withdrawable=(Status.SUBMITTED, Status.ACCEPTED),
        withdraw=services.application_withdraw,
        template="certificates/withdraw.html",
        detail_url=detail_url(application),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'class="alert alert-danger"' in html and "changed by someone else" in html
    assert 'data-testid="confirm-withdraw"' in html
    assert Application.objects.get(pk=application.pk).status == Status.ACCEPTED


def test_deleting_a_draft_submitted_meanwhile_is_refused_with_400(citizen, station_a):
    application = services.application_create_draft(applicant=citizen, for_self=True, office=station_a)
    Application.objects.filter(pk=application.pk).update(status=Status.SUBMITTED)  # submitted from another tab
    response = delete_draft_case(
        post(citizen, "/delete/"),
        application,
        delete=services.application_delete_draft,
        template="certificates/delete.html",
        redirect_to="certificates:index",
    )
    assert response.status_code == 400
    assert "Only a draft can be deleted." in response.content.decode()
    assert Application.objects.filter(pk=application.pk, status=Status.SUBMITTED).exists()


def test_a_withdrawal_succeeds_with_a_message_and_the_status_page(citizen, station_a):
    application = services.application_create_draft(applicant=citizen, for_self=True, office=station_a)
    Application.objects.filter(pk=application.pk).update(status=Status.SUBMITTED)
    application.refresh_from_db()
    request = post(citizen, "/withdraw/")
    response = withdraw_case(
        request,
        application,
        withdrawable=(Status.SUBMITTED,),
        withdraw=services.application_withdraw,
        template="certificates/withdraw.html",
        detail_url=detail_url(application),
    )
    assert (response.status_code, response["Location"]) == (302, detail_url(application))
    assert [str(m) for m in request._messages] == [f"Application {application.case_number} is withdrawn."]
    assert Application.objects.get(pk=application.pk).status == Status.WITHDRAWN


def test_error_messages_lists_each_validation_message_or_the_transition_message():
    with pytest.raises(Exception) as refused:
        required_text("  ", "Say why.")
    assert error_messages(refused.value) == ["Say why."]
    assert error_messages(services.TransitionNotAllowed("Only the applicant can do this.")) == [
        "Only the applicant can do this."
    ]


def test_deleting_a_draft_says_so_in_the_citizens_language(citizen, station_a):
    application = services.application_create_draft(applicant=citizen, for_self=True, office=station_a)
    request = post(citizen, "/delete/")
    with translation.override("zh-hans"):
        response = delete_draft_case(
            request,
            application,
            delete=services.application_delete_draft,
            template="certificates/delete.html",
            redirect_to="certificates:index",
        )
    assert (response.status_code, response["Location"]) == (302, reverse("certificates:index"))
    assert [str(m) for m in request._messages] == [f"草稿 {application.case_number} 已删除。"]
    assert not Application.objects.filter(pk=application.pk).exists()


def test_the_shared_timeline_lists_each_step_with_its_office_where_known():
    at = datetime.datetime(2026, 11, 24, 9, 30, tzinfo=datetime.UTC)
    timeline = [
        {"at": at, "label": "Submitted", "note": "First line\nsecond line"},
        {"at": at, "label": "Accepted", "note": "", "office": "Jinshui police station"},
    ]
    with translation.override("en"):
        html = render_to_string("portal/_timeline.html", {"timeline": timeline})
    assert 'data-testid="timeline"' in html and html.count("<li>") == 2
    assert "First line<br>second line" in html and "· Jinshui police station</time>" in html
    assert render_to_string("portal/_timeline.html", {"timeline": []}).strip() == ""
