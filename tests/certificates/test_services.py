"""certificates.services: each step allowed and refused, the working-day clock, the register rule, queuing on commit."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from certificates import services, tasks
from certificates.apps import cases_for_user
from certificates.models import Application, CriminalRecord, Delivery, HolderIdType, Reason, Status
from portal.cases.models import Transition
from portal.cases.services import TransitionConflict, TransitionNotAllowed
from portal.cases.tracking import track
from portal.documents.models import Document
from portal.notify.models import Channel, OutboxMessage
from portal.verify.models import DocumentStatus
from portal.workdays import calendar as workdays
from tests.factories import (
    ApplicationFactory,
    OfficeFactory,
    StaffFactory,
    UserFactory,
    attach_documents,
    make_id_number,
)

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()
D = datetime.date


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def queued(monkeypatch):
    """What was published to the broker, in order (the worker itself is tested in test_tasks and tests/services)."""
    published = []
    monkeypatch.setattr(tasks.generate_certificate, "delay", lambda *a: published.append(("certificate", *a)))
    monkeypatch.setattr(tasks.generate_refusal_notice, "delay", lambda *a: published.append(("refusal", *a)))
    return published


def messages_for(user, template):
    return list(OutboxMessage.objects.filter(user=user, template=f"certificates/{template}").order_by("channel"))


def record(id_number, *, age=30, months=24, **fields):
    values = {
        "name": "某某",
        "offence": "盗窃罪",
        "court": "郑州市金水区人民法院",
        "judgment_date": D(2015, 6, 1),
        "sentence": "有期徒刑二年",
    }
    values.update(fields)
    return CriminalRecord.objects.create(id_number=id_number, sentence_months=months, age_at_offence=age, **values)


# --- drafts and submission ---------------------------------------------------------------------------


def test_draft_for_oneself_is_prefilled_from_the_profile(citizen, station_a):
    application = services.application_create_draft(applicant=citizen, for_self=True, office=station_a)
    assert application.case_number.startswith("NCR-")
    assert application.status == Status.DRAFT and application.office == station_a
    assert (application.holder_name, application.holder_id_number, application.holder_sex) == (
        citizen.real_name,
        citizen.id_number,
        citizen.sex,
    )
    agent = services.application_create_draft(applicant=citizen, for_self=False, office=station_a)
    assert agent.holder_name == "" and agent.holder_id_number == "" and not agent.for_self


def test_missing_lists_every_section_until_complete(citizen, station_a):
    application = services.application_create_draft(applicant=citizen, for_self=False, office=station_a)
    sections = {key for key, _ in services.application_missing(application=application)}
    assert sections == {"holder", "purpose", "documents", "declaration"}

    Application.objects.filter(pk=application.pk).update(
        holder_name="李四",
        holder_id_number=make_id_number(),
        reason=Reason.ABROAD,
        receiving_organisation="University of Example",
        delivery=Delivery.COLLECT,
        declaration_at=timezone.now(),
    )
    application.refresh_from_db()
    missing = dict(services.application_missing(application=application))
    assert set(missing) == {"holder", "purpose", "delivery", "documents"}
    assert "authorisation" in missing["holder"]
    assert "country" in missing["purpose"]

    collection = OfficeFactory(accepts_paper_collection=True)
    Application.objects.filter(pk=application.pk).update(destination_country="新西兰", collection_office=collection)
    application.refresh_from_db()
    attach_documents(application, ("authorisation", "id_front", "id_back", "photo"))
    assert services.application_missing(application=application) == []


def test_passport_holder_needs_the_data_page_not_the_id_card(citizen, station_a):
    application = ApplicationFactory(
        office=station_a,
        applicant=citizen,
        draft=True,
        holder_id_type=HolderIdType.PASSPORT,
        holder_id_number="E12345678",
    )
    attach_documents(application, ("photo",))
    assert [key for key, _ in services.application_missing(application=application)] == ["documents"]
    attach_documents(application, ("passport",))
    assert services.application_missing(application=application) == []


def test_submit_moves_to_submitted_and_tells_the_applicant_without_the_id_number(citizen, station_a):
    application = ApplicationFactory(office=station_a, applicant=citizen, draft=True, documents=True)
    services.application_submit(application=application, by=citizen)
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED and application.submitted_at is not None
    # The acceptance clock: the station has NCR_ACCEPTANCE_WORKING_DAYS (1) to accept; acceptance starts the 3 days.
    assert application.clock_limit == 1
    assert application.due_date == workdays.add_workdays(timezone.localdate(), 1).date
    sent = messages_for(citizen, "submitted")
    assert {m.channel for m in sent} == {Channel.EMAIL, Channel.SMS}
    for message in sent:
        assert application.case_number in message.body
        assert citizen.id_number not in message.body + message.html_body + message.subject
    sms = next(m for m in sent if m.channel == Channel.SMS)
    assert len(sms.body) <= 140


def test_submit_refused_when_incomplete_unconfirmed_or_not_the_applicant(station_a):
    citizen = UserFactory()
    incomplete = ApplicationFactory(office=station_a, applicant=citizen, draft=True)  # no uploads
    with pytest.raises(ValidationError) as exc:
        services.application_submit(application=incomplete, by=citizen)
    assert any("photo" in m for m in exc.value.messages)

    complete = ApplicationFactory(office=station_a, applicant=citizen, draft=True, documents=True)
    with pytest.raises(TransitionNotAllowed):
        services.application_submit(application=complete, by=UserFactory())
    unconfirmed = UserFactory(unconfirmed=True)
    theirs = ApplicationFactory(office=station_a, applicant=unconfirmed, draft=True, documents=True)
    with pytest.raises(ValidationError, match="Confirm your e-mail"):
        services.application_submit(application=theirs, by=unconfirmed)
    for application in (incomplete, complete, theirs):
        application.refresh_from_db()
        assert application.status == Status.DRAFT
    assert not Transition.objects.exists()


def test_delete_draft_removes_it_and_its_uploads(citizen, station_a, django_capture_on_commit_callbacks, settings):
    application = ApplicationFactory(office=station_a, applicant=citizen, draft=True, documents=True)
    files = [settings.MEDIA_ROOT / "private" / d.file.name for d in Document.objects.all()]
    assert all(f.exists() for f in files)
    with pytest.raises(TransitionNotAllowed):
        services.application_delete_draft(application=application, by=UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        services.application_delete_draft(application=application, by=citizen)
    assert not Application.objects.filter(pk=application.pk).exists()
    assert not Document.objects.exists()
    assert not any(f.exists() for f in files)


# --- the clock -----------------------------------------------------------------------------------------


def test_accept_before_national_day_is_due_after_the_holiday(station_a, officer_a):
    application = ApplicationFactory(office=station_a)
    with time_machine.travel(datetime.datetime(2026, 9, 30, 10, 0, tzinfo=TZ), tick=False):
        services.application_accept(application=application, by=officer_a)
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED
    assert application.clock_started_on == D(2026, 9, 30)
    # 1-7 October are off; Thursday 8 and Friday 9 October and the make-up Saturday 10 October are working days.
    assert application.due_date == D(2026, 10, 10)
    assert not application.deadline_provisional
    [row] = Transition.objects.filter(object_id=application.pk)
    assert (row.from_status, row.to_status, row.actor) == (Status.SUBMITTED, Status.ACCEPTED, officer_a)
    assert messages_for(application.applicant, "accepted")


def test_request_for_information_pauses_and_resubmission_resumes_with_the_days_left(station_a, officer_a):
    application = ApplicationFactory(office=station_a, documents=True)
    citizen = application.applicant
    with time_machine.travel(datetime.datetime(2026, 9, 30, 10, 0, tzinfo=TZ), tick=False):
        services.application_accept(application=application, by=officer_a)
    with time_machine.travel(datetime.datetime(2026, 10, 8, 9, 0, tzinfo=TZ), tick=False):
        with pytest.raises(ValidationError):
            services.application_request_info(application=application, by=officer_a, message="  ")
        services.application_request_info(
            application=application, by=officer_a, message="Upload a clearer photo of the back of the ID card."
        )
    application.refresh_from_db()
    assert application.status == Status.INFO_REQUESTED
    assert application.paused_at is not None and application.workdays_left == 2  # 9 and 10 October were left
    assert application.info_request.startswith("Upload a clearer photo")
    [email] = [m for m in messages_for(citizen, "info_requested") if m.channel == Channel.EMAIL]
    assert "clearer photo" in email.body

    with pytest.raises(TransitionNotAllowed):
        services.application_resubmit(application=application, by=officer_a, reply="x")
    with time_machine.travel(datetime.datetime(2026, 10, 12, 15, 0, tzinfo=TZ), tick=False):  # a Monday
        services.application_resubmit(application=application, by=citizen, reply="New photo uploaded.")
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED
    assert application.paused_at is None and application.workdays_left is None
    assert (application.clock_started_on, application.due_date) == (D(2026, 10, 12), D(2026, 10, 14))
    assert application.citizen_reply == "New photo uploaded."
    assert OutboxMessage.objects.filter(user=officer_a, template="certificates/resubmitted").exists()


def test_request_for_information_only_once_accepted(station_a, officer_a):
    application = ApplicationFactory(office=station_a)
    with pytest.raises(TransitionNotAllowed):
        services.application_request_info(application=application, by=officer_a, message="more")


# --- decisions -----------------------------------------------------------------------------------------


def test_approve_records_the_decision_and_queues_the_certificate_on_commit(
    station_a, officer_a, queued, django_capture_on_commit_callbacks
):
    application = ApplicationFactory(office=station_a, accepted=True)
    with django_capture_on_commit_callbacks() as callbacks:
        services.application_approve(application=application, by=officer_a)
        assert queued == []  # nothing is published before the commit
    assert len(callbacks) >= 1
    for callback in callbacks:
        callback()
    application.refresh_from_db()
    assert application.status == Status.APPROVED
    assert application.decided_by == officer_a and application.decided_at is not None
    assert application.register_checked_at is not None
    assert application.certificate_generation == 1
    assert application.due_date is None  # the clock stopped
    assert queued == [("certificate", application.pk, 1)]


def test_approve_blocked_by_an_unsealed_record(station_a, officer_a, queued, django_capture_on_commit_callbacks):
    application = ApplicationFactory(office=station_a, accepted=True)
    record(application.holder_id_number, age=17, months=61)  # a juvenile, but more than 5 years: not sealed
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(TransitionNotAllowed, match="not sealed"):
            services.application_approve(application=application, by=officer_a)
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED and application.certificate_generation == 0
    assert queued == []


def test_approve_allowed_with_only_a_sealed_juvenile_record(station_a, officer_a, queued):
    application = ApplicationFactory(office=station_a, accepted=True)
    sealed = record(application.holder_id_number, age=16, months=60)
    assert sealed.sealed
    services.application_approve(application=application, by=officer_a)
    application.refresh_from_db()
    assert application.status == Status.APPROVED


def test_register_matches_exactly_on_the_normalised_number(station_a):
    number = make_id_number(birth=D(1990, 1, 1))
    base = number[:-1]
    if number.endswith("X"):
        record(number)
        assert [r.id_number for r in services.register_matches(id_number=base + "x")] == [number]
    else:
        record(number)
        assert services.register_matches(id_number=f" {number[:6]} {number[6:]} ")[0].id_number == number
    assert services.register_matches(id_number=number[:-2]) == []
    assert services.register_matches(id_number="") == []


def test_staff_never_decide_their_own_application(station_a, queued):
    officer = StaffFactory(office=station_a, id_number=make_id_number())
    own = ApplicationFactory(office=station_a, applicant=officer, accepted=True)
    with pytest.raises(TransitionNotAllowed, match="yourself"):
        services.application_approve(application=own, by=officer)
    # Filed by an agent, but the officer is the holder: still their own.
    for_them = ApplicationFactory(
        office=station_a,
        submitted=True,
        for_self=False,
        holder_name=officer.real_name,
        holder_id_number=officer.id_number,
    )
    with pytest.raises(TransitionNotAllowed, match="yourself"):
        services.application_accept(application=for_them, by=officer)
    own.refresh_from_db()
    assert own.status == Status.ACCEPTED and queued == []


def test_officer_of_another_station_cannot_act(station_a, officer_b):
    application = ApplicationFactory(office=station_a)
    with pytest.raises(TransitionNotAllowed, match="another office"):
        services.application_accept(application=application, by=officer_b)
    with pytest.raises(TransitionNotAllowed):
        services.application_accept(application=application, by=application.applicant)  # not staff


def test_two_officers_at_once_one_wins(station_a, officer_a, queued):
    other = StaffFactory(office=station_a)
    application = ApplicationFactory(office=station_a, accepted=True)
    mine = Application.objects.get(pk=application.pk)
    theirs = Application.objects.get(pk=application.pk)  # both opened the review page
    services.application_approve(application=mine, by=officer_a)
    with pytest.raises(TransitionConflict, match="someone else"):
        services.application_refuse(application=theirs, by=other, reason="record found")
    application.refresh_from_db()
    assert application.status == Status.APPROVED and application.certificate_generation == 1
    assert application.refusal_reason == ""
    assert Transition.objects.filter(object_id=application.pk).count() == 1
    assert not messages_for(application.applicant, "refused")


def test_refuse_needs_a_reason_and_queues_the_refusal_notice(
    station_a, officer_a, queued, django_capture_on_commit_callbacks
):
    application = ApplicationFactory(office=station_a, accepted=True)
    with pytest.raises(ValidationError):
        services.application_refuse(application=application, by=officer_a, reason="")
    with django_capture_on_commit_callbacks(execute=True):
        services.application_refuse(
            application=application, by=officer_a, reason="2015年因盗窃罪被判处有期徒刑二年，记录未封存。"
        )
    application.refresh_from_db()
    assert application.status == Status.REFUSED
    assert application.refusal_reason.startswith("2015年")
    assert application.decided_by == officer_a
    assert queued == [("refusal", application.pk, 1)]
    sent = messages_for(application.applicant, "refused")
    email = next(m for m in sent if m.channel == Channel.EMAIL)
    sms = next(m for m in sent if m.channel == Channel.SMS)
    assert "盗窃罪" in email.body and "60 days" in email.body
    assert "盗窃罪" not in sms.body  # an SMS says only that there is a decision


def test_refuse_not_possible_before_acceptance_or_after_approval(station_a, officer_a, queued):
    for status in (Status.SUBMITTED, Status.APPROVED, Status.ISSUED, Status.WITHDRAWN):
        application = ApplicationFactory(office=station_a, status=status)
        with pytest.raises(TransitionNotAllowed):
            services.application_refuse(application=application, by=officer_a, reason="x")


def test_withdraw_by_the_applicant_only_and_only_before_a_decision(station_a, officer_a):
    application = ApplicationFactory(office=station_a, info_requested=True)
    with pytest.raises(TransitionNotAllowed):
        services.application_withdraw(application=application, by=officer_a)
    services.application_withdraw(application=application, by=application.applicant)
    application.refresh_from_db()
    assert application.status == Status.WITHDRAWN and application.due_date is None
    decided = ApplicationFactory(office=station_a, approved=True)
    with pytest.raises(TransitionNotAllowed):
        services.application_withdraw(application=decided, by=decided.applicant)


# --- after issue ------------------------------------------------------------------------------------------


def test_revoke_needs_a_reason_and_revokes_the_document(station_a, officer_a):
    application = ApplicationFactory(office=station_a, issued=True, certificate=True)
    document = services.current_certificate(application=application)
    assert document.status == DocumentStatus.VALID
    with pytest.raises(ValidationError):
        services.certificate_revoke(application=application, by=officer_a, reason=" ", public_reason="Issued in error.")
    with pytest.raises(ValidationError):  # the public reason is asked for too
        services.certificate_revoke(application=application, by=officer_a, reason="Issued to the wrong person.")
    services.certificate_revoke(
        application=application, by=officer_a, reason="Issued to the wrong person.", public_reason="Issued in error."
    )
    document.refresh_from_db()
    application.refresh_from_db()
    assert document.status == DocumentStatus.REVOKED and document.revoked_by == officer_a
    assert application.status == Status.ISSUED
    last = Transition.objects.filter(object_id=application.pk).last()
    assert document.code in last.note and last.actor == officer_a
    assert messages_for(application.applicant, "revoked")
    with pytest.raises(TransitionNotAllowed):  # nothing valid is left to revoke
        services.certificate_revoke(application=application, by=officer_a, reason="again", public_reason="again")


def test_reissue_revokes_the_current_certificate_and_queues_the_next_generation(
    station_a, officer_a, queued, django_capture_on_commit_callbacks
):
    application = ApplicationFactory(office=station_a, issued=True, certificate=True)
    old = services.current_certificate(application=application)
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_reissue(application=application, by=officer_a, reason="Name corrected.")
    application.refresh_from_db()
    old.refresh_from_db()
    assert application.status == Status.APPROVED and application.certificate_generation == 2
    assert old.status == DocumentStatus.REVOKED and "Name corrected." in old.revoke_reason
    assert queued == [("certificate", application.pk, 2)]
    with pytest.raises(TransitionNotAllowed):
        services.certificate_reissue(application=application, by=officer_a, reason="again")


def test_paper_copy_printed_then_collected_for_collection_only(station_a, officer_a):
    collection = OfficeFactory(
        name="二七派出所",
        name_en="Erqi Police Station",
        accepts_paper_collection=True,
        address="郑州市二七区大学路1号",
        opening_hours="周一至周五 9:00-17:00",
    )
    electronic = ApplicationFactory(office=station_a, issued=True, certificate=True)
    with pytest.raises(TransitionNotAllowed):
        services.paper_mark_printed(application=electronic, by=officer_a)

    application = ApplicationFactory(
        office=station_a, delivery=Delivery.COLLECT, collection_office=collection, issued=True, certificate=True
    )
    with pytest.raises(TransitionNotAllowed):
        services.paper_mark_collected(application=application, by=officer_a)  # not printed yet
    services.paper_mark_printed(application=application, by=officer_a)
    application.refresh_from_db()
    assert application.paper_printed_at is not None and application.status == Status.ISSUED
    sent = messages_for(application.applicant, "paper_ready")
    assert {m.channel for m in sent} == {Channel.EMAIL, Channel.SMS}
    for message in sent:
        assert "Erqi Police Station" in message.body and "大学路1号" in message.body and "9:00-17:00" in message.body
        assert application.holder_id_number not in message.body
    with pytest.raises(TransitionNotAllowed):
        services.paper_mark_printed(application=application, by=officer_a)

    stale = Application.objects.get(pk=application.pk)
    services.paper_mark_collected(application=application, by=officer_a)
    application.refresh_from_db()
    assert application.paper_collected_at is not None
    stale.paper_collected_at = None  # a second tab still showing "printed"
    with pytest.raises(TransitionConflict):
        services.paper_mark_collected(application=stale, by=officer_a)


def test_available_actions_follow_the_state(station_a):
    assert services.available_actions(application=ApplicationFactory(office=station_a)) == ["accept"]
    accepted = ApplicationFactory(office=station_a, accepted=True)
    assert services.available_actions(application=accepted) == ["request_info", "approve", "refuse"]
    assert services.available_actions(application=ApplicationFactory(office=station_a, refused=True)) == []
    application = ApplicationFactory(office=station_a, delivery=Delivery.COLLECT, issued=True, certificate=True)
    document = services.current_certificate(application=application)
    assert services.available_actions(application=application, certificate=document) == [
        "revoke",
        "reissue",
        "paper_printed",
    ]


def test_validity_is_three_months_by_default_and_a_setting(settings):
    assert services.certificate_valid_until(D(2026, 11, 30)) == D(2027, 2, 27)
    assert services.certificate_valid_until(D(2026, 1, 15)) == D(2026, 4, 14)
    settings.CERTIFICATE_VALIDITY_MONTHS = 6
    assert services.certificate_valid_until(D(2026, 8, 31)) == D(2027, 2, 27)


# --- the registry: /me/ and /track/ -----------------------------------------------------------------------


def test_cases_for_user_and_public_tracking(station_a, client):
    citizen = UserFactory(real_name="王小明", language="en")
    application = ApplicationFactory(office=station_a, applicant=citizen)
    draft = ApplicationFactory(office=station_a, applicant=citizen, draft=True)
    ApplicationFactory(office=station_a)  # someone else's
    summaries = cases_for_user(citizen)
    assert {s.case_number for s in summaries} == {application.case_number, draft.case_number}
    assert all(s.url == f"/certificates/{s.case_number}/" for s in summaries)

    last_four = application.holder_id_number[-4:]
    assert track(application.case_number, last_four.lower()).case_number == application.case_number
    assert track(application.case_number, "王小明") is None  # names are no second factor
    assert track(application.case_number, application.holder_id_number[-5:]) is None
    assert track(draft.case_number, last_four) is None  # a draft is not a case yet
    found = track(application.case_number, last_four)
    assert found.full is None  # signed out: the outcome of a certificate case is not shown
    assert application.holder_id_number not in str(found)


def test_no_paper_copy_for_a_revoked_certificate(station_a, officer_a):
    collection = OfficeFactory(accepts_paper_collection=True, address="郑州市金水区经八路12号")
    application = ApplicationFactory(
        office=station_a, delivery=Delivery.COLLECT, collection_office=collection, issued=True, certificate=True
    )
    certificate = services.current_certificate(application=application)
    assert "paper_printed" in services.available_actions(application=application, certificate=certificate)
    services.certificate_revoke(
        application=application, by=officer_a, reason="Issued in error.", public_reason="Issued in error."
    )
    certificate.refresh_from_db()
    assert "paper_printed" not in services.available_actions(application=application, certificate=certificate)
    with pytest.raises(TransitionNotAllowed):
        services.paper_mark_printed(application=application, by=officer_a)
    application.refresh_from_db()
    assert application.paper_printed_at is None
