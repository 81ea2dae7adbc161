"""The desk (issue 15, items 1 and 6): a staff member's /admin/ counts, per service their agency handles, what is new,
due today, due soon, overdue, waiting for the applicant and assigned to them, each linking to the queue filtered the
same way, in a fixed number of queries; the history page and "recent actions" show the timeline."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from certificates import services
from certificates.models import Status
from certificates.workflow import WORKFLOW
from portal.cases import assignment
from portal.cases.deadlines import clock_start
from portal.cases.models import DueState
from tests.factories import ApplicationFactory, MigrationApplicationFactory, StaffFactory
from tests.portal.visits import booked_visit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def due(days, state=DueState.NONE):
    return {**clock_start(3), "due_date": timezone.localdate() + datetime.timedelta(days=days), "due_state": state}


def seed(station, officer):
    """One case in every state the desk counts, and some it must not."""
    ApplicationFactory(office=station, status=Status.SUBMITTED, **due(5))  # new
    ApplicationFactory(office=station, status=Status.SUBMITTED, **due(5))  # new
    ApplicationFactory(office=station, status=Status.ACCEPTED, **due(0, DueState.DUE_SOON))  # due today (and soon)
    ApplicationFactory(office=station, status=Status.ACCEPTED, **due(1, DueState.DUE_SOON))  # due soon
    ApplicationFactory(office=station, status=Status.ACCEPTED, **due(-2, DueState.OVERDUE))  # overdue
    ApplicationFactory(
        office=station, status=Status.INFO_REQUESTED, paused_at=timezone.now(), workdays_left=2
    )  # waiting
    mine = ApplicationFactory(office=station, status=Status.ACCEPTED, **due(4))
    assignment.claim(mine, by=officer, workflow=WORKFLOW)  # assigned to me
    ApplicationFactory(office=station, status=Status.REFUSED)  # finished: nowhere
    ApplicationFactory(office=station, status=Status.DRAFT)  # the citizen's own: nowhere


def desk_of(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response, {service.queue_url: service for service in response.context["desk"]}


def test_the_desk_counts_every_state_and_each_link_lists_what_it_counts(staff_client, station_a, station_b, officer_a):
    seed(station_a, officer_a)
    seed(station_b, StaffFactory(office=station_b))  # another station's: not counted
    client = staff_client(officer_a)
    response, services_ = desk_of(client)
    ncr = services_[reverse("admin:certificates_application_changelist")]
    counts = {count.key: count.count for count in ncr.counts}
    assert counts == {"new": 2, "due_today": 1, "due_soon": 2, "overdue": 1, "waiting": 1, "mine": 1}
    for count in ncr.counts:
        listed = client.get(count.url).context["cl"].result_list
        assert len(listed) == count.count, (count.key, count.url)
    # A police officer's desk has the police services only; family planning is another agency's.
    assert reverse("admin:familyplanning_familyplanningapplication_changelist") not in services_
    assert reverse("admin:hukou_migrationapplication_changelist") in services_
    page = response.content.decode()
    assert 'data-testid="desk"' in page and "New (awaiting acceptance)" in page
    assert "All lists" in page  # the lists stay reachable below the desk


def test_the_desk_and_the_queue_agree_with_the_sweeps_flags_within_their_due_date_bounds(
    staff_client, station_a, officer_a
):
    """What the sweep flagged is what the desk counts and the queue lists: due soon with the due date on or before the
    sweep's horizon, overdue with it past. A flag whose due date has since moved out of those bounds (the horizon
    shortened, the date moved) is no longer counted or listed, as the next sweep would not set it."""
    from certificates.models import Application
    from portal.cases.deadlines import due_soon_horizon, sweep_deadlines

    today = timezone.localdate()
    horizon = due_soon_horizon(today)
    for days in (-5, -1, 0, 1, (horizon - today).days, 3, 10):
        ApplicationFactory(office=station_a, status=Status.ACCEPTED, **due(days))
    ApplicationFactory(office=station_a, status=Status.INFO_REQUESTED, paused_at=timezone.now(), workdays_left=2)
    flagged = sweep_deadlines([Application], today=today)
    assert flagged["overdue"] == 2 and flagged["due_soon"] >= 2

    def flags(state):
        return set(Application.objects.filter(office=station_a, due_state=state).values_list("case_number", flat=True))

    def desk_and_queue(key):
        _response, services_ = desk_of(client)
        column = next(c for c in services_[reverse("admin:certificates_application_changelist")].counts if c.key == key)
        listed = {case.case_number for case in client.get(column.url).context["cl"].result_list}
        return column.count, listed

    client = staff_client(officer_a)
    for key in (DueState.DUE_SOON, DueState.OVERDUE):
        expected = flags(key)
        assert expected
        assert desk_and_queue(key) == (len(expected), expected)
    # A due-soon flag whose due date is now beyond the horizon, an overdue one whose due date is no longer past.
    soon = Application.objects.filter(office=station_a, due_state=DueState.DUE_SOON).order_by("due_date").first()
    late = Application.objects.filter(office=station_a, due_state=DueState.OVERDUE).order_by("due_date").first()
    Application.objects.filter(pk=soon.pk).update(due_date=horizon + datetime.timedelta(days=7))
    Application.objects.filter(pk=late.pk).update(due_date=today)
    for key, moved in ((DueState.DUE_SOON, soon), (DueState.OVERDUE, late)):
        expected = flags(key) - {moved.case_number}
        assert moved.case_number in flags(key)
        assert desk_and_queue(key) == (len(expected), expected)


def test_administrators_still_reach_the_model_list(staff_client, db):
    admin_user = StaffFactory(office=None, role="administrator", is_superuser=True)
    page = staff_client(admin_user).get(reverse("admin:index")).content.decode()
    assert reverse("admin:certificates_criminalrecord_changelist") in page
    assert reverse("admin:accounts_office_changelist") in page


def book_today(station, visits):
    """`visits` hukou moves booked for today at `station`, in slots of five places (booked the day before)."""
    from portal.visits.models import VisitSlot, VisitStation

    visit_station = VisitStation.objects.create(office=station, capacity=5)
    today = timezone.localdate()
    for n in range(visits):
        slot, _ = VisitSlot.objects.get_or_create(
            station=visit_station,
            day=today,
            starts_at=datetime.time(9 + n // 5),
            defaults={"ends_at": datetime.time(10 + n // 5), "capacity": 5},
        )
        VisitSlot.objects.filter(pk=slot.pk).update(booked=slot.booked + 1)
        booked_visit(slot, MigrationApplicationFactory(office=station, accepted=True))


@pytest.mark.parametrize("extra", [0, 297])
def test_the_desk_runs_a_fixed_number_of_queries_with_3_and_300_cases(
    staff_client, station_a, officer_a, extra, django_assert_num_queries
):
    for days in range(3 + extra):
        ApplicationFactory(office=station_a, status=Status.ACCEPTED, **due(days % 7 - 2))
    book_today(station_a, 1 + extra // 10)  # 1 and 30 of today's booked visits
    client = staff_client(officer_a)
    client.get(reverse("admin:index"))  # warm the session and content types
    # Session, user, the user's and their groups' permissions, the administrator check, the scope (office, agency,
    # supervisor), ONE query for every service's counts (UNION ALL), ONE for today's booked visits, the recent
    # timeline rows and the admin log.
    with django_assert_num_queries(DESK_QUERIES):
        response = client.get(reverse("admin:index"))
    ncr = {s.queue_url: s for s in response.context["desk"]}[reverse("admin:certificates_application_changelist")]
    assert sum(count.count for count in ncr.counts if count.key in ("due_today", "overdue")) >= 1
    assert len(response.context["desk_visits"]) == 1 + extra // 10


DESK_QUERIES = 10


def test_the_history_page_is_the_timeline_and_recent_actions_are_my_own(staff_client, station_a, officer_a):
    application = ApplicationFactory(office=station_a)
    services.application_accept(application=application, by=officer_a, note="", internal_note="looked at it")
    assignment.claim(application, by=officer_a, workflow=WORKFLOW)
    other = ApplicationFactory(office=station_a)
    services.application_accept(application=other, by=StaffFactory(office=station_a))
    client = staff_client(officer_a)

    page = client.get(reverse("admin:certificates_application_history", args=[application.pk])).content.decode()
    assert 'data-testid="case-history"' in page and "doesn’t have a change history" not in page
    assert page.count('data-testid="case-history-row"') == application.timeline().count() >= 2
    assert "looked at it" in page and "Claimed by" in page
    assert "<td>Claimed</td>" in page  # a row that changes no status under its own words (portal.cases.events)

    response = client.get(reverse("admin:index"))
    recent = response.context["recent_timeline"]
    assert [entry["case_number"] for entry in recent] == [application.case_number] * 2
    assert str(recent[0]["what"]) == "Claimed"
    assert other.case_number not in response.content.decode().split('data-testid="recent-timeline"')[1]


def test_the_history_page_is_scoped(staff_client, station_a, officer_b):
    application = ApplicationFactory(office=station_a)
    assert (
        staff_client(officer_b)
        .get(reverse("admin:certificates_application_history", args=[application.pk]))
        .status_code
        == 404
    )


def test_hukou_counts_each_case_at_the_office_acting_now_and_a_city_supervisor_sees_the_city(staff_client):
    """Hukou's inbox is the office acting in the case's status (MigrationApplication.acting_office_id): a new case at
    the move-in station, a forwarded one at the municipal administration, an approved one at the move-out station in
    another city; each desk counts its own, each link lists what it counts, a supervisor of the city sees both of its
    offices' counts and not the other city's."""
    from accounts.models import Office, Role
    from tests.factories.hukou import hukou_offices, hukou_staff

    offices = hukou_offices()
    staff = hukou_staff(offices)
    today = timezone.localdate()
    MigrationApplicationFactory(offices=offices, submitted=True, submitted_at=timezone.now())
    MigrationApplicationFactory(
        offices=offices,
        forwarded=True,
        submitted_at=timezone.now(),
        due_date=today - datetime.timedelta(days=2),
        due_state=DueState.OVERDUE,
    )
    MigrationApplicationFactory(
        offices=offices,
        approved=True,
        submitted_at=timezone.now(),
        due_date=today + datetime.timedelta(days=1),
        due_state=DueState.DUE_SOON,
    )
    hukou = reverse("admin:hukou_migrationapplication_changelist")
    supervisor = StaffFactory(
        office=Office.objects.get(division_code="410100", kind=Office.Kind.CITY), role=Role.SUPERVISOR
    )
    expected = {
        staff["move_in"]: {"new": 1},
        staff["municipal"]: {"overdue": 1},
        staff["move_out"]: {"due_soon": 1},
        supervisor: {"new": 1, "overdue": 1},
    }
    for user, counts in expected.items():
        client = staff_client(user)
        _response, services_ = desk_of(client)
        desk = services_[hukou]
        assert {count.key: count.count for count in desk.counts if count.count} == counts, user.office
        for count in desk.counts:
            assert len(client.get(count.url).context["cl"].result_list) == count.count, (user.office, count.key)
