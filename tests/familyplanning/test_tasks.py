"""familyplanning.tasks run directly: documents issued and verified, validation supersedes, cancellation revokes."""

import datetime
import io

import pytest
import time_machine
from django.utils import translation
from pypdf import PdfReader

from familyplanning import services, tasks
from familyplanning.models import Status
from portal import pdf
from portal.notify.models import OutboxMessage
from portal.verify import issuing, lookup
from portal.verify.models import DocumentStatus, IssuedDocument
from tests.factories import FamilyPlanningApplicationFactory, UserFactory, sample_answers
from tests.pki import install_signer

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 18, 2, 0, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return install_signer(tmp_path_factory.mktemp("fp-keys"))


@pytest.fixture(autouse=True)
def environment(settings, tmp_path, keys, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = map(str, keys)
    settings.SITE_URL = "https://ga.henan.example"
    # The approval's on_commit publish is not what these tests are about: they run the task themselves.
    monkeypatch.setattr(tasks.generate_document, "delay", lambda *a: None)
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


def verify(code):
    return lookup.verify_code(code=code, channel="web", ip=None)


def text_of(document) -> str:
    with document.file.open("rb") as fh:
        data = fh.read()
    assert pdf.check_signature(data).ok
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def approve_and_issue(application, officer):
    services.fp_approve(application=application, by=officer)
    assert tasks.generate_document(application.pk, services.DOCUMENT_GENERATION) == "issued"
    application.refresh_from_db()
    assert application.status == Status.ISSUED
    return services.current_document(application=application)


def test_birth_registration_issues_a_signed_verified_document(office, officer):
    application = FamilyPlanningApplicationFactory(office=office, service="birth_registration", accepted=True)
    document = approve_and_issue(application, officer)
    assert document.kind == "fp_birth_service_certificate" and document.title == "生育服务证"
    assert document.valid_until is None and document.holder_id == application.applicant_id
    result = verify(document.code)
    assert result.state == "valid" and result.title_en == "Birth Service Certificate"
    text = text_of(document)
    assert "生育服务证" in text and document.code in text and application.case_number in text
    assert application.answers["wife"]["name"] in text
    # The applicant is told, with the code, by e-mail and SMS.
    sms = OutboxMessage.objects.filter(user=application.applicant, channel="sms").order_by("-pk").first()
    assert sms is not None and document.code in sms.body


def test_the_task_is_idempotent_and_ignores_what_is_not_approved(office, officer):
    application = FamilyPlanningApplicationFactory(office=office, service="practice_licence", accepted=True)
    assert tasks.generate_document(application.pk, 1) == "not-approved"
    services.fp_approve(application=application, by=officer)
    assert tasks.generate_document(application.pk, 2) == "stale-generation"
    assert tasks.generate_document(application.pk, 1) == "issued"
    assert tasks.generate_document(application.pk, 1) == "exists"
    assert IssuedDocument.objects.filter(source_id=application.pk, kind="fp_practice_licence").count() == 1
    assert tasks.generate_document(10**9, 1) == "missing"
    application.refresh_from_db()
    assert [t.to_status for t in application.timeline()].count("issued") == 1


def test_a_claim_left_half_done_is_finished_with_the_same_code(office, officer):
    application = FamilyPlanningApplicationFactory(office=office, service="qualification_certificate", accepted=True)
    services.fp_approve(application=application, by=officer)
    claimed, _ = issuing.issued_document_claim(
        source=application,
        generation=1,
        kind="fp_qualification_certificate",
        title="计划生育技术服务人员合格证",
        title_en="",
        holder=application.applicant,
        holder_name="陈静",
        issuing_office=office,
        valid_until=None,
    )
    assert tasks.generate_document(application.pk, 1) == "issued"
    claimed.refresh_from_db()
    assert claimed.status == DocumentStatus.VALID and claimed.file


def test_practice_licence_validation_supersedes_the_old_licence(office, officer):
    holder = UserFactory(language="en")
    licence_case = FamilyPlanningApplicationFactory(
        office=office, service="practice_licence", applicant=holder, accepted=True
    )
    old = approve_and_issue(licence_case, officer)
    assert old.valid_until == datetime.date(2027, 11, 17)

    answers = sample_answers(
        "practice_licence_validation", licence_number=old.code.lower(), valid_until="2027-11-17", institution_name="x"
    )
    validation = FamilyPlanningApplicationFactory(
        office=office, service="practice_licence_validation", applicant=holder, answers=answers, accepted=True
    )
    assert services.affected_document(application=validation).pk == old.pk
    with time_machine.travel(NOW + datetime.timedelta(days=300), tick=False):
        new = approve_and_issue(validation, officer)
        old.refresh_from_db()
        assert old.status == DocumentStatus.REVOKED and "Superseded by validation" in old.revoke_reason
        assert verify(old.code).state == "revoked"
        assert verify(new.code).state == "valid"
    # The new validity runs on from the old one, not from the day of validation.
    assert new.kind == "fp_practice_licence" and new.valid_until == datetime.date(2028, 11, 17)
    assert old.code in text_of(new)
    # A second run changes nothing.
    assert tasks.generate_document(validation.pk, 1) == "exists"
    assert IssuedDocument.objects.filter(kind="fp_practice_licence", status=DocumentStatus.VALID).count() == 1


def test_a_revoked_licence_cannot_be_validated(office, officer):
    holder = UserFactory()
    old = approve_and_issue(
        FamilyPlanningApplicationFactory(office=office, service="practice_licence", applicant=holder, accepted=True),
        officer,
    )
    issuing.issued_document_revoke(document=old, by=officer, reason="Closed")
    answers = sample_answers("practice_licence_validation", licence_number=old.code)
    validation = FamilyPlanningApplicationFactory(
        office=office, service="practice_licence_validation", applicant=holder, answers=answers, accepted=True
    )
    with pytest.raises(services.TransitionNotAllowed):
        services.fp_approve(application=validation, by=officer)


def test_someone_elses_document_is_not_affected(office, officer):
    licence = approve_and_issue(
        FamilyPlanningApplicationFactory(office=office, service="practice_licence", accepted=True), officer
    )
    answers = sample_answers("practice_licence_validation", licence_number=licence.code)
    validation = FamilyPlanningApplicationFactory(
        office=office, service="practice_licence_validation", answers=answers, accepted=True
    )  # another applicant
    assert services.affected_document(application=validation) is None


def test_cancellation_revokes_the_honour_certificate_on_verify(client, office, officer):
    holder = UserFactory(language="en")
    honour = approve_and_issue(
        FamilyPlanningApplicationFactory(
            office=office, service="only_child_certificate", applicant=holder, accepted=True
        ),
        officer,
    )
    assert honour.valid_until is None
    assert client.get(f"/api/verify/{honour.code}/").json()["state"] == "valid"

    answers = sample_answers("only_child_certificate_cancellation", certificate_number=honour.code)
    cancellation = FamilyPlanningApplicationFactory(
        office=office, service="only_child_certificate_cancellation", applicant=holder, answers=answers, accepted=True
    )
    services.fp_approve(application=cancellation, by=officer)
    cancellation.refresh_from_db()
    assert cancellation.status == Status.APPROVED
    assert tasks.generate_document(cancellation.pk, 1) == "no-document"
    body = client.get(f"/api/verify/{honour.code}/").json()
    assert body["state"] == "revoked" and body["revoked_on"] == "2026-11-18"
    assert honour.code in cancellation.timeline().last().note


def test_the_sweep_requeues_approvals_without_their_document(office, officer, monkeypatch):
    published = []
    monkeypatch.setattr(tasks.generate_document, "delay", lambda *a: published.append(a))
    lost = FamilyPlanningApplicationFactory(office=office, service="floating_population_certificate", accepted=True)
    services.fp_approve(application=lost, by=officer)
    no_document = FamilyPlanningApplicationFactory(office=office, service="institution_change", accepted=True)
    services.fp_approve(application=no_document, by=officer)
    published.clear()
    assert tasks.requeue_missing_documents(older_than_minutes=3) == []  # too recent yet
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        assert tasks.requeue_missing_documents(older_than_minutes=3) == [lost.pk]
        assert published == [(lost.pk, 1)]
        assert tasks.generate_document(lost.pk, 1) == "issued"
        assert tasks.requeue_missing_documents(older_than_minutes=0) == []
    document = services.current_document(application=lost)
    assert document.valid_until == datetime.date(2029, 11, 17)


def test_drafts_and_other_statuses_are_left_alone(office):
    draft = FamilyPlanningApplicationFactory(office=office, draft=True)
    assert tasks.generate_document(draft.pk, 1) == "not-approved"


def test_the_document_task_has_the_one_retry_policy_of_the_issuing_pipeline():
    """A fault of the database or the disk is retried with back-off, as for certificates (portal.verify.issuing)."""
    from portal.verify.issuing import TRANSIENT_RETRY

    task = tasks.generate_document
    assert task.autoretry_for == TRANSIENT_RETRY["autoretry_for"] and task.max_retries == TRANSIENT_RETRY["max_retries"]
    assert (task.retry_backoff, task.retry_backoff_max) == (5, 120)
    assert task.acks_late and task.reject_on_worker_lost
