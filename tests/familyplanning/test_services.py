"""Family-planning steps: guarded transitions, scope, no deciding one's own case, clocks and notifications."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from accounts.models import Role
from familyplanning import services
from familyplanning.models import FamilyPlanningApplication, Status
from portal.cases.services import TransitionConflict, TransitionNotAllowed
from portal.notify.models import OutboxMessage
from tests.factories import FamilyPlanningApplicationFactory, StaffFactory, UserFactory, make_id_number, sample_answers

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 18, 2, 0, tzinfo=datetime.UTC)  # a Wednesday, 10:00 in Beijing


@pytest.fixture(autouse=True)
def setup(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def queued(monkeypatch):
    from familyplanning import tasks

    published = []
    monkeypatch.setattr(tasks.generate_document, "delay", lambda *a: published.append(a))
    return published


def outbox(user, channel=None):
    messages = OutboxMessage.objects.filter(user=user)
    return messages.filter(channel=channel) if channel else messages


# --- the citizen's steps -----------------------------------------------------------------------------------


def test_sample_answers_are_valid_for_every_service():
    from familyplanning.catalogue import SERVICES

    for key in SERVICES:
        assert sample_answers(key)


def test_draft_then_submit_notifies_by_email_and_sms_and_tells_the_office(office, officer):
    citizen = UserFactory(language="en")
    draft = services.fp_create_draft(applicant=citizen, service_key="practice_licence", office=office)
    assert draft.status == Status.DRAFT and draft.case_number.startswith("FP-20261118-")
    draft.answers = sample_answers("practice_licence")
    draft.save()
    with pytest.raises(ValidationError):  # the declaration is missing
        services.fp_submit(application=draft, by=citizen)
    draft.declaration_at = timezone.now()
    services.fp_submit(application=draft, by=citizen)
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED and draft.submitted_at == NOW
    assert {m.channel for m in outbox(citizen)} == {"email", "sms"}
    assert draft.case_number in outbox(citizen).filter(channel="sms").get().body
    assert draft.case_number in outbox(officer).get().subject
    assert [t.to_status for t in draft.timeline()] == ["submitted"]


def test_submit_refuses_incomplete_answers_and_other_users(office):
    citizen = UserFactory()
    draft = services.fp_create_draft(applicant=citizen, service_key="birth_registration", office=office)
    draft.declaration_at = timezone.now()
    draft.answers = {"wife_mobile": "+8613800138000"}
    draft.save()
    with pytest.raises(ValidationError):
        services.fp_submit(application=draft, by=citizen)
    with pytest.raises(TransitionNotAllowed):
        services.fp_submit(application=draft, by=UserFactory())
    with pytest.raises(KeyError):
        services.fp_create_draft(applicant=citizen, service_key="no_such_service", office=office)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_withdraw_is_allowed_before_a_decision_only(office):
    application = FamilyPlanningApplicationFactory(office=office)
    services.fp_withdraw(application=application, by=application.applicant)
    assert application.status == Status.WITHDRAWN
    approved = FamilyPlanningApplicationFactory(office=office, approved=True)
    with pytest.raises(TransitionNotAllowed):
        services.fp_withdraw(application=approved, by=approved.applicant)


# --- the officer's steps -----------------------------------------------------------------------------------


def test_accept_starts_the_services_time_limit(office, officer):
    licence = FamilyPlanningApplicationFactory(office=office, service="practice_licence")
    services.fp_accept(application=licence, by=officer)
    licence.refresh_from_db()
    assert licence.status == Status.ACCEPTED and licence.clock_limit == 20
    assert licence.due_date > NOW.date() + datetime.timedelta(days=20)  # 20 working days, weekends excluded
    registration = FamilyPlanningApplicationFactory(office=office, service="birth_registration")
    services.fp_accept(application=registration, by=officer)
    assert registration.clock_limit == 1 and registration.due_date == datetime.date(2026, 11, 19)
    assert "accepted" in outbox(licence.applicant, "email").get().subject.lower()


def test_request_info_pauses_and_resubmit_resumes_with_the_days_left(office, officer):
    application = FamilyPlanningApplicationFactory(office=office, service="practice_licence", accepted=True)
    due = application.due_date
    with pytest.raises(ValidationError):
        services.fp_request_info(application=application, by=officer, message="  ")
    services.fp_request_info(application=application, by=officer, message="Upload the equipment list.")
    application.refresh_from_db()
    assert application.status == Status.INFO_REQUESTED and application.paused_at is not None
    assert application.workdays_left == 20
    sms = outbox(application.applicant, "sms").order_by("-pk").first()
    assert "more information" in sms.body
    with time_machine.travel(NOW + datetime.timedelta(days=7), tick=False):  # a week later: 5 working days
        services.fp_resubmit(application=application, by=application.applicant, reply="Attached.")
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED and application.citizen_reply == "Attached."
    assert application.due_date > due and application.paused_at is None


def test_transitions_refused_from_the_wrong_status(office, officer, queued):
    submitted = FamilyPlanningApplicationFactory(office=office)
    for step in (services.fp_approve, services.fp_request_info):
        with pytest.raises(TransitionNotAllowed):
            step(application=submitted, by=officer, **({"message": "x"} if step is services.fp_request_info else {}))
    with pytest.raises(TransitionNotAllowed):
        services.fp_refuse(application=submitted, by=officer, reason="no")
    with pytest.raises(TransitionNotAllowed):
        services.fp_resubmit(application=submitted, by=submitted.applicant)
    refused = FamilyPlanningApplicationFactory(office=office, accepted=True)
    services.fp_refuse(application=refused, by=officer, reason="The marriage certificate is not valid.")
    assert refused.status == Status.REFUSED and refused.clock_limit is None
    with pytest.raises(TransitionNotAllowed):
        services.fp_accept(application=refused, by=officer)
    assert "not valid" in outbox(refused.applicant, "email").order_by("-pk").first().body
    assert queued == []


def test_a_stale_object_loses_to_the_first_officer(office, officer):
    application = FamilyPlanningApplicationFactory(office=office)
    stale = FamilyPlanningApplication.objects.get(pk=application.pk)
    services.fp_accept(application=application, by=officer)
    with pytest.raises(TransitionConflict):
        services.fp_withdraw(application=stale, by=stale.applicant)


def test_only_staff_of_the_cases_office_may_decide(office, other_office):
    application = FamilyPlanningApplicationFactory(office=office)
    for by in (UserFactory(), StaffFactory(office=other_office, role=Role.FAMILY_PLANNING_OFFICER)):
        with pytest.raises(TransitionNotAllowed):
            services.fp_accept(application=application, by=by)
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED


def test_staff_never_decide_a_case_that_concerns_them(office):
    officer = StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER, id_number=make_id_number())
    own = FamilyPlanningApplicationFactory(office=office, applicant=officer)
    with pytest.raises(TransitionNotAllowed):
        services.fp_accept(application=own, by=officer)
    # Named in someone else's application (here as the wife): still their own case.
    answers = sample_answers("birth_registration", wife={"name": officer.real_name, "id_number": officer.id_number})
    spouse_case = FamilyPlanningApplicationFactory(office=office, answers=answers)
    with pytest.raises(TransitionNotAllowed):
        services.fp_accept(application=spouse_case, by=officer)


def test_approval_queues_the_document_after_commit(office, officer, queued, django_capture_on_commit_callbacks):
    application = FamilyPlanningApplicationFactory(office=office, service="birth_registration", accepted=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.fp_approve(application=application, by=officer, note="Complete.")
    application.refresh_from_db()
    assert application.status == Status.APPROVED and application.decided_by == officer
    assert queued == [(application.pk, services.DOCUMENT_GENERATION)]


def test_approval_of_a_service_without_a_document_ends_there(
    office, officer, queued, django_capture_on_commit_callbacks
):
    application = FamilyPlanningApplicationFactory(office=office, service="institution_establishment", accepted=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.fp_approve(application=application, by=officer)
    assert application.status == Status.APPROVED and queued == []
    assert "approved" in outbox(application.applicant, "sms").order_by("-pk").first().body


def test_document_validity():
    application = FamilyPlanningApplication(service="practice_licence")
    assert services.document_valid_until(application=application, issued_on=datetime.date(2026, 11, 18)) == (
        datetime.date(2027, 11, 17)
    )
    honour = FamilyPlanningApplication(service="only_child_certificate")
    assert services.document_valid_until(application=honour, issued_on=datetime.date(2026, 11, 18)) is None
    # A paper-era licence is validated from the date on the form, never from the past.
    validation = FamilyPlanningApplication(service="practice_licence_validation", answers={"valid_until": "2027-01-31"})
    assert services.document_valid_until(application=validation, issued_on=datetime.date(2026, 11, 18)) == (
        datetime.date(2028, 1, 31)
    )
    lapsed = FamilyPlanningApplication(service="practice_licence_validation", answers={"valid_until": "2026-01-31"})
    assert services.document_valid_until(application=lapsed, issued_on=datetime.date(2026, 11, 18)) == (
        datetime.date(2027, 11, 17)
    )
