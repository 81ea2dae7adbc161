"""The citizen's feedback pages and the public monthly figures."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from accounts.models import Office, Role
from familyplanning.models import Status
from portal.feedback import services as feedback
from portal.feedback.models import Feedback, FeedbackKind, Rating
from portal.notify.models import OutboxMessage
from tests.factories import FamilyPlanningApplicationFactory, FeedbackFactory, OfficeFactory, StaffFactory

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 18, 2, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def english(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def signed_in(client, citizen):
    client.force_login(citizen)
    return client


NAMES = {"feedback": "index", "feedback_detail": "detail", "feedback_figures": "figures"}


def url(name, *args):
    """A feedback page's address; a rated case is named by its service key and number (a family-planning one here)."""
    if name == "rate" and len(args) == 1:
        args = ("familyplanning", *args)
    return reverse(f"feedback:{NAMES.get(name, name)}", args=args)


def flash(response):
    return [str(m) for m in response.wsgi_request._messages]


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


# --- login and IDOR ------------------------------------------------------------------------------------------


def test_citizen_pages_need_a_login_and_the_figures_do_not(client, office):
    for name, args in [
        ("feedback", ()),
        ("rate_office", ()),
        ("rate", ("FP-20261118-00001",)),
        ("complain", ()),
        ("suggest", ()),
        ("consult", ()),
        ("feedback_detail", ("FB-20261118-00001",)),
    ]:
        response = client.get(url(name, *args))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), name
    assert client.get(url("feedback_figures")).status_code == 200
    assert url("consult") == "/feedback/consultation/"
    assert url("rate", "FP-20261118-00001") == "/feedback/rate/familyplanning/FP-20261118-00001/"


def test_someone_elses_case_and_feedback_are_404(signed_in, office, other_citizen):
    theirs = FamilyPlanningApplicationFactory(office=office, applicant=other_citizen, issued=True)
    assert signed_in.get(url("rate", theirs.case_number)).status_code == 404
    assert signed_in.post(url("rate", theirs.case_number), {"level": "1", "reasons": ["slow"]}).status_code == 404
    item = FeedbackFactory(applicant=other_citizen, office=office)
    assert signed_in.get(url("feedback_detail", item.case_number)).status_code == 404
    assert signed_in.get(url("feedback_detail", "FB-20990101-00001")).status_code == 404
    assert not Rating.objects.exists()


# --- rating ----------------------------------------------------------------------------------------------------


def test_rate_a_decided_case_poorly_opens_a_follow_up_shown_on_my_feedback(signed_in, citizen, office):
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen, issued=True)
    page = signed_in.get(url("feedback"))
    assert url("rate", application.case_number) in page.content.decode()  # offered under "cases you can rate"
    form = signed_in.get(url("rate", application.case_number))
    assert form.status_code == 200 and application.case_number in form.content.decode()

    response = signed_in.post(
        url("rate", application.case_number), {"level": "2", "reasons": ["slow", "several_trips"], "comment": "Slow."}
    )
    # Back to the case's own page, which now shows the rating and its follow-up instead of the link.
    case_page = f"/familyplanning/{application.case_number}/"
    assert response.status_code == 302 and response["Location"] == case_page
    rating = Rating.objects.get()
    follow_up = rating.follow_up
    shown = text(signed_in.get(case_page))
    assert 'data-testid="your-rating"' in shown and follow_up.case_number in shown and 'data-testid="rate"' not in shown
    assert (rating.service, rating.case_number) == ("familyplanning", application.case_number) and rating.reasons == [
        "slow",
        "several_trips",
    ]
    assert follow_up.case_number in flash(response)[0] and "2026-12-09" in flash(response)[0]

    listing = text(signed_in.get(url("feedback")))
    assert follow_up.case_number in listing and "Dissatisfied" in listing
    assert url("rate", application.case_number) not in listing  # rated: no longer offered

    again = signed_in.get(url("rate", application.case_number))
    assert again.status_code == 302 and "already rated" in flash(again)[0]


def test_rating_with_reasons_that_do_not_fit_is_refused_with_the_reason(signed_in, citizen, office):
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen, issued=True)
    response = signed_in.post(url("rate", application.case_number), {"level": "5", "reasons": ["discourteous"]})
    assert response.status_code == 400
    assert "choose reasons from the list of what went well" in text(response)
    response = signed_in.post(url("rate", application.case_number), {"level": "1"})
    assert response.status_code == 400 and "at least one reason" in text(response)
    assert not Rating.objects.exists()


def test_an_undecided_case_cannot_be_rated_yet(signed_in, citizen, office):
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen, status=Status.ACCEPTED)
    response = signed_in.get(url("rate", application.case_number))
    assert response.status_code == 302 and "once a decision has been made" in flash(response)[0]
    response = signed_in.post(url("rate", application.case_number), {"level": "5"})
    assert response.status_code == 302 and not Rating.objects.exists()


def test_rate_an_office_once_a_month(signed_in, office, station_a):
    page = signed_in.get(url("rate_office")).content.decode()
    assert office.name_en in page and station_a.name_en not in page  # only family-planning offices
    response = signed_in.post(url("rate_office"), {"office": office.pk, "level": "4", "reasons": ["courteous"]})
    assert response.status_code == 302 and Rating.objects.get().office == office
    response = signed_in.post(url("rate_office"), {"office": office.pk, "level": "5"})
    assert response.status_code == 400 and "already rated" in text(response)
    assert Rating.objects.count() == 1


# --- complaints, suggestions, consultations --------------------------------------------------------------------


