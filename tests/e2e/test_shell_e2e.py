"""The shell in a real browser: a 360 px phone, the language and care-mode switches, with and without JavaScript."""

import pytest

from tests.e2e.conftest import horizontal_overflow, shot
from tests.factories import SampleCaseFactory

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}

# Interactive elements whose box must be at least 44 x 44 CSS px (WCAG 2.5.5 / Apple HIG). Inline text links
# in running prose are exempt, as WCAG allows.
SMALL_TARGETS_JS = """
() => [...document.querySelectorAll('button, .btn, .portal-nav-list a, .portal-brand, .portal-account-name, input:not([type=hidden]), select')]
  .filter(el => el.offsetParent !== null)
  .map(el => ({text: (el.innerText || el.name || el.id).trim().slice(0, 40), rect: el.getBoundingClientRect()}))
  .filter(({rect}) => rect.height < 44 || rect.width < 44)
  .map(({text, rect}) => `${text}: ${Math.round(rect.width)}x${Math.round(rect.height)}`)
"""


def press(page, name, **options):
    """Click a button that submits a form and wait until the next page has loaded, stylesheets included."""
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name=name, **options).click()


def lang(page):
    return page.get_attribute("html", "lang")


def font_px(page, selector):
    return page.eval_on_selector(selector, "el => parseFloat(getComputedStyle(el).fontSize)")


def assert_phone_layout(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert horizontal_overflow(page) == 0
    assert font_px(page, "body") >= 16
    assert page.evaluate(SMALL_TARGETS_JS) == []


def test_home_on_a_phone_in_chinese_then_english_then_care_mode(phone_page):
    page = phone_page
    page.goto("/")
    assert lang(page) == "zh-hans"
    assert page.locator(".portal-brand-name").inner_text() == "河南政务服务网"
    assert page.locator("article.portal-service").count() >= 3
    assert_phone_layout(page)
    shot(page, "home-phone-zh")

    press(page, "English")
    page.wait_for_selector("html[lang=en]")
    assert page.get_by_role("heading", name="How online services work").is_visible()
    assert page.get_by_role("button", name="简体中文").is_visible()
    assert_phone_layout(page)
    shot(page, "home-phone-en")

    normal = font_px(page, "main p")
    switch = page.get_by_role("button", name="Care mode")
    assert switch.get_attribute("aria-pressed") == "false"
    switch.click()  # with JavaScript: switched in place, no new page
    page.wait_for_selector("body.care-mode")
    assert switch.get_attribute("aria-pressed") == "true"
    assert font_px(page, "main p") >= 24 > normal
    assert font_px(page, "body") >= 24
    assert_phone_layout(page)
    shot(page, "home-phone-en-care")
    page.reload()
    assert "care-mode" in page.get_attribute("body", "class").split()  # remembered

    page.get_by_role("button", name="Care mode").click()
    page.wait_for_selector("body:not(.care-mode)")
    assert page.get_by_role("button", name="Care mode").get_attribute("aria-pressed") == "false"
    assert font_px(page, "main p") == normal
    assert page.console_errors == []  # no CSP violation, no script error


@pytest.mark.parametrize(("path", "heading"), [("/", "How online services work"), ("/track/", "Track progress")])
def test_switches_work_without_javascript(new_page, path, heading):
    page = new_page(java_script_enabled=False, **PHONE)
    name = "home" if path == "/" else path.strip("/")
    page.goto(path)
    assert lang(page) == "zh-hans"
    press(page, "English")
    assert lang(page) == "en"
    assert page.url.endswith(path)  # back on the same page
    assert page.get_by_role("heading", name=heading, exact=True).is_visible()
    shot(page, f"{name}-phone-nojs-en")

    press(page, "Care mode")
    assert "care-mode" in page.get_attribute("body", "class").split()
    assert page.get_by_role("button", name="Care mode").get_attribute("aria-pressed") == "true"
    assert page.url.endswith(path)
    assert_phone_layout(page)
    shot(page, f"{name}-phone-nojs-en-care")

    press(page, "简体中文")
    assert lang(page) == "zh-hans"
    assert "care-mode" in page.get_attribute("body", "class").split()  # the two preferences are independent
    shot(page, f"{name}-phone-nojs-zh-care")
    press(page, "长辈版")
    assert "care-mode" not in page.get_attribute("body", "class").split()
    assert page.get_by_role("button", name="长辈版").get_attribute("aria-pressed") == "false"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/certificates/", "certificates-guide"),
        ("/familyplanning/", "familyplanning-guide"),
        ("/hukou/", "hukou-guide"),
        ("/track/", "track"),
        ("/no-such-page/", "404"),
    ],
)
def test_pages_fit_a_phone(phone_page, site, path, name):
    page = phone_page
    page.context.add_cookies([{"name": "portal_language", "value": "en", "url": site}])
    page.goto(path)
    assert lang(page) == "en"
    assert_phone_layout(page)
    shot(page, f"{name}-phone-en")
    assert page.console_errors == [] or path == "/no-such-page/"  # the 404 status itself is logged


def test_track_not_found_and_the_form_errors_on_a_phone(phone_page):
    page = phone_page
    page.goto("/track/")
    press(page, "English")
    page.wait_for_selector("html[lang=en]")
    press(page, "Search")  # empty form: the error summary
    assert page.locator(".portal-error-summary").is_visible()
    shot(page, "track-phone-errors")
    page.get_by_label("Case number").fill("NCR-20261124-00001")
    page.get_by_label("Last four characters of the applicant's ID number").fill("1234")
    press(page, "Search")
    assert page.get_by_text("No application matches these details.").is_visible()
    assert_phone_layout(page)
    shot(page, "track-phone-not-found")


def test_desktop_home_and_keyboard_skip_link(page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    box = skip.bounding_box()
    assert box and box["y"] >= 0  # moved into view when focused
    outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
    shot(page, "home-desktop-zh-skip-link")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert horizontal_overflow(page) == 0


def test_my_applications_on_a_phone(phone_page, site):
    import datetime

    from tests.e2e.conftest import log_in
    from tests.factories import OfficeFactory, UserFactory

    page = phone_page
    citizen = UserFactory(real_name="王小明")
    log_in(page, citizen, site)
    page.context.add_cookies([{"name": "portal_language", "value": "en", "url": site}])
    page.goto("/me/")
    assert page.get_by_text("You have no applications yet.").is_visible()
    shot(page, "me-phone-empty")

    SampleCaseFactory(applicant=citizen, office=OfficeFactory(), due_date=datetime.date(2026, 10, 29))
    page.reload()
    assert page.locator("article.portal-case").count() == 1
    assert page.locator(".portal-account-name").inner_text().endswith("王*明")
    assert_phone_layout(page)
    shot(page, "me-phone-one-case")

    press(page, "Log out")
    assert page.get_by_role("link", name="Log in").first.is_visible()
