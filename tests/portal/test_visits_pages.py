"""Booked visits in the pages (issue 15, item 7): the citizen books, changes and cancels on their case's page, in
Chinese by default and in English; the officer sees today's visits on the desk and records the visit on the review
page, which lands on the timeline; everything scoped to the station's staff."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts import idnumber
from certificates.models import Delivery
from hukou.constants import Status
from portal.cases.models import Transition
from portal.visits import services
from portal.visits.models import Visit, VisitStation, VisitStatus
from tests.factories import ApplicationFactory, StaffFactory, UserFactory
from tests.portal.visits import accepted_move, at, first_slot, visit_station

pytestmark = pytest.mark.django_db
BOOKING_DAY = "2026-09-22"  # a Tuesday; the first bookable slot is Wednesday 23 September, 9:00


@pytest.fixture
def station(station_a):
    return visit_station(station_a)


@pytest.fixture
def citizen_client(citizen):
    client = Client()
    client.force_login(citizen)
    return client


def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_citizen_books_a_visit_from_the_case_page_in_chinese(station, citizen, citizen_client):
    move = accepted_move(station.office, citizen)
    detail = reverse("hukou:detail", args=[move.case_number])
    book = reverse("visits:book", args=[move.case_number])
    with time_machine.travel(at(BOOKING_DAY), tick=False):
        page = citizen_client.get(detail).content.decode()
        assert 'data-testid="visit-panel"' in page and "预约核验原件" in page and book in page
        page = citizen_client.get(book).content.decode()
        assert "2026年9月23日（星期三）" in page and "09:00–10:00" in page and "剩 2 个名额" in page
        # Nothing chosen: a specific error, the page again.
        response = citizen_client.post(book, {})
        assert response.status_code == 400 and "请选择预约时间。" in response.content.decode()
        slot = first_slot(station)
        response = citizen_client.post(book, {"slot": slot.pk})
        assert response.status_code == 302 and response.url == detail
        page = citizen_client.get(detail).content.decode()
    assert 'data-testid="visit-booked"' in page and "2026年9月23日" in page and "已预约办理" in page
    assert Visit.objects.get(object_id=move.pk).slot == slot


def test_a_full_slot_is_refused_with_its_reason_and_the_choice_is_kept(station, citizen, citizen_client):
    move = accepted_move(station.office, citizen)
    book = reverse("visits:book", args=[move.case_number])
    with time_machine.travel(at(BOOKING_DAY), tick=False):
        slot = first_slot(station)
        for person in (UserFactory(), UserFactory()):
            services.book(accepted_move(station.office, person), slot_id=slot.pk, by=person)
        response = citizen_client.post(book, {"slot": slot.pk})
    assert response.status_code == 400 and "该时段已无法预约，请另选时间。" in response.content.decode()
    assert not Visit.objects.filter(object_id=move.pk).exists()


def test_the_citizen_changes_and_cancels_in_english(station, citizen, citizen_client, settings):
    english(citizen_client, settings)
    move = accepted_move(station.office, citizen)
    book = reverse("visits:book", args=[move.case_number])
    cancel = reverse("visits:cancel", args=[move.case_number])
    with time_machine.travel(at(BOOKING_DAY), tick=False):
        visit = services.book(move, slot_id=first_slot(station).pk, by=citizen)
        page = citizen_client.get(book).content.decode()
        assert "Change the time of your visit" in page and "Booked now:" in page and "(Wednesday)" in page
        later = first_slot(station, datetime.date(2026, 9, 24))
        citizen_client.post(book, {"slot": later.pk})
        assert Visit.objects.get(pk=visit.pk).slot == later
        assert "Cancel the visit?" in citizen_client.get(cancel).content.decode()
        response = citizen_client.post(cancel)
        assert response.status_code == 302
        page = citizen_client.get(reverse("hukou:detail", args=[move.case_number])).content.decode()
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CANCELLED
    assert "Visit cancelled" in page and "Book a visit" in page  # the timeline says so; a new booking is offered


def test_nobody_else_reaches_the_booking_pages(station, citizen, other_citizen):
    move = accepted_move(station.office, citizen)
    client = Client()
    client.force_login(other_citizen)
    assert client.get(reverse("visits:book", args=[move.case_number])).status_code == 404
    assert client.post(reverse("visits:cancel", args=[move.case_number])).status_code == 404
    assert Client().get(reverse("visits:book", args=[move.case_number])).status_code == 302  # to the login


def test_no_booking_before_acceptance_nor_after_forwarding(station, citizen, citizen_client):
    for status in (Status.SUBMITTED, Status.FORWARDED):
        move = accepted_move(station.office, citizen, status=status)
        page = citizen_client.get(reverse("hukou:detail", args=[move.case_number])).content.decode()
        assert 'data-testid="visit-panel"' not in page
        response = citizen_client.post(reverse("visits:book", args=[move.case_number]), {"slot": 1})
        assert response.status_code == 302 and not Visit.objects.exists()


def test_an_ncr_applicant_collecting_a_paper_copy_books_at_the_collection_office(station, citizen, citizen_client):
    application = ApplicationFactory(
        applicant=citizen,
        issued=True,
        certificate=True,
        delivery=Delivery.COLLECT,
        collection_office=station.office,
    )
    with time_machine.travel(at(BOOKING_DAY), tick=False):
        page = citizen_client.get(reverse("certificates:detail", args=[application.case_number])).content.decode()
        assert "预约领取纸质证明" in page
        response = citizen_client.post(
            reverse("visits:book", args=[application.case_number]), {"slot": first_slot(station).pk}
        )
    assert response.status_code == 302
    assert Visit.objects.get(object_id=application.pk).purpose == "ncr_paper_copy"


def booked_today(station, citizen):
    """A move whose check of the originals was booked yesterday for 9:00 today (Wednesday 23 September)."""
    move = accepted_move(station.office, citizen)
    with time_machine.travel(at(BOOKING_DAY), tick=False):
        services.book(move, slot_id=first_slot(station).pk, by=citizen)
    return move


def test_the_desk_lists_todays_visits_with_masked_id_numbers(staff_client, station, citizen, officer_b, settings):
    move = booked_today(station, citizen)
    client = english(staff_client(StaffFactory(office=station.office)), settings)
    with time_machine.travel(at("2026-09-23", 8), tick=False):
        page = client.get(reverse("admin:index")).content.decode()
        section = page.split('data-testid="desk-visits"')[1].split("</table>")[0]
        assert move.case_number in section and "09:00–10:00" in section and citizen.real_name in section
        assert citizen.id_number not in page and citizen.id_number[-4:] in section  # masked: 4101**********1234
        assert reverse("admin:hukou_migrationapplication_change", args=[move.pk]) in section
        other = english(staff_client(officer_b), settings).get(reverse("admin:index")).content.decode()
    assert move.case_number not in other and "No visits booked for today." in other


def test_the_officer_records_originals_seen_on_the_review_page(staff_client, station, citizen, settings):
    move = booked_today(station, citizen)
    officer = StaffFactory(office=station.office, real_name="王警官")
    client = english(staff_client(officer), settings)
    review = reverse("admin:hukou_migrationapplication_change", args=[move.pk])
    visit = Visit.objects.get(object_id=move.pk)
    outcome = reverse("admin:visits_visit_outcome", args=[visit.pk])
    with time_machine.travel(at(BOOKING_DAY, 16), tick=False):  # the day before: no form yet, a POST is refused
        assert 'data-testid="visit-outcome"' not in client.get(review).content.decode()
        client.post(outcome, {"outcome": "attended"})
        assert Visit.objects.get(pk=visit.pk).status == VisitStatus.BOOKED
    with time_machine.travel(at("2026-09-23", 9), tick=False):
        page = client.get(review).content.decode()
        assert 'data-testid="visit-outcome"' in page and "Originals seen" in page
        response = client.post(outcome, {"outcome": "attended", "internal_note": "户口簿原件一致", "next": review})
        assert response.status_code == 302 and response.url == review
        page = client.get(review).content.decode()
    visit.refresh_from_db()
    assert (
        visit.status == VisitStatus.ATTENDED and visit.outcome_by == officer and visit.outcome_note == "户口簿原件一致"
    )
    row = Transition.objects.get(object_id=move.pk, event=services.Event.ATTENDED)
    assert row.actor == officer and "Originals seen" in row.note and row.internal_note == "户口簿原件一致"
    assert 'data-status="attended"' in page and 'data-testid="visit-outcome"' not in page
    # The citizen's page says so, and offers no new booking.
    citizen_client = english(Client(), settings)
    citizen_client.force_login(citizen)
    mine = citizen_client.get(reverse("hukou:detail", args=[move.case_number])).content.decode()
    assert 'data-outcome="attended"' in mine and 'data-testid="visit-book"' not in mine
    assert "Came to the booked visit" in mine


def test_recording_and_station_settings_are_scoped_to_the_station(staff_client, station, citizen, officer_b, settings):
    move = booked_today(station, citizen)
    visit = Visit.objects.get(object_id=move.pk)
    own = StaffFactory(office=station.office)
    other_station = visit_station(officer_b.office)
    client = english(staff_client(officer_b), settings)
    with time_machine.travel(at("2026-09-23", 9), tick=False):
        assert client.get(reverse("admin:visits_visit_change", args=[visit.pk])).status_code == 404
        assert (
            client.post(reverse("admin:visits_visit_outcome", args=[visit.pk]), {"outcome": "no_show"}).status_code
            == 404
        )
        assert client.get(reverse("admin:visits_visitstation_change", args=[station.pk])).status_code == 404
        listed = client.get(reverse("admin:visits_visitstation_changelist")).context["cl"].result_list
        assert list(listed) == [other_station]
        # The station's own officer reads the visit (masked ID number) with its record form, and edits the station's
        # hours; the future free slots follow.
        client = english(staff_client(own), settings)
        page = client.get(reverse("admin:visits_visit_change", args=[visit.pk])).content.decode()
        assert 'data-testid="visit-outcome"' in page and move.case_number in page
        assert citizen.id_number not in page and idnumber.mask(citizen.id_number) in page
        listed = client.get(reverse("admin:visits_visit_changelist") + "?day=today").context["cl"].result_list
        assert list(listed) == [visit]
        url = reverse("admin:visits_visitstation_change", args=[station.pk])
        form = client.get(url).context["adminform"].form
        data = {**{name: form[name].value() or "" for name in form.fields}, "capacity": 4, "office": station.office.pk}
        data["active"] = "on"
        response = client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert VisitStation.objects.get(pk=station.pk).capacity == 4
        # Recording "did not come" is the station's officer's, and lands on the timeline.
        client.post(reverse("admin:visits_visit_outcome", args=[visit.pk]), {"outcome": "no_show"})
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.NO_SHOW
    assert Transition.objects.filter(object_id=move.pk, event=services.Event.NO_SHOW, actor=own).exists()


def test_the_staff_timeline_and_recent_actions_name_the_visit_rows(staff_client, station, citizen, settings):
    move = booked_today(station, citizen)
    officer = StaffFactory(office=station.office)
    visit = Visit.objects.get(object_id=move.pk)
    with time_machine.travel(at("2026-09-23", 9), tick=False):
        services.record_outcome(visit, outcome=VisitStatus.ATTENDED, by=officer)
    client = english(staff_client(officer), settings)
    page = client.get(reverse("admin:hukou_migrationapplication_change", args=[move.pk])).content.decode()
    timeline = page.split('data-testid="hk-timeline"')[1].split("</ol>")[0]
    # Each visit row under its own words with its note, never "Accepted → Accepted".
    assert '<strong data-testid="timeline-event">Visit booked</strong>' in timeline
    assert '<strong data-testid="timeline-event">Came to the booked visit</strong>' in timeline
    assert "09:00–10:00" in timeline.split("Came to the booked visit")[1]  # with its note
    assert "Accepted → <strong>Accepted</strong>" not in timeline
    index = client.get(reverse("admin:index")).content.decode()
    assert f"{move.case_number}</a> · Came to the booked visit" in index
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    chinese = client.get(reverse("admin:hukou_migrationapplication_change", args=[move.pk]))
    assert '<strong data-testid="timeline-event">已预约办理</strong>' in chinese.content.decode()