def test_complaint_about_a_case_and_a_member_of_staff(signed_in, citizen, office, other_citizen):
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen, status=Status.ACCEPTED)
    theirs = FamilyPlanningApplicationFactory(office=office, applicant=other_citizen, issued=True)
    page = signed_in.get(url("complain")).content.decode()
    assert application.case_number in page and theirs.case_number not in page
    response = signed_in.post(
        url("complain"),
        {
            "application": f"familyplanning:{application.case_number}",
            "staff_named": "No. 1234",
            "subject": "Asked for the same paper three times",
            "body": "Please look into it.",
        },
    )
    item = Feedback.objects.get()
    assert response.status_code == 302 and response["Location"] == url("feedback_detail", item.case_number)
    assert item.kind == FeedbackKind.COMPLAINT and item.office == office and item.staff_named == "No. 1234"
    detail = text(signed_in.get(url("feedback_detail", item.case_number)))
    assert "Asked for the same paper three times" in detail and "No. 1234" in detail
    assert "Not answered yet" in detail and "2026-12-09" in detail

    # Someone else's case is not a choice (the form refuses it; the service would too).
    response = signed_in.post(
        url("complain"), {"application": f"familyplanning:{theirs.case_number}", "subject": "x", "body": "y"}
    )
    assert response.status_code == 400 and Feedback.objects.count() == 1


def test_consultation_from_a_policy_page_prefills_the_topic(signed_in, office):
    page = signed_in.get(url("consult") + "?topic=Birth+registration+policy")
    assert page.status_code == 200 and 'value="Birth registration policy"' in page.content.decode()
    assert "staff_named" not in page.content.decode()
    response = signed_in.post(
        url("consult"), {"office": office.pk, "subject": "Birth registration policy", "body": "Is it free?"}
    )
    item = Feedback.objects.get()
    assert response.status_code == 302 and item.kind == FeedbackKind.CONSULTATION
    assert item.due_date == datetime.date(2026, 11, 25)


def test_suggestion_needs_an_office_subject_and_message(signed_in, office):
    response = signed_in.post(url("suggest"), {"subject": "", "body": ""})
    assert response.status_code == 400 and not Feedback.objects.exists()
    response = signed_in.post(url("suggest"), {"office": office.pk, "subject": "Hours", "body": "Open on Saturdays."})
    assert response.status_code == 302 and Feedback.objects.get().kind == FeedbackKind.SUGGESTION


def test_the_answer_is_shown_to_the_citizen_with_the_timeline(signed_in, citizen, office):
    item = FeedbackFactory(applicant=citizen, office=office)
    officer = StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER)
    feedback.answer(feedback=item, by=officer, text="We have spoken to the officer.\nSorry.")
    detail = text(signed_in.get(url("feedback_detail", item.case_number)))
    assert "We have spoken to the officer." in detail and "within the time limit" in detail
    assert "Awaiting an answer" in detail and "Answered" in detail  # the timeline
    assert "Not answered yet" not in detail
    me = signed_in.get("/me/").content.decode()
    assert item.case_number in me and url("feedback_detail", item.case_number) in me


# --- public figures --------------------------------------------------------------------------------------------


def test_figures_page_shows_the_numbers_and_states_the_definition(client, office, other_office, citizen):
    officer = StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER)
    for level in (5, 4, 2, 1):
        Rating.objects.create(citizen=citizen, office=office, level=level)
    late = FeedbackFactory(applicant=citizen, office=office)
    FeedbackFactory(applicant=citizen, office=office)
    with time_machine.travel(datetime.datetime(2026, 12, 15, 2, 0, tzinfo=datetime.UTC), tick=False):
        feedback.answer(feedback=late, by=officer, text="Late answer")
        response = client.get(url("feedback_figures") + "?month=2026-11")
    html = response.content.decode()
    row = re.search(rf'<tr data-office="{office.pk}">(.*?)</tr>', html, re.S).group(1)
    cells = dict(re.findall(r'data-col="([a-z-]+)">(.*?)</td>', row, re.S))
    assert cells["ratings"] == "4"
    assert cells["satisfaction"] == "50.0%"
    assert cells["average"] == "3.00"
    assert cells["complaints"] == "2"
    # One answered late, one open past its limit (due 9 December): 0 of 2 on time.
    assert cells["on-time"].startswith("0.0%") and "(0/2)" in cells["on-time"]
    other = re.search(rf'<tr data-office="{other_office.pk}">(.*?)</tr>', html, re.S).group(1)
    assert "—" in other
    assert "levels 3 to 5" in text(response)
    assert 'value="2026-11" selected' in html and 'value="2026-12"' in html


def test_figures_month_selector_falls_back_to_the_current_month(client, office):
    response = client.get(url("feedback_figures") + "?month=1999-01")
    assert response.status_code == 200 and response.context["month"] == datetime.date(2026, 11, 1)
    response = client.get(url("feedback_figures") + "?month=nonsense")
    assert response.context["month"] == datetime.date(2026, 11, 1)


def test_figures_queries_do_not_grow_with_the_number_of_offices(client, citizen, django_assert_max_num_queries):
    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY_HEALTH_COMMISSION)

    def add_offices(n):
        for _ in range(n):
            office = OfficeFactory(kind=Office.Kind.FAMILY_PLANNING, parent=zhengzhou)
            Rating.objects.create(citizen=citizen, office=office, level=4)
            FeedbackFactory(applicant=citizen, office=office)

    add_offices(2)
    with django_assert_max_num_queries(8) as few:
        client.get(url("feedback_figures"))
    add_offices(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("feedback_figures"))
    assert len(response.context["rows"]) == 10


def test_staff_accounts_cannot_file(client, office):
    officer = StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER)
    client.force_login(officer)
    response = client.post(url("complain"), {"office": office.pk, "subject": "x", "body": "y"})
    assert response.status_code == 400 and "Staff accounts" in text(response)
    assert not Feedback.objects.exists() and not OutboxMessage.objects.exists()
