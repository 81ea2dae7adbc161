"""Ratings and feedback moved from family planning to the portal-wide app `feedback` without losing a row: the
tables stay, the case each names becomes service + case number, the content types are renamed so that the
permissions and who holds them, and the case histories (cases.Transition by content type), follow."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from portal.cases.models import Transition
from portal.feedback.models import Feedback, Rating
from tests.factories import FamilyPlanningApplicationFactory, OfficeFactory, UserFactory

BEFORE = [("familyplanning", "0010_desk_count_and_supervisor_queue_indexes")]


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_every_rating_complaint_permission_and_history():
    office = OfficeFactory(name="金水区卫生健康委员会", kind="family_planning")
    citizen = UserFactory()
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen, issued=True)

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    OldRating = apps.get_model("familyplanning", "Rating")
    OldFeedback = apps.get_model("familyplanning", "Feedback")
    rating = OldRating.objects.create(
        citizen_id=citizen.pk, office_id=office.pk, application_id=application.pk, level=1, reasons=["slow"]
    )
    office_rating = OldRating.objects.create(citizen_id=citizen.pk, office_id=office.pk, level=5)
    follow_up = OldFeedback.objects.create(
        case_number="FB-20261118-00001",
        applicant_id=citizen.pk,
        office_id=office.pk,
        status="open",
        kind="follow_up",
        subject="不满意",
        application_id=application.pk,
        rating_id=rating.pk,
        submitted_at=timezone.now(),
    )
    # Migrating back renamed the content types back: as a database from before the move has them.
    ContentType.objects.clear_cache()
    feedback_type = ContentType.objects.get(app_label="familyplanning", model="feedback")
    Transition.objects.create(content_type=feedback_type, object_id=follow_up.pk, from_status="", to_status="open")
    permission, _ = Permission.objects.get_or_create(
        content_type=feedback_type, codename="change_feedback", defaults={"name": "Can change"}
    )
    group = Group.objects.create(name="健康委答复组")
    group.permissions.add(permission)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = Rating.objects.get(pk=rating.pk)
    assert (moved.service, moved.case_number, moved.level) == ("familyplanning", application.case_number, 1)
    assert Rating.objects.get(pk=office_rating.pk).case_number == ""
    item = Feedback.objects.get(pk=follow_up.pk)
    assert (item.about_service, item.about_case_number) == ("familyplanning", application.case_number)
    assert item.rating == moved and item.case_number == "FB-20261118-00001"
    # The same content type, renamed: the history and the permission (and its holders) came along.
    assert [entry.to_status for entry in item.timeline()] == ["open"]
    ContentType.objects.clear_cache()
    current = ContentType.objects.get_for_model(Feedback)
    assert current.pk == feedback_type.pk and current.app_label == "feedback"
    assert (
        Group.objects.get(name="健康委答复组")
        .permissions.filter(content_type=current, codename="change_feedback")
        .exists()
    )
    assert not ContentType.objects.filter(app_label="familyplanning", model__in=["rating", "feedback"]).exists()
