"""The move-in station forwards a move only once it has seen the originals (issue 15, item 7): at a booked visit
recorded as attended, or at the counter, which the officer forwarding ticks. The service enforces it, whoever calls
it; the review page asks for the counter item only while no visit was recorded as attended."""

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from hukou import services
from hukou.constants import Status
from portal.visits import services as visits
from portal.visits.models import VisitStatus
from tests.casework import take_step
from tests.factories import MigrationApplicationFactory
from tests.portal.visits import at, first_slot, visit_station

pytestmark = pytest.mark.django_db
BOOKING_DAY = "2026-09-22"  # a Tuesday; the first bookable slot is Wednesday 23 September, 9:00
VISIT_DAY = "2026-09-23"


def accepted(offices):
    return MigrationApplicationFactory(offices=offices, accepted=True, complete=True)


def visited(offices, staff, outcome):
    """An accepted move whose visit to show the originals was booked and then recorded with `outcome`."""
    station = visit_station(offices["move_in"])
    application = accepted(offices)
    with time_machine.travel(at(BOOKING_DAY), tick=False):
        visit = visits.book(application, slot_id=first_slot(station).pk, by=application.applicant)
    with time_machine.travel(at(VISIT_DAY, 9), tick=False):
        visits.record_outcome(visit, outcome=outcome, by=staff["move_in"])
    return application


def test_forwarding_without_the_originals_seen_is_refused_in_both_languages(offices, staff):
    application = accepted(offices)
    with pytest.raises(ValidationError) as refused:
        services.hukou_forward(application=application, by=staff["move_in"])
    assert refused.value.code == "originals_not_seen"
    assert f"Case {application.case_number} cannot be forwarded before the station has seen the originals" in str(
        refused.value.message
    )
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as refused:
            services.hukou_forward(application=application, by=staff["move_in"])
    assert "尚未核验原件" in refused.value.message and "当面核验原件" in refused.value.message
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED and application.forwarded_at is None


def test_a_visit_recorded_as_attended_lets_the_case_be_forwarded(offices, staff):
    application = visited(offices, staff, VisitStatus.ATTENDED)
    with time_machine.travel(at(VISIT_DAY, 10), tick=False):
        services.hukou_forward(application=application, by=staff["move_in"])
    application.refresh_from_db()
    assert application.status == Status.FORWARDED


def test_a_missed_visit_does_not_count_but_the_counter_does(offices, staff):
    application = visited(offices, staff, VisitStatus.NO_SHOW)
    with time_machine.travel(at(VISIT_DAY, 10), tick=False):
        with pytest.raises(ValidationError, match="originals"):
            services.hukou_forward(application=application, by=staff["move_in"])
        services.hukou_forward(application=application, by=staff["move_in"], originals_seen_at_counter=True)
    application.refresh_from_db()
    assert application.status == Status.FORWARDED


def test_the_review_page_asks_for_the_counter_item_only_without_an_attended_visit(staff_client, offices, staff):
    client = staff_client(staff["move_in"])
    application = accepted(offices)
    change = reverse("admin:hukou_migrationapplication_change", args=[application.pk])
    act = reverse("admin:hukou_migrationapplication_act", args=[application.pk, "forward"])
    page = client.get(change).content.decode()
    assert 'value="originals_at_counter"' in page and "Originals seen at the counter" in page
    # Left unticked: the step's form again with the error naming it, nothing changed.
    posted = {"seen_status": Status.ACCEPTED, "check": ["rules_checked", "householder_consent"], "text": "材料齐全"}
    response = take_step(client, act, posted)
    assert response.status_code == 400
    assert (
        "Tick “Originals seen at the counter” before you take this step: it is required." in response.context["errors"]
    )
    assert "材料齐全" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED
    # Ticked: forwarded.
    response = take_step(client, act, {**posted, "check": [*posted["check"], "originals_at_counter"]})
    application.refresh_from_db()
    assert response.status_code == 302 and application.status == Status.FORWARDED
    # After an attended visit the item is not asked for, and the step goes through without it.
    seen = visited(offices, staff, VisitStatus.ATTENDED)
    with time_machine.travel(at(VISIT_DAY, 10), tick=False):
        page = client.get(reverse("admin:hukou_migrationapplication_change", args=[seen.pk])).content.decode()
        assert 'data-testid="hk-action-forward"' in page and 'value="originals_at_counter"' not in page
        act = reverse("admin:hukou_migrationapplication_act", args=[seen.pk, "forward"])
        response = take_step(client, act, {**posted, "seen_status": Status.ACCEPTED})
    seen.refresh_from_db()
    assert response.status_code == 302 and seen.status == Status.FORWARDED
