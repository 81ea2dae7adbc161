"""好差评 for every service (一事一评): a decided certificate or hukou case is rated once by its applicant from its own
page; a poor rating opens a follow-up for the deciding office, which only that office's staff (and its agency's
supervisors above it) see; the answer to a complaint is rated too."""

import datetime

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from accounts.models import Office, Role
from portal.cases.services import TransitionNotAllowed
from portal.feedback import services as feedback
from portal.feedback.models import Feedback, FeedbackKind, Rating
from tests.factories import (
    ApplicationFactory,
    FeedbackFactory,
    MigrationApplicationFactory,
    OfficeFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 18, 2, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def english(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


def _station(name, code):
    return OfficeFactory(name=name, kind=Office.Kind.POLICE_STATION, division_code=code)


def test_a_decided_certificate_case_is_rated_once_from_its_page(client, citizen):
    case = ApplicationFactory(applicant=citizen, issued=True)
    client.force_login(citizen)
    page = client.get(f"/certificates/{case.case_number}/").content.decode()
    rate_url = reverse("feedback:rate", args=["certificates", case.case_number])
    assert 'data-testid="rate"' in page and rate_url in page
    assert rate_url in client.get(reverse("me")).content.decode()  # /me/ offers it too

    response = client.post(rate_url, {"level": "5", "reasons": ["quick", "online_easy"]})
    assert response.status_code == 302 and response["Location"] == f"/certificates/{case.case_number}/"
    rating = Rating.objects.get()
    assert (rating.service, rating.case_number, rating.office) == ("certificates", case.case_number, case.office)
    page = client.get(f"/certificates/{case.case_number}/").content.decode()
    assert 'data-testid="your-rating"' in page and "Very satisfied" in page and rate_url not in page
    assert rate_url not in client.get(reverse("me")).content.decode()

    # Once per case: the page says so, the rule refuses, and the database refuses a second row.
    again = client.post(rate_url, {"level": "1", "reasons": ["slow"]})
    assert again.status_code == 302 and Rating.objects.count() == 1
    with pytest.raises(TransitionNotAllowed):
        feedback.rate(citizen=citizen, case=case, level=1, reasons=["slow"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(
            citizen=citizen, office=case.office, service="certificates", case_number=case.case_number, level=3
        )


def test_an_undecided_or_withdrawn_case_or_someone_elses_cannot_be_rated(client, citizen, other_citizen):
    open_case = ApplicationFactory(applicant=citizen, accepted=True)
    withdrawn = MigrationApplicationFactory(applicant=citizen, withdrawn=True)
    theirs = ApplicationFactory(applicant=other_citizen, issued=True)
    client.force_login(citizen)
    assert 'data-testid="rate"' not in client.get(f"/certificates/{open_case.case_number}/").content.decode()
    for service, case in (("certificates", open_case), ("hukou", withdrawn)):
        client.post(reverse("feedback:rate", args=[service, case.case_number]), {"level": "5"})
    assert client.get(reverse("feedback:rate", args=["certificates", theirs.case_number])).status_code == 404
    assert client.get(reverse("feedback:rate", args=["nosuchservice", theirs.case_number])).status_code == 404
    assert not Rating.objects.exists()


def test_a_poor_hukou_rating_opens_a_follow_up_that_only_the_stations_staff_see(staff_client, citizen):
    station = _station("经八路派出所", "410105")
    other_station = _station("西大街派出所", "410302")
    case = MigrationApplicationFactory(applicant=citizen, office=station, refused=True)
    rating = feedback.rate(citizen=citizen, case=case, level=1, reasons=["slow", "several_trips"])
    follow_up = rating.follow_up
    assert follow_up.office == station and follow_up.kind == FeedbackKind.FOLLOW_UP
    assert (follow_up.about_service, follow_up.about_case_number) == ("hukou", case.case_number)

    ours = staff_client(StaffFactory(office=station, role=Role.POLICE_OFFICER))
    queue = ours.get("/admin/feedback/feedback/").content.decode()
    assert follow_up.case_number in queue
    assert "It took too long" in ours.get("/admin/feedback/rating/").content.decode()

    # Another station of the same agency, and a health commission (another agency), see nothing of it.
    for outsider in (
        StaffFactory(office=other_station, role=Role.POLICE_OFFICER),
        StaffFactory(office=OfficeFactory(kind=Office.Kind.FAMILY_PLANNING), role=Role.FAMILY_PLANNING_OFFICER),
        StaffFactory(office=OfficeFactory(kind=Office.Kind.FAMILY_PLANNING), role=Role.SUPERVISOR),
    ):
        theirs = staff_client(outsider)
        assert follow_up.case_number not in theirs.get("/admin/feedback/feedback/").content.decode()
        assert "It took too long" not in theirs.get("/admin/feedback/rating/").content.decode()
        assert theirs.get(f"/admin/feedback/feedback/{follow_up.pk}/change/").status_code in (302, 404)
        with pytest.raises(TransitionNotAllowed):
            feedback.answer(feedback=follow_up, by=outsider, text="Not ours.")

    feedback.answer(feedback=follow_up, by=StaffFactory(office=station, role=Role.POLICE_OFFICER), text="Sorry.")
    follow_up.refresh_from_db()
    assert follow_up.status == "answered"


def test_a_complainant_rates_the_answer_to_their_complaint(client, citizen, office):
    complaint = FeedbackFactory(applicant=citizen, office=office, answered=True)
    suggestion = FeedbackFactory(applicant=citizen, office=office, kind=FeedbackKind.SUGGESTION, answered=True)
    client.force_login(citizen)
    page = client.get(reverse("feedback:detail", args=[complaint.case_number])).content.decode()
    rate_url = reverse("feedback:rate", args=["feedback", complaint.case_number])
    assert rate_url in page
    to_rate = client.get(reverse("me")).content.decode()
    assert rate_url in to_rate and reverse("feedback:rate", args=["feedback", suggestion.case_number]) not in to_rate
    response = client.post(rate_url, {"level": "2", "reasons": ["not_told_at_once"]})
    assert response.status_code == 302
    rating = Rating.objects.get()
    assert (rating.service, rating.case_number, rating.office) == ("feedback", complaint.case_number, office)
    assert Feedback.objects.filter(kind=FeedbackKind.FOLLOW_UP, about_case_number=complaint.case_number).exists()
    # Only a complaint's answer is rated, never a suggestion's.
    assert not feedback.can_rate(citizen=citizen, case=suggestion)
