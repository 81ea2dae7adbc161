"""The feedback queue and the ratings list in the admin: scoped to the staff member's offices, answers through
portal.feedback.services.answer, and the permissions migration 0004 gives the roles."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Role
from portal.cases.models import DueState
from portal.feedback import services as feedback
from portal.feedback.models import Feedback, FeedbackStatus, Rating
from portal.notify.models import OutboxMessage
from tests.factories import FamilyPlanningApplicationFactory, FeedbackFactory, StaffFactory

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 18, 2, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def english(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


def url(name, *args, model="feedback"):
    return reverse(f"admin:feedback_{model}_{name}", args=args)


def answer(client, item, text="Answer", seen=None):
    data = {"text": text, **({"seen_status": seen} if seen else {})}
    return client.post(url("act", item.pk, "answer"), data)


def flash(response):
    return [str(m) for m in response.wsgi_request._messages]


def test_roles_have_the_feedback_permissions():
    """Every service is rated now: the officers of every agency read their office's ratings and answer its feedback
    (the office scoping keeps each agency to its own offices: tests/adversarial/test_agency_walls.py)."""
    for role in (Role.FAMILY_PLANNING_OFFICER, Role.POLICE_OFFICER, Role.HOUSEHOLD_ADMIN, Role.SUPERVISOR):
        perms = set(
            Group.objects.get(name=role)
            .permissions.filter(content_type__app_label="feedback")
            .values_list("codename", flat=True)
        )
        assert {"view_rating", "view_feedback", "change_feedback"} <= perms
        assert "delete_feedback" not in perms and "change_rating" not in perms


def test_queue_shows_the_offices_items_with_a_countdown(staff_client, office, other_office, officer, citizen):
    mine = FeedbackFactory(applicant=citizen, office=office, subject="Mine")
    theirs = FeedbackFactory(applicant=citizen, office=other_office, subject="Theirs")
    html = staff_client(officer).get(url("changelist")).content.decode()
    assert mine.case_number in html and theirs.case_number not in html
    assert "15 working days left" in html


def test_overdue_filter_and_the_supervisors_subtree(staff_client, office, other_office, officer, supervisor, citizen):
    overdue = FeedbackFactory(applicant=citizen, office=office, subject="Late")
    fresh = FeedbackFactory(applicant=citizen, office=office, subject="Fresh")
    # As the sweep flags it: its due date has passed.
    Feedback.objects.filter(pk=overdue.pk).update(
        due_state=DueState.OVERDUE, due_date=timezone.localdate() - datetime.timedelta(days=2)
    )
    html = staff_client(officer).get(url("changelist") + "?due=overdue").content.decode()
    assert overdue.case_number in html and fresh.case_number not in html
    # The Zhengzhou supervisor sees the Jinshui office's items, not Luoyang's.
    theirs = FeedbackFactory(applicant=citizen, office=other_office)
    html = staff_client(supervisor).get(url("changelist")).content.decode()
    assert overdue.case_number in html and theirs.case_number not in html


def test_answer_through_the_review_page(staff_client, office, officer, citizen):
    item = FeedbackFactory(applicant=citizen, office=office, staff_named="No. 1234")
    client = staff_client(officer)
    page = client.get(url("change", item.pk)).content.decode()
    assert "Rude at the counter" in page and "No. 1234" in page and 'data-testid="fb-action-answer"' in page
    assert citizen.masked_mobile in page and citizen.mobile not in page

    response = answer(client, item, "  ", seen="open")
    assert response.status_code == 302 and Feedback.objects.get().status == FeedbackStatus.OPEN
    OutboxMessage.objects.all().delete()
    response = answer(client, item, "We checked and apologise.", seen="open")
    assert response.status_code == 302 and "answered; the citizen has been told" in flash(response)[-1]
    item.refresh_from_db()
    assert item.status == FeedbackStatus.ANSWERED and item.answered_by == officer and item.answered_on_time
    assert OutboxMessage.objects.filter(user=citizen, template="feedback/answered").count() == 2
    page = client.get(url("change", item.pk)).content.decode()
    assert "We checked and apologise." in page and "No action is possible" in page

    # A stale page (or a second click) changes nothing.
    response = answer(client, item, "Again", seen="open")
    assert "Someone else acted" in flash(response)[-1]
    item.refresh_from_db()
    assert item.answer == "We checked and apologise."


def test_follow_up_review_page_shows_the_rating(staff_client, office, officer, citizen):
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen, issued=True)
    feedback.rate(citizen=citizen, case=application, level=1, reasons=["slow", "other"], comment="Lost papers")
    item = Feedback.objects.get()
    page = staff_client(officer).get(url("change", item.pk)).content.decode()
    assert "Very dissatisfied" in page and "It took too long, or the time limit was missed" in page
    assert "Lost papers" in page and application.case_number in page


def test_another_offices_staff_get_404(staff_client, office, other_office, citizen):
    item = FeedbackFactory(applicant=citizen, office=office)
    rating = Rating.objects.create(citizen=citizen, office=office, level=5)
    client = staff_client(StaffFactory(office=other_office, role=Role.FAMILY_PLANNING_OFFICER))
    assert client.get(url("change", item.pk)).status_code == 404
    assert answer(client, item, "Not mine", seen="open").status_code == 404
    assert client.get(url("change", rating.pk, model="rating")).status_code == 404
    assert list(client.get(url("changelist", model="rating")).context["cl"].result_list) == []
    item.refresh_from_db()
    assert item.status == FeedbackStatus.OPEN


def test_the_member_of_staff_a_complaint_names_cannot_answer_it(staff_client, office, citizen):
    named = StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER, real_name="周主任")
    item = FeedbackFactory(applicant=citizen, office=office, staff_named="周主任")
    client = staff_client(named)
    page = client.get(url("change", item.pk)).content.decode()
    assert "This complaint names you" in page and 'data-testid="fb-action-answer"' not in page
    response = answer(client, item, "It was fine.", seen="open")
    assert "names you" in flash(response)[0]
    item.refresh_from_db()
    assert item.status == FeedbackStatus.OPEN


def test_a_police_officer_has_no_access(staff_client, office, citizen):
    """Police officers read and answer their own stations' feedback (every service is rated), never a health
    commission's: not even a police role wrongly given to a member of the health commission's office answers."""
    item = FeedbackFactory(applicant=citizen, office=office)
    Rating.objects.create(citizen=citizen, office=office, level=2, reasons=["slow"], comment="Too slow")
    station = StaffFactory(role=Role.POLICE_OFFICER)
    client = staff_client(station)
    assert item.case_number not in client.get(url("changelist")).content.decode()
    assert "Too slow" not in client.get(url("changelist", model="rating")).content.decode()
    assert answer(client, item, "x").status_code in (403, 404)
    misplaced = staff_client(StaffFactory(office=office, role=Role.POLICE_OFFICER))
    answer(misplaced, item, "x")  # the page opens (same office) but the answer is refused
    item.refresh_from_db()
    assert item.status == "open"


def test_ratings_are_read_only_and_scoped(staff_client, office, other_office, officer, citizen):
    mine = Rating.objects.create(citizen=citizen, office=office, level=2, reasons=["slow"], comment="Too slow")
    theirs = Rating.objects.create(citizen=citizen, office=other_office, level=5, comment="Great elsewhere")
    client = staff_client(officer)
    html = client.get(url("changelist", model="rating")).content.decode()
    assert "It took too long" in html and "Great elsewhere" not in html
    page = client.get(url("change", mine.pk, model="rating"))
    assert page.status_code == 200 and "Too slow" in page.content.decode()
    assert citizen.masked_name in page.content.decode()
    response = client.post(url("change", mine.pk, model="rating"), {"level": 5})
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.level == 2 and theirs.level == 5
    assert client.get(url("add", model="rating")).status_code == 403
    assert client.get(url("add")).status_code == 403
