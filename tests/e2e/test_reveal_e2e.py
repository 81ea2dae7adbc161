"""Conditional questions on a 360 px phone, with and without JavaScript (issue 16, item 1): hukou's destination page
shows the collective household's name, the explanation of other grounds and the household joined only when they
apply. With JavaScript they appear and disappear as the answers change; without it the page sent with new answers
comes back with the questions that now apply (and without those that no longer do), nothing typed lost."""

import pytest

from tests.e2e.conftest import horizontal_overflow, log_in, shot
from tests.e2e.helpers import PHONE, fill_address, hukou_draft

pytestmark = pytest.mark.e2e

REVEALS = ("reveal-explanation", "reveal-collective", "reveal-joining", "reveal-family-member")


@pytest.fixture
def draft(settings, tmp_path, site):
    return hukou_draft(settings, tmp_path)


def visible(page):
    return [testid for testid in REVEALS if page.get_by_test_id(testid).is_visible()]


def send(page, testid="save-continue"):
    with page.expect_navigation():
        page.get_by_test_id(testid).click()


def test_questions_revealed_without_javascript(site, new_page, draft):
    citizen, application = draft
    page = new_page(java_script_enabled=False, **PHONE)
    log_in(page, citizen, site)
    page.goto(f"/hukou/{application.case_number}/destination/")
    assert visible(page) == []  # part of a household, for employment: nothing more to ask
    page.check("input[name=grounds][value=join_relatives]")
    page.fill("#id_destination_address_detail", "经八路12号")
    assert visible(page) == []  # no script: shown once the page is sent
    send(page)
    assert visible(page) == ["reveal-joining"]
    assert page.locator("input[name=grounds][value=join_relatives]").is_checked()
    assert page.locator("#id_destination_address_detail").input_value() == "经八路12号"
    page.check("input[name=receiving_party][value=family_member]")
    page.fill("#id_receiving_householder_name", "王建国")
    send(page)
    assert visible(page) == ["reveal-joining", "reveal-family-member"]
    assert page.locator("#id_receiving_householder_name").input_value() == "王建国"
    assert horizontal_overflow(page) == 0
    shot(page, "reveal-no-js-joining")
    # Back to other grounds, into a collective household: the household joined goes, the explanation and the
    # collective household's name come.
    page.check("input[name=category][value=collective]")
    page.check("input[name=grounds][value=other]")
    send(page)
    assert visible(page) == ["reveal-explanation", "reveal-collective"]
    shot(page, "reveal-no-js-collective")


def test_questions_revealed_with_javascript(site, new_page, draft):
    citizen, application = draft
    page = new_page(**PHONE)
    log_in(page, citizen, site)
    page.goto(f"/hukou/{application.case_number}/destination/")
    assert visible(page) == []
    page.check("input[name=grounds][value=join_relatives]")
    assert visible(page) == ["reveal-joining"]
    page.check("input[name=receiving_party][value=family_member]")
    assert visible(page) == ["reveal-joining", "reveal-family-member"]
    page.check("input[name=category][value=collective]")
    page.check("input[name=grounds][value=other]")
    assert visible(page) == ["reveal-explanation", "reveal-collective"]
    assert horizontal_overflow(page) == 0 and page.console_errors == []
    shot(page, "reveal-js-collective")
    page.fill("#id_category_explanation", "单位集体户")
    page.fill("#id_collective_household_name", "郑州大学集体户")
    fill_address(page, "destination_address", "410100", "410105", "科学大道100号")
    send(page)
    assert page.url.endswith("/movers/")
    application.refresh_from_db()
    assert application.collective_household_name == "郑州大学集体户" and application.receiving_party == ""
