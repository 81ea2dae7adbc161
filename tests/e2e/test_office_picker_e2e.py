"""The office picker on a 360 px phone, with and without JavaScript (accounts.officepicker): the police station of a
no-criminal-record application chosen by city, district or part of its name."""

import pytest
from django.utils import translation

from tests.e2e.conftest import horizontal_overflow, log_in, shot

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def zh(message):
    with translation.override("zh-hans"):
        return translation.gettext(message)


def press(page, locator):
    with page.expect_navigation(wait_until="load"):
        locator.click()


def offered(page):
    """The office names the select offers now (the placeholder left out)."""
    return page.eval_on_selector_all("#id_office option[value]:not([value=''])", "options => options.map(o => o.text)")


@pytest.fixture
def stations(site):
    from accounts.models import Office
    from tests.factories import OfficeFactory

    luoyang = Office.objects.get(division_code="410300", kind=Office.Kind.CITY)
    return {
        "jingba": OfficeFactory(name="经八路派出所", name_en="Jingba Road Station", division_code="410105"),
        "huayuan": OfficeFactory(name="花园路派出所", name_en="Huayuan Road Station", division_code="410105"),
        "erqi": OfficeFactory(name="建中街派出所", name_en="Jianzhong Street Station", division_code="410103"),
        "laocheng": OfficeFactory(
            name="老城派出所", name_en="Laocheng Station", division_code="410302", parent=luoyang
        ),
    }


def test_without_javascript_find_narrows_the_list_and_keeps_the_answer(stations, site, new_page):
    from certificates.models import Application
    from tests.factories import UserFactory

    citizen = UserFactory()
    page = new_page(java_script_enabled=False, **PHONE)
    log_in(page, citizen, site)
    page.goto("/certificates/apply/")
    page.check("input[name=applying_for][value=agent]")
    page.select_option("select[name=office__city]", "410100")
    page.select_option("select[name=office__district]", "410105")
    press(page, page.locator("button[name=office__find]"))

    assert sorted(offered(page)) == sorted(["经八路派出所", "花园路派出所"])
    assert page.is_checked("input[name=applying_for][value=agent]")  # nothing typed is lost
    # The count is a notice beside the list, not an error: no error summary, nothing marked invalid.
    assert page.locator(".portal-error-summary").count() == 0 and page.locator(".is-invalid").count() == 0
    notice = page.locator("[data-picker-notice]")
    with translation.override("zh-hans"):
        found = translation.ngettext(
            "%(count)d office found: choose it from the list.", "%(count)d offices found: choose one from the list.", 2
        )
    assert notice.inner_text() == found % {"count": 2} == "找到 2 个办事机构：请从列表中选择。"
    assert notice.is_visible() and notice.get_attribute("role") == "status"
    # The page opens at the list, focused, where "Find" was pressed.
    assert page.evaluate("document.activeElement.id") == "id_office"
    assert page.locator("#id_office").is_visible()
    assert horizontal_overflow(page) == 0
    shot(page, "office-picker-360-no-js-found")

    page.fill("input[name=office__q]", "经八")
    press(page, page.locator("button[name=office__find]"))
    assert offered(page) == ["经八路派出所"]
    page.select_option("#id_office", str(stations["jingba"].pk))
    press(page, page.get_by_role("button", name=zh("Start the application")))
    application = Application.objects.get(applicant=citizen)
    assert application.office == stations["jingba"] and page.url.endswith("/holder/")


def test_with_javascript_the_list_narrows_as_the_citizen_types(stations, site, new_page):
    from certificates.models import Application
    from tests.factories import UserFactory

    citizen = UserFactory()
    page = new_page(**PHONE)
    log_in(page, citizen, site)
    page.goto("/certificates/apply/")
    assert page.locator("button[name=office__find]").count() == 0  # the lists narrow by themselves
    assert set(offered(page)) >= {"经八路派出所", "花园路派出所", "建中街派出所", "老城派出所"}

    page.select_option("select[name=office__city]", "410300")
    assert offered(page) == ["老城派出所"]
    assert page.locator("select[name=office__district] option[value='410105']").count() == 0  # Zhengzhou's
    page.select_option("select[name=office__city]", "")
    page.fill("input[name=office__q]", "路")
    assert sorted(offered(page)) == sorted(["经八路派出所", "花园路派出所"])
    assert page.get_by_text(zh("Offices found: {count}").replace("{count}", "2")).is_visible()
    assert horizontal_overflow(page) == 0
    shot(page, "office-picker-360-js-typed")

    page.fill("input[name=office__q]", "花园")
    page.select_option("#id_office", str(stations["huayuan"].pk))
    page.check("input[name=applying_for][value=agent]")
    press(page, page.get_by_role("button", name=zh("Start the application")))
    assert Application.objects.get(applicant=citizen).office == stations["huayuan"]
    assert page.console_errors == []
