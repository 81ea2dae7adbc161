"""Hukou's police stations are chosen with the office picker (accounts.officepicker): by city, district or part of
the name; "Find" without JavaScript narrows the list and keeps the page as typed, with no error."""

import re

import pytest

from hukou.constants import Category, Grounds
from hukou.forms import DestinationForm
from hukou.models import MigrationApplication
from tests.hukou.pages import citizen_offices, errors_of, id_of, origin, people, post, start, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def offices(db):
    return citizen_offices()


def offered(page, name):
    """The values of the offices the select `name` offers."""
    select = re.search(rf'<select name="{name}"[^>]*data-picker-office>(.*?)</select>', page, re.S).group(1)
    return [int(value) for value in re.findall(r'<option value="(\d+)"', select)]


def notice(page):
    found = re.search(r"data-picker-notice>([^<]*)</div>", page)
    return found.group(1) if found else ""


def test_find_on_the_first_page_narrows_the_stations_and_keeps_the_answers(client, offices, applicant):
    client.force_login(applicant)
    data = {"category": Category.WHOLE_HOUSEHOLD, "grounds": Grounds.PURCHASED_HOME, "office__city": "410300"}
    response = client.post(url("apply"), {**data, "office__find": "1"})
    page = response.content.decode()
    assert errors_of(response) == "" and "is-invalid" not in page
    assert offered(page, "office") == [offices["move_out"].pk]  # Luoyang's only station
    assert notice(page) == "1 office found: choose it from the list."
    assert re.search(rf'value="{Category.WHOLE_HOUSEHOLD}"[^>]*checked', page)  # what was chosen is kept
    assert re.search(rf'value="{Grounds.PURCHASED_HOME}"[^>]*checked', page)
    assert not MigrationApplication.objects.exists()  # no draft until a station is chosen and the page sent

    response = client.post(url("apply"), {**data, "office": offices["move_in"].pk})
    assert response.status_code == 302 and MigrationApplication.objects.get().office == offices["move_in"]


def test_find_for_the_move_out_station_reports_nothing_missing_and_saves_nothing(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    data = origin(offices, "", "", origin_address="洛阳市老城区西大街1号", origin_office="")
    # A row begun: its relation is not given yet.
    data.update(people("staying", [{"name": "李强", "id_number": id_of(36, sex="M")}]))
    data.update(origin_office__q="老城", origin_office__find="1")
    response = post(client, url("", application, "origin"), data)
    page = response.content.decode()
    assert errors_of(response) == ""  # neither the head's name nor the staying person's relation yet
    assert offered(page, "origin_office") == [offices["move_out"].pk]
    assert notice(page) == "1 office found: choose it from the list."
    assert "洛阳市老城区西大街1号" in page and "李强" in page  # kept as typed
    application.refresh_from_db()
    assert application.origin_address == "" and application.origin_office is None


def test_a_station_that_can_no_longer_change_is_shown_without_the_filter(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    html = DestinationForm(instance=application, lock_office=True).as_div()
    assert "data-picker-find" not in html and "data-picker-city" not in html
    assert re.search(r'<select name="office"[^>]*disabled', html)
    assert offices["move_in"].pk in offered(html, "office")
