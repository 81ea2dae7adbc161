"""Several people in one round trip on a 360 px phone (issue 16, item 1): with JavaScript "Add another person" adds
rows in place and one save keeps them all; without it "Save and add more people" comes back with the number of empty
rows asked for, filled and saved at once."""

import datetime

import pytest

from tests.e2e.conftest import horizontal_overflow, log_in, shot
from tests.e2e.helpers import PHONE, hukou_draft

pytestmark = pytest.mark.e2e


@pytest.fixture
def draft(settings, tmp_path, site):
    from tests.factories import make_id_number

    citizen, application = hukou_draft(
        settings, tmp_path, category="whole_household", grounds="purchased_home", birth=datetime.date(1970, 1, 1)
    )
    family = [
        ("李强", make_id_number(sex="M", birth=datetime.date(1968, 2, 2)), "spouse"),
        ("李小明", make_id_number(sex="M", birth=datetime.date(1995, 3, 3)), "child"),
        ("李小红", make_id_number(sex="F", birth=datetime.date(1998, 4, 4)), "child"),
    ]
    return citizen, application, family


def fill_row(page, index, name, number, relation):
    page.fill(f"#id_movers-{index}-name", name)
    page.fill(f"#id_movers-{index}-id_number", number)
    page.select_option(f"#id_movers-{index}-relation", relation)


def saved(application):
    return sorted(application.movers.values_list("name", flat=True))


def test_people_added_in_place_with_javascript(site, new_page, draft):
    citizen, application, family = draft
    page = new_page(**PHONE)
    log_in(page, citizen, site)
    page.goto(f"/hukou/{application.case_number}/movers/")
    rows = page.get_by_test_id("mover-row")
    assert rows.count() == 2  # the applicant's own row, filled in from her account, and an empty one
    page.select_option("#id_movers-0-relation", "head")
    page.get_by_test_id("add-row").click()
    page.get_by_test_id("add-row").click()
    assert rows.count() == 4
    assert page.evaluate("document.activeElement.id") == "id_movers-3-name"  # the new row's first box
    for index, person in enumerate(family, start=1):
        fill_row(page, index, *person)
    assert page.locator("#id_movers-TOTAL_FORMS").input_value() == "4"
    assert horizontal_overflow(page) == 0 and page.console_errors == []
    shot(page, "people-rows-js")
    with page.expect_navigation():
        page.get_by_test_id("save-continue").click()
    assert page.url.endswith("/origin/")
    assert saved(application) == sorted(["王芳", *(p[0] for p in family)])


def test_several_empty_rows_at_once_without_javascript(site, new_page, draft):
    citizen, application, family = draft
    page = new_page(java_script_enabled=False, **PHONE)
    log_in(page, citizen, site)
    page.goto(f"/hukou/{application.case_number}/movers/")
    assert page.get_by_test_id("add-row").count() == 0  # the script's button: not there
    page.select_option("#id_movers-0-relation", "head")
    page.select_option("#id_add_rows", "3")
    with page.expect_navigation():
        page.get_by_test_id("save-add").click()
    rows = page.get_by_test_id("mover-row")
    assert rows.count() == 4  # her saved row and three empty ones
    for index, person in enumerate(family, start=1):
        fill_row(page, index, *person)
    assert horizontal_overflow(page) == 0
    shot(page, "people-rows-no-js")
    with page.expect_navigation():
        page.get_by_test_id("save-continue").click()
    assert page.url.endswith("/origin/")
    assert saved(application) == sorted(["王芳", *(p[0] for p in family)])
