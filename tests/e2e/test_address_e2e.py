"""The address in parts (accounts.address) on a 360 px phone, with and without JavaScript (issue 16, item 4): province →
city → district lists from the GB/T 2260 codes; without JavaScript "Update the lists" brings the page back with the
lists of what was chosen, nothing lost; with it the lists follow the choices at once and the button is gone."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import horizontal_overflow, log_in, shot
from tests.e2e.helpers import PHONE, hukou_draft

pytestmark = pytest.mark.e2e


@pytest.fixture
def draft(settings, tmp_path, site):
    return hukou_draft(settings, tmp_path)


def codes(page, select):
    return page.locator(f"{select} option").evaluate_all("options => options.map(o => o.value).filter(Boolean)")


def test_the_address_without_javascript(site, new_page, draft):
    citizen, application = draft
    page = new_page(java_script_enabled=False, **PHONE)
    log_in(page, citizen, site)
    page.goto(f"/hukou/{application.case_number}/destination/")
    assert page.locator("#id_destination_address_province").input_value() == "410000"  # Henan first
    assert "410300" in codes(page, "#id_destination_address_city")
    assert codes(page, "#id_destination_address_district") == []  # no city chosen yet
    page.select_option("#id_destination_address_city", "410300")
    page.fill("#id_destination_address_detail", "西关街8号")
    with page.expect_navigation():
        page.get_by_role("button", name="更新列表").click()
    # Back with Luoyang's districts, the detail kept, no error, the district list focused.
    assert "410302" in codes(page, "#id_destination_address_district")
    assert page.locator("#id_destination_address_detail").input_value() == "西关街8号"
    assert page.locator(".is-invalid").count() == 0
    assert page.evaluate("document.activeElement.id") == "id_destination_address_district"
    assert horizontal_overflow(page) == 0
    shot(page, "address-no-js-updated")
    page.select_option("#id_destination_address_district", "410302")
    with page.expect_navigation():
        page.get_by_test_id("save-leave").click()
    application.refresh_from_db()
    assert application.destination_address == "河南省洛阳市老城区西关街8号"


def test_the_address_with_javascript(site, new_page, draft):
    citizen, application = draft
    page = new_page(**PHONE)
    log_in(page, citizen, site)
    page.goto(f"/hukou/{application.case_number}/destination/")
    assert page.get_by_role("button", name="更新列表").count() == 0  # removed by the script
    page.select_option("#id_destination_address_city", "410100")
    page.select_option("#id_destination_address_district", "410105")  # filled by the script: waits for it
    assert "410302" not in codes(page, "#id_destination_address_district")
    page.fill("#id_destination_address_detail", "经八路12号")
    shot(page, "address-js-henan")
    # Another province: its cities replace Henan's, the district list empties.
    page.select_option("#id_destination_address_province", "110000")
    page.select_option("#id_destination_address_city", "110101")
    assert codes(page, "#id_destination_address_district") == []
    expect(page.locator("#id_destination_address_district")).to_be_hidden()  # 东城区 has no districts below it
    assert "410100" not in codes(page, "#id_destination_address_city")
    assert horizontal_overflow(page) == 0 and page.console_errors == []
    shot(page, "address-js-beijing")
    with page.expect_navigation():
        page.get_by_test_id("save-leave").click()
    application.refresh_from_db()
    assert application.destination_address == "北京市东城区经八路12号"
    assert (application.destination_province, application.destination_city) == ("110000", "110101")
