"""Ratings (好差评), complaints, suggestions, consultations and follow-ups: the rules in portal.feedback.services."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.models import Office, Role
from familyplanning.models import Status
from portal import registry
from portal.cases.deadlines import send_deadline_digests, sweep_deadlines
from portal.cases.models import DueState
from portal.cases.services import TransitionConflict, TransitionNotAllowed, transition
from portal.cases.tracking import track
from portal.feedback import services as feedback
from portal.feedback.models import Feedback, FeedbackKind, FeedbackStatus, Rating
from portal.notify.models import OutboxMessage
from tests.factories import FamilyPlanningApplicationFactory, FeedbackFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 18, 2, 0, tzinfo=datetime.UTC)  # Wednesday 18 November 2026, 10:00 in Beijing


@pytest.fixture(autouse=True)
def setup(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


def outbox(user, channel=None):
    messages = OutboxMessage.objects.filter(user=user)
    return messages.filter(channel=channel) if channel else messages


# --- reasons must fit the level ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "reasons", "comment", "field"),
    [
        (5, ["slow"], "", "reasons"),  # a poor reason with a satisfied rating
        (4, ["discourteous", "quick"], "", "reasons"),
        (1, ["courteous"], "", "reasons"),  # a good reason with a dissatisfied rating
        (2, [], "", "reasons"),  # dissatisfied without saying why
        (1, ["other"], "", "comment"),  # "other" without saying what
        (3, ["no_such_reason"], "", "reasons"),
        (6, [], "", "level"),
        ("x", [], "", "level"),
        (0, [], "", "level"),
    ],
)
def test_reasons_must_fit_the_level(level, reasons, comment, field):
    with pytest.raises(ValidationError) as caught:
        feedback.clean_rating(level, reasons, comment)
    assert field in caught.value.message_dict


def test_fitting_reasons_are_kept_in_list_order_without_duplicates():
    assert feedback.clean_rating("5", ["courteous", "quick", "quick"], " Thanks ") == (
        5,
        ["quick", "courteous"],
        "Thanks",
    )
    assert feedback.clean_rating(4, [], "") == (4, [], "")  # reasons are optional when satisfied
    # "Fairly satisfied" may say what went well and what could be better.
    assert feedback.clean_rating(3, ["slow", "courteous"], "")[1] == ["courteous", "slow"]
    assert feedback.clean_rating(1, ["other"], "Lost my file")[1] == ["other"]
    assert feedback.clean_rating(2, ["several_trips"], "")[1] == ["several_trips"]
    assert {r.code for r in feedback.reasons_for_level(5)} & {r.code for r in feedback.reasons_for_level(1)} == set()


# --- rating a case -----------------------------------------------------------------------------------------


def test_a_good_rating_of_a_decided_case_opens_nothing(office, citizen):
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen, issued=True)
    rating = feedback.rate(citizen=citizen, case=application, level=5, reasons=["quick"], comment="")
    assert rating.office == office and rating.case_number == application.case_number and rating.reasons == ["quick"]
    assert not Feedback.objects.exists()
    assert not outbox(citizen).exists()


def test_a_poor_rating_opens_a_follow_up_with_its_clock_running(office, citizen, officer):
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen, refused=True)
    rating = feedback.rate(
        citizen=citizen, case=application, level=1, reasons=["slow", "discourteous"], comment="Nobody called."
    )
    follow_up = Feedback.objects.get()
    assert follow_up.rating == rating and rating.follow_up == follow_up
    assert follow_up.kind == FeedbackKind.FOLLOW_UP and follow_up.status == FeedbackStatus.OPEN
    assert (
        follow_up.office == office
        and follow_up.about_case_number == application.case_number
        and follow_up.applicant == citizen
    )
    assert follow_up.case_number.startswith("FB-20261118-")
    assert follow_up.body == "Nobody called."
    # 15 working days from Wednesday 18 November (day 0): Wednesday 9 December.
    assert follow_up.clock_limit == 15 and follow_up.clock_started_on == datetime.date(2026, 11, 18)
    assert follow_up.due_date == datetime.date(2026, 12, 9)
    assert [t.to_status for t in follow_up.timeline()] == ["open"]
    # The citizen is told it will be followed up; the office's staff are told there is something to answer.
    assert {m.channel for m in outbox(citizen)} == {"email", "sms"}
    assert "2026-12-09" in outbox(citizen, "email").get().body
    assert follow_up.case_number in outbox(officer).get().subject


def test_a_dissatisfied_rating_level_2_also_opens_a_follow_up(office, citizen):
    feedback.rate(citizen=citizen, office=office, level=2, reasons=["several_trips"])
    assert Feedback.objects.get().kind == FeedbackKind.FOLLOW_UP
    feedback.rate(citizen=UserFactory(), office=office, level=3, reasons=["slow"])
    assert Feedback.objects.count() == 1  # "fairly satisfied" is not a poor rating


def test_a_case_is_rated_once(office, citizen):
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen, issued=True)
    feedback.rate(citizen=citizen, case=application, level=4)
    assert not feedback.can_rate(citizen=citizen, case=application)
    with pytest.raises(TransitionNotAllowed):
        feedback.rate(citizen=citizen, case=application, level=1, reasons=["slow"])
    assert Rating.objects.count() == 1 and not Feedback.objects.exists()


@pytest.mark.parametrize("status", [Status.APPROVED, Status.ISSUED, Status.REFUSED])
def test_a_decided_case_can_be_rated(office, citizen, status):
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen, status=status)
    assert feedback.can_rate(citizen=citizen, case=application)
    feedback.rate(citizen=citizen, case=application, level=5)


@pytest.mark.parametrize(
    "status", [Status.DRAFT, Status.SUBMITTED, Status.ACCEPTED, Status.INFO_REQUESTED, Status.WITHDRAWN]
)
def test_a_case_without_a_decision_cannot_be_rated(office, citizen, status):
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen, status=status)
    assert not feedback.can_rate(citizen=citizen, case=application)
    with pytest.raises(TransitionNotAllowed):
        feedback.rate(citizen=citizen, case=application, level=5)
    assert not Rating.objects.exists()


def test_only_the_applicant_rates_a_case(office, citizen, other_citizen, officer):
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen, issued=True)
    assert not feedback.can_rate(citizen=other_citizen, case=application)
    with pytest.raises(TransitionNotAllowed):
        feedback.rate(citizen=other_citizen, case=application, level=1, reasons=["slow"])
    with pytest.raises(TransitionNotAllowed):  # staff accounts do not rate
        feedback.rate(citizen=officer, office=office, level=5)
    assert not Rating.objects.exists() and not Feedback.objects.exists()


# --- rating an office --------------------------------------------------------------------------------------


def test_an_office_is_rated_once_a_month_by_each_citizen(office, citizen):
    feedback.rate(citizen=citizen, office=office, level=4, reasons=["courteous"])
    with pytest.raises(TransitionNotAllowed):
        feedback.rate(citizen=citizen, office=office, level=5)
    feedback.rate(citizen=UserFactory(), office=office, level=5)  # another citizen
    # A case of the same office is rated on its own.
    feedback.rate(
        citizen=citizen,
        case=FamilyPlanningApplicationFactory(office=office, applicant=citizen, issued=True),
        level=5,
    )
    with time_machine.travel(datetime.datetime(2026, 12, 1, 0, 30, tzinfo=datetime.UTC), tick=False):
        feedback.rate(citizen=citizen, office=office, level=5)  # 1 December in Beijing: a new month
    assert Rating.objects.filter(citizen=citizen, case_number="").count() == 2


def test_only_active_family_planning_offices_are_rated_without_a_case(citizen, station_a, office):
    with pytest.raises(ValidationError) as caught:
        feedback.rate(citizen=citizen, office=station_a, level=5)
    assert "office" in caught.value.message_dict
    with pytest.raises(ValidationError):
        feedback.rate(citizen=citizen, level=5)
    Office.objects.filter(pk=office.pk).update(active=False)
    office.refresh_from_db()
    with pytest.raises(ValidationError):
        feedback.rate(citizen=citizen, office=office, level=5)


# --- complaints, suggestions and consultations -----------------------------------------------------------


def test_a_complaint_runs_15_working_days_and_a_consultation_5(office, citizen, officer):
    item = FeedbackFactory(applicant=citizen, office=office, staff_named="  Officer   Zhou ")
    assert item.status == FeedbackStatus.OPEN and item.staff_named == "Officer Zhou"
    assert item.due_date == datetime.date(2026, 12, 9)
    question = feedback.file_feedback(
        citizen=citizen,
        kind=FeedbackKind.CONSULTATION,
        office=office,
        subject="Second child",
        body="Do we need to register a second child?",
        staff_named="ignored for questions",
    )
    assert question.clock_limit == 5 and question.due_date == datetime.date(2026, 11, 25)
    assert question.staff_named == ""
    suggestion = feedback.file_feedback(
        citizen=citizen, kind=FeedbackKind.SUGGESTION, office=office, subject="Hours", body="Open on Saturdays."
    )
    assert suggestion.clock_limit == 15
    assert outbox(officer).count() == 3
    assert outbox(citizen, "sms").count() == 3


def test_a_complaint_about_a_case_goes_to_the_cases_office(office, other_office, citizen, other_citizen):
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen, status=Status.ACCEPTED)
    item = FeedbackFactory(applicant=citizen, office=None, case=application)
    assert item.office == office and (item.about_service, item.about_case_number) == (
        "familyplanning",
        application.case_number,
    )
    with pytest.raises(ValidationError) as caught:  # the case was handled elsewhere
        FeedbackFactory(applicant=citizen, office=other_office, case=application)
    assert "office" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:  # someone else's case
        FeedbackFactory(applicant=other_citizen, office=None, case=application)
    assert "application" in caught.value.message_dict
    draft = FamilyPlanningApplicationFactory(office=office, applicant=citizen, draft=True)
    with pytest.raises(ValidationError):
        FeedbackFactory(applicant=citizen, office=None, case=draft)
    assert Feedback.objects.count() == 1


def test_feedback_needs_an_office_a_subject_and_a_message(citizen, office, station_a):
    with pytest.raises(ValidationError) as caught:
        feedback.file_feedback(citizen=citizen, kind=FeedbackKind.COMPLAINT, office=None, subject=" ", body="")
    assert set(caught.value.message_dict) == {"office", "subject", "body"}
    with pytest.raises(ValidationError):  # a police station is not answered here
        FeedbackFactory(applicant=citizen, office=station_a)
    with pytest.raises(ValidationError):  # follow-ups are opened by ratings only
        feedback.file_feedback(citizen=citizen, kind=FeedbackKind.FOLLOW_UP, office=office, subject="x", body="y")
    assert not Feedback.objects.exists()


def test_an_account_files_at_most_ten_messages_a_day(citizen, office):
    for n in range(feedback.DAILY_FILING_LIMIT):
        FeedbackFactory(applicant=citizen, office=office, subject=f"Complaint {n}")
    with pytest.raises(TransitionNotAllowed):
        FeedbackFactory(applicant=citizen, office=office)
    with time_machine.travel(NOW + datetime.timedelta(hours=25), tick=False):
        FeedbackFactory(applicant=citizen, office=office)


# --- answers -------------------------------------------------------------------------------------------------


def test_answer_closes_it_on_time_and_tells_the_citizen(office, citizen, officer):
    item = FeedbackFactory(applicant=citizen, office=office)
    OutboxMessage.objects.all().delete()
    with pytest.raises(ValidationError):
        feedback.answer(feedback=item, by=officer, text="  ")
    with time_machine.travel(datetime.datetime(2026, 12, 9, 9, 0, tzinfo=datetime.UTC), tick=False):  # the last day
        feedback.answer(feedback=item, by=officer, text="We apologise; the officer has been spoken to.")
    item.refresh_from_db()
    assert item.status == FeedbackStatus.ANSWERED and item.answered_on_time is True
    assert item.answered_by == officer and item.answer.startswith("We apologise")
    assert item.due_date is None and item.clock_limit is None  # the clock stopped
    assert [t.to_status for t in item.timeline()] == ["open", "answered"]
    email = outbox(citizen, "email").get()
    assert item.case_number in email.subject and "We apologise" in email.body
    sms = outbox(citizen, "sms").get()
    assert item.case_number in sms.body and "apologise" not in sms.body  # the answer is read after signing in
    with pytest.raises(TransitionNotAllowed):  # answered once
        feedback.answer(feedback=item, by=officer, text="Again")


def test_a_late_answer_is_recorded_as_late(office, citizen, officer):
    item = FeedbackFactory(applicant=citizen, office=office)
    with time_machine.travel(datetime.datetime(2026, 12, 10, 2, 0, tzinfo=datetime.UTC), tick=False):
        feedback.answer(feedback=item, by=officer, text="Sorry for the delay.")
    item.refresh_from_db()
    assert item.answered_on_time is False


def test_who_may_answer(office, other_office, citizen, officer, supervisor):
    item = FeedbackFactory(applicant=citizen, office=office, staff_named="周主任")
    other_officer = StaffFactory(office=other_office, role=Role.FAMILY_PLANNING_OFFICER)
    police = StaffFactory(office=office, role=Role.POLICE_OFFICER)
    named = StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER, real_name="周主任")
    for refused in (other_officer, police, named, citizen, None):
        with pytest.raises(TransitionNotAllowed):
            feedback.answer(feedback=item, by=refused, text="Answer")
    assert "another office" in feedback.answer_refusal(other_officer, item)
    assert "names you" in feedback.answer_refusal(named, item)
    assert feedback.answer_refusal(officer, item) == ""
    feedback.answer(feedback=item, by=supervisor, text="Looked into by the city.")  # the office above
    assert item.status == FeedbackStatus.ANSWERED


def test_two_officers_answering_at_once_one_wins(office, citizen, officer):
    item = FeedbackFactory(applicant=citizen, office=office)
    stale = Feedback.objects.get(pk=item.pk)
    feedback.answer(feedback=item, by=officer, text="First")
    with pytest.raises(TransitionConflict):
        transition(stale, to=FeedbackStatus.ANSWERED, by=officer, answer="Second")
    item.refresh_from_db()
    assert item.answer == "First"


# --- the deadline sweep ----------------------------------------------------------------------------------------


def test_an_unanswered_complaint_becomes_overdue_and_reaches_the_supervisor(office, citizen, officer, supervisor):
    item = FeedbackFactory(applicant=citizen, office=office)
    answered = FeedbackFactory(applicant=citizen, office=office, subject="Answered in time")
    feedback.answer(feedback=answered, by=officer, text="Done.")
    OutboxMessage.objects.all().delete()
    models = registry.case_models()
    assert Feedback in models

    # The last working day (9 December): due soon, the office is reminded, the supervisor not yet.
    sweep_deadlines(models, today=datetime.date(2026, 12, 9))
    send_deadline_digests()  # the notify task the sweep publishes
    item.refresh_from_db()
    assert item.due_state == DueState.DUE_SOON
    reminder = outbox(officer).get()
    assert reminder.template.startswith("cases/deadline") and item.case_number in reminder.body
    assert not outbox(supervisor).exists()

    # The next day it is overdue: the office and its supervisor are told, once.
    counts = sweep_deadlines(models, today=datetime.date(2026, 12, 10))
    send_deadline_digests()
    assert counts["overdue"] == 1
    item.refresh_from_db()
    assert item.due_state == DueState.OVERDUE
    escalation = outbox(supervisor).get()
    assert escalation.template.startswith("cases/deadline") and item.case_number in escalation.body
    assert "overdue" in escalation.subject.lower()
    assert answered.case_number not in escalation.body
    sweep_deadlines(models, today=datetime.date(2026, 12, 11))
    send_deadline_digests()
    assert outbox(supervisor).count() == 1
    answered.refresh_from_db()
    assert answered.due_state == DueState.NONE


# --- /me/ and /track/ ------------------------------------------------------------------------------------------


def test_me_lists_the_citizens_feedback_and_track_finds_it(office, citizen, other_citizen):
    item = FeedbackFactory(applicant=citizen, office=office)
    FeedbackFactory(applicant=other_citizen, office=office)
    mine = [c for c in registry.cases_for_user(citizen) if c.case_number.startswith("FB-")]
    assert [c.case_number for c in mine] == [item.case_number]
    assert mine[0].url == f"/feedback/{item.case_number}/"
    assert mine[0].title == "Complaint" and mine[0].due_date == datetime.date(2026, 12, 9)

    found = track(item.case_number.lower(), citizen.id_number[-4:].lower())
    assert found is not None and found.case_number == item.case_number and found.full.url == ""
    assert [label for _at, label in found.full.timeline] == ["Awaiting an answer"]
    assert track(item.case_number, f" {citizen.id_number[-4:]} ").case_number == item.case_number
    assert track(item.case_number, citizen.real_name) is None  # names are no second factor
    assert track(item.case_number, "0000" if citizen.id_number[-4:] != "0000" else "1111") is None


# --- public figures ------------------------------------------------------------------------------------------


def _rating_at(when, **kwargs):
    with time_machine.travel(when, tick=False):
        return Rating.objects.create(**kwargs)


def _complaint_at(when, citizen, office):
    with time_machine.travel(when, tick=False):
        return FeedbackFactory(applicant=citizen, office=office)


def test_monthly_figures_for_a_known_data_set(office, other_office, citizen, officer):
    november = datetime.datetime(2026, 11, 3, 2, 0, tzinfo=datetime.UTC)
    for level in (5, 4, 3, 2, 1):
        _rating_at(november, citizen=citizen, office=office, level=level)
    _rating_at(november, citizen=citizen, office=other_office, level=5)
    # The evening of 31 October in UTC is already 1 November in Beijing; 30 November 16:30 UTC is 1 December.
    _rating_at(datetime.datetime(2026, 10, 31, 17, 0, tzinfo=datetime.UTC), citizen=citizen, office=office, level=4)
    _rating_at(datetime.datetime(2026, 11, 30, 16, 30, tzinfo=datetime.UTC), citizen=citizen, office=office, level=1)
    _rating_at(datetime.datetime(2026, 10, 31, 15, 0, tzinfo=datetime.UTC), citizen=citizen, office=office, level=1)

    answered_on_time = _complaint_at(november, citizen, office)
    answered_late = _complaint_at(november, citizen, office)
    open_overdue = _complaint_at(november, citizen, office)  # due 24 November
    _complaint_at(NOW, citizen, office)  # still within its time limit on 1 December: not counted yet
    with time_machine.travel(datetime.datetime(2026, 11, 10, 2, 0, tzinfo=datetime.UTC), tick=False):
        feedback.answer(feedback=answered_on_time, by=officer, text="Answer")
    with time_machine.travel(datetime.datetime(2026, 11, 30, 2, 0, tzinfo=datetime.UTC), tick=False):
        feedback.answer(feedback=answered_late, by=officer, text="Answer")
    assert open_overdue.due_date == datetime.date(2026, 11, 24)

    rows, total = feedback.monthly_figures(month=datetime.date(2026, 11, 1), today=datetime.date(2026, 12, 1))
    by_office = {row.office.pk: row for row in rows}
    mine = by_office[office.pk]
    assert mine.ratings == 6  # the five of 3 November and the one of 1 November 01:00 in Beijing
    assert mine.satisfied == 4 and mine.satisfaction == pytest.approx(400 / 6)
    assert mine.average == pytest.approx((5 + 4 + 3 + 2 + 1 + 4) / 6)
    assert mine.complaints == 4
    assert (mine.complaints_decided, mine.complaints_on_time) == (3, 1)
    assert mine.on_time_share == pytest.approx(100 / 3)
    theirs = by_office[other_office.pk]
    assert (theirs.ratings, theirs.satisfaction, theirs.average) == (1, 100.0, 5.0)
    assert theirs.complaints == 0 and theirs.on_time_share is None
    assert (total.ratings, total.satisfied, total.complaints) == (7, 5, 4)
    assert total.average == pytest.approx(24 / 7)

    december, _ = feedback.monthly_figures(month=datetime.date(2026, 12, 1), today=datetime.date(2026, 12, 1))
    assert {row.office.pk: row.ratings for row in december}[office.pk] == 1
    assert {row.office.pk: row.average for row in december}[other_office.pk] is None
    with time_machine.travel(datetime.datetime(2026, 12, 1, 2, 0, tzinfo=datetime.UTC), tick=False):
        assert feedback.figures_months() == [
            datetime.date(2026, 12, 1),
            datetime.date(2026, 11, 1),
            datetime.date(2026, 10, 1),
        ]


def test_figures_months_without_data_offer_the_current_month():
    assert feedback.figures_months(datetime.date(2026, 11, 18)) == [datetime.date(2026, 11, 1)]
