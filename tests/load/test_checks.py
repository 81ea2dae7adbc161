"""The load test's checks (bench/load/check.py) pass on consistent data and catch each kind of damage they look for.

The load run itself needs gunicorn, a worker, PostgreSQL and Redis (`make load`); these tests make the states the
checks judge with the portal's own services, so a check that could never fail would fail here.
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts.models import Office
from bench.load import check
from certificates import services
from certificates.documents import CERTIFICATE
from certificates.models import Application, Status
from portal.cases.models import Transition
from portal.notify.models import Channel, MessageStatus, OutboxMessage
from portal.verify.issuing import issued_document_claim, issued_document_store, mark_issued
from tests.factories import ApplicationFactory, OfficeFactory, UserFactory

pytestmark = pytest.mark.django_db
RUN = "ab12"
PDF = b"%PDF-1.4\n% a stand-in for the signed certificate\n%%EOF\n"


def issue(application, generation):
    """What the worker does: claim (source, generation), store the PDF, APPROVED -> ISSUED."""
    document, _ = issued_document_claim(
        source=application,
        generation=generation,
        kind=services.KIND_CERTIFICATE,
        title="无犯罪记录证明",
        title_en="Certificate of No Criminal Record",
        holder=application.applicant,
        holder_name=application.holder_name,
        issuing_office=application.office,
        valid_until=None,
    )
    document = issued_document_store(document=document, pdf=PDF)
    application.refresh_from_db()
    if application.status == Status.APPROVED:
        mark_issued(CERTIFICATE, application, document)
    return document


@pytest.fixture
def approved(station_a, officer_a):
    application = ApplicationFactory(office=station_a, accepted=True, documents=True)
    return services.application_approve(application=application, by=officer_a)


def test_approvals_pass_with_one_certificate_each(approved):
    issue(approved, approved.certificate_generation)
    result = check.check_approvals()
    assert result["ok"], result["detail"]
    assert (result["approvals"], result["certificates"]) == (1, 1)


def test_approvals_report_a_second_certificate(approved):
    issue(approved, approved.certificate_generation)
    issue(approved, approved.certificate_generation + 1)  # a generation nobody asked for
    result = check.check_approvals()
    assert not result["ok"]
    assert any("2 certificates" in problem for problem in result["detail"])


def test_approvals_report_an_approval_left_without_certificate(approved):
    result = check.check_approvals()
    assert not result["ok"]
    assert result["still_approved"] == 1
    assert any(f"{approved.case_number}: approved but still approved" in p for p in result["detail"])


def test_approvals_report_a_lost_file(approved):
    document = issue(approved, approved.certificate_generation)
    document.file.storage.delete(document.file.name)
    result = check.check_approvals()
    assert result["detail"] == [f"certificate {document.code}: no stored file"]


def submitted_case(username):
    citizen = UserFactory(username=username)
    application = ApplicationFactory(
        office=_station(), applicant=citizen, draft=True, documents=True, declaration_at=timezone.now()
    )
    return services.application_submit(application=application, by=citizen)


def _station():
    return Office.objects.filter(name="压测派出所").first() or OfficeFactory(name="压测派出所")


def test_registrations_report_an_account_the_client_saw_that_is_not_there():
    UserFactory(username=f"c{RUN}-010")
    assert check.check_registrations({"registered": [f"c{RUN}-010"]}, RUN)["ok"]
    result = check.check_registrations({"registered": [f"c{RUN}-010", f"c{RUN}-011"]}, RUN)
    assert result["detail"] == [f"account c{RUN}-011: 0 rows"]


def test_submissions_pass_when_each_exists_once():
    application = submitted_case(f"c{RUN}-001")
    client = {"submitted": [[f"c{RUN}-001", application.case_number]], "submit_unconfirmed": []}
    result = check.check_submissions(client, RUN)
    assert result["ok"], result["detail"]


def test_submissions_report_a_draft_the_citizen_was_told_was_submitted():
    citizen = UserFactory(username=f"c{RUN}-002")
    draft = ApplicationFactory(office=_station(), applicant=citizen, draft=True)
    client = {"submitted": [[citizen.username, draft.case_number]], "submit_unconfirmed": []}
    result = check.check_submissions(client, RUN)
    assert any("still a draft" in problem for problem in result["detail"])


def test_submissions_report_one_no_client_made_and_a_second_application():
    application = submitted_case(f"c{RUN}-003")
    ApplicationFactory(office=_station(), applicant=application.applicant, draft=True)
    result = check.check_submissions({"submitted": [], "submit_unconfirmed": []}, RUN)
    assert f"{application.case_number}: submitted, but no client submitted it" in result["detail"]
    assert f"c{RUN}-003: 2 applications (one was started)" in result["detail"]


def test_submissions_report_a_case_submitted_twice():
    application = submitted_case(f"c{RUN}-004")
    # What a double click would leave if the guard let both through: a second draft -> submitted step.
    Transition.objects.create(
        content_type=ContentType.objects.get_for_model(Application),
        object_id=application.pk,
        from_status=Status.DRAFT,
        to_status=Status.SUBMITTED,
        actor=application.applicant,
    )
    client = {"submitted": [[application.applicant.username, application.case_number]], "submit_unconfirmed": []}
    result = check.check_submissions(client, RUN)
    assert result["detail"] == [f"application {application.pk}: submitted 2 times"]


def test_outbox_passes_when_everything_is_sent_or_retrying():
    since = timezone.now()
    submitted_case(f"seed{RUN}-005")  # not a registration through the form
    messages = OutboxMessage.objects.filter(template="certificates/submitted")
    assert messages.count() == 2  # e-mail and SMS
    first, second = messages
    OutboxMessage.objects.filter(pk=first.pk).update(status=MessageStatus.SENT, sent_at=timezone.now())
    OutboxMessage.objects.filter(pk=second.pk).update(
        attempts=1, next_attempt_at=timezone.now() + timezone.timedelta(minutes=2), last_error="gateway answered 503"
    )
    result = check.check_outbox(since, RUN)
    assert result["ok"], result["detail"]
    assert result["retry_scheduled"] == 1


def test_outbox_reports_undelivered_failed_and_missing_messages():
    since = timezone.now()
    submitted_case(f"seed{RUN}-006")
    result = check.check_outbox(since, RUN)  # queued, due, never delivered (no worker in this test)
    assert sum("due and not delivered" in problem for problem in result["detail"]) == 2

    sms = OutboxMessage.objects.get(template="certificates/submitted", channel=Channel.SMS)
    OutboxMessage.objects.filter(pk=sms.pk).update(status=MessageStatus.FAILED, last_error="gave up")
    OutboxMessage.objects.filter(template="certificates/submitted", channel=Channel.EMAIL).delete()
    detail = check.check_outbox(since, RUN)["detail"]
    assert any("failed: gave up" in problem for problem in detail)
    assert "certificates/submitted: 1 messages for 1 events (e-mail and SMS each)" in detail


def test_mail_check_counts_the_messages_the_file_backend_wrote(tmp_path):
    since = timezone.now()
    for n in range(2):
        OutboxMessage.objects.create(
            channel=Channel.EMAIL, to=f"u{n}@example.test", body="x", status=MessageStatus.SENT
        )
    separator = "-" * 79
    (tmp_path / "20261125-000000-1.log").write_text(f"Subject: a\n\nx\n{separator}\n")
    assert not check.check_mail_delivered(tmp_path, since)["ok"]
    (tmp_path / "20261125-000000-2.log").write_text(f"Subject: b\n\nx\n{separator}\n")
    assert check.check_mail_delivered(tmp_path, since)["ok"]


def test_progress_needs_a_submission_and_an_approval():
    assert not check.check_progress({"submitted": [], "approved": 0})["ok"]
    assert not check.check_progress({"submitted": [["c", "NCR-20261125-00001"]], "approved": 0})["ok"]
    assert check.check_progress({"submitted": [["c", "NCR-20261125-00001"]], "approved": 1})["ok"]
