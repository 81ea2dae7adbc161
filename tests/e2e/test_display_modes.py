"""Accessibility in a real browser, continued from test_accessibility.py (its points 2 and 3).

2. The journeys (register, log in, apply for a certificate through every section to submission, track it, verify a
   certificate) at 360 px, at 200 % browser zoom, at 200 % text size, in the portal's care mode (长辈版) and without
   JavaScript; nothing scrolls sideways at any step.
3. Keyboard: a form sent back with errors puts the focus on its error summary, the summary's links move focus to their
   fields, the tab order follows the page, and every focused element shows a visible focus indicator.

A module of its own so that the test runner's two processes (one file each at a time) share the browser checks.
"""

import datetime

import pytest

from tests.e2e.conftest import horizontal_overflow, log_in, shot
from tests.e2e.helpers import LANGUAGES, PASSWORD, PHONE, id_card, issued_certificate, portrait

pytestmark = pytest.mark.e2e

# The axe checks' fixtures (tests/e2e/conftest.py): the module's signing key, private files, the Zhengzhou station.


# --- 2. the journeys in every display mode -------------------------------------------------------------------------

JOURNEY_PASSWORD = "Yellow-River-Ferry-1989"
# Each mode: the browser context's options, the CSS width nothing may exceed, and how the text is enlarged.
MODES = {
    "phone-360": {"options": {**PHONE, "device_scale_factor": 2}, "width": 360},
    # A 1280 x 900 window at 200 % browser zoom: 640 CSS px at 2 device pixels each.
    "zoom-200": {"options": {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2}, "width": 640},
    # The browser's text size at 200 % (the root font size doubled) on the phone.
    "text-200": {"options": PHONE, "width": 360, "root_font": "200%"},
    "care-mode": {"options": PHONE, "width": 360, "care_mode": True},
    "no-javascript": {"options": {**PHONE, "java_script_enabled": False}, "width": 360},
}
# Set through the CSS object model (not a style attribute or a <style> element, which the CSP forbids).
ROOT_FONT_JS = (
    "document.addEventListener('DOMContentLoaded', () => { document.documentElement.style.fontSize = '%s'; });"
)


class Journey:
    """One person's way through the portal in one display mode; every step fits the width and is photographed."""

    def __init__(self, page, mode, width):
        self.page, self.mode, self.width = page, mode, width
        self.steps = 0

    def fits(self, name):
        page = self.page
        self.steps += 1
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= self.width, f"{self.mode} {name}: the page is {wide} px wide on a {self.width} px screen"
        assert horizontal_overflow(page) == 0, f"{self.mode} {name}"
        shot(page, f"journey-{self.mode}-{self.steps:02d}-{name}")

    def press(self, selector):
        with self.page.expect_navigation(wait_until="load"):
            self.page.locator(selector).first.click()

    def font_px(self, selector="main p"):
        return self.page.eval_on_selector(selector, "el => parseFloat(getComputedStyle(el).fontSize)")


def registration(journey, who):
    page = journey.page
    journey.press(".portal-account a[href$='/accounts/register/']")
    journey.press("main form.portal-form [type=submit]")  # nothing filled in
    assert page.locator(".portal-error-summary").is_visible()
    assert page.locator("#id_real_name").get_attribute("aria-invalid") == "true"
    journey.fits("register-errors")
    page.fill("#id_real_name", who["name"])
    page.fill("#id_id_number", who["id_number"])
    page.fill("#id_mobile", who["mobile"])
    page.fill("#id_email", who["email"])
    page.fill("#id_username", who["username"])
    page.fill("#id_password1", JOURNEY_PASSWORD)
    page.fill("#id_password2", JOURNEY_PASSWORD)
    page.check("#id_consent")
    journey.fits("register-filled")
    journey.press("main form.portal-form [type=submit]")
    assert page.url.endswith("/accounts/welcome/"), page.url
    journey.fits("welcome")
    journey.press(".portal-logout [type=submit]")
    assert page.locator(".portal-account a[href$='/accounts/login/']").is_visible()


def certificate_application(journey, citizen, station, tmp_path):
    """From the guide through login, every section and the check page to the case number."""
    page = journey.page
    page.goto("/certificates/")
    journey.fits("certificates-guide")
    journey.press("[data-testid=start-application]")  # "Log in and apply"
    assert "/accounts/login/" in page.url
    page.fill("#id_username", citizen.username)
    page.fill("#id_password", "not-the-password")
    journey.press("main form.portal-form [type=submit]")
    assert page.locator(".portal-error-summary").is_visible()
    journey.fits("login-wrong-password")
    page.fill("#id_password", PASSWORD)
    journey.press("main form.portal-form [type=submit]")
    assert page.url.endswith("/certificates/apply/"), page.url
    journey.fits("apply")
    page.check("input[name=applying_for][value=self]")
    page.select_option("#id_office", str(station.pk))
    # Without JavaScript the office picker's "Find" comes first in the form: the page's own button starts.
    journey.press("main form.portal-form [type=submit]:not([data-picker-find])")
    assert page.url.endswith("/holder/"), page.url
    journey.fits("holder")
    continue_button = "button[name=action][value=continue]"
    journey.press(continue_button)
    assert page.url.endswith("/purpose/"), page.url
    journey.press(continue_button)  # nothing chosen: the errors
    assert page.locator(".portal-error-summary").is_visible()
    journey.fits("purpose-errors")
    page.check("input[name=reason][value=employment]")
    page.fill("#id_receiving_organisation", "郑州某某科技有限公司")
    journey.press(continue_button)
    assert page.url.endswith("/delivery/"), page.url
    page.check("input[name=delivery][value=electronic]")
    journey.fits("delivery")
    journey.press(continue_button)
    assert page.url.endswith("/documents/"), page.url
    page.set_input_files("#id_id_front", id_card(tmp_path / "id-front.jpg"))
    page.set_input_files("#id_id_back", id_card(tmp_path / "id-back.jpg", back=True))
    page.set_input_files("#id_photo", portrait(tmp_path / "photo.png"))
    journey.fits("documents")
    journey.press(continue_button)
    assert page.url.endswith("/check/"), page.url
    assert page.locator("[data-testid=missing]").count() == 0
    journey.fits("check")
    page.check("#id_declaration")
    journey.press("[data-testid=submit]")
    assert page.url.endswith("/submitted/"), page.url
    journey.fits("submitted")
    return page.get_by_test_id("case-number").inner_text().strip()


def tracking(journey, number, last_four):
    page = journey.page
    page.goto("/track/")
    page.fill("#id_case_number", number)
    page.fill("#id_second_factor", last_four)
    journey.press("main form.portal-form [type=submit]")
    assert page.locator(f"article.portal-case[data-case='{number}']").is_visible()
    journey.fits("track-result")


def verification(journey, code):
    page = journey.page
    page.goto("/verify/")
    journey.fits("verify")
    page.fill("#id_code", code)
    journey.press("main form[method=get] [type=submit]")
    assert page.locator(".verify-result").get_attribute("data-state") == "valid"
    journey.fits("verify-valid")


@pytest.mark.parametrize("mode", list(MODES))
def test_journeys_in_every_display_mode(mode, station, new_page, site, tmp_path):
    from accounts.models import User
    from certificates.models import Application, Status
    from tests.factories import UserFactory, make_id_number

    settings = MODES[mode]
    page = new_page(**settings["options"])
    if settings.get("root_font"):
        page.context.add_init_script(ROOT_FONT_JS % settings["root_font"])
    journey = Journey(page, mode, settings["width"])
    index = list(MODES).index(mode)
    who = {
        "name": "欧阳思远",
        "id_number": make_id_number(area="410105", birth=datetime.date(1990, 3, 1 + index)),
        "mobile": f"1391234{index:04d}",
        "email": f"a11y-{mode}@example.test",
        "username": f"a11y-{mode}",
    }
    citizen = UserFactory(real_name="王芳")
    _, certificate = issued_certificate(station)

    page.goto("/")
    if settings.get("care_mode"):
        page.locator("[data-testid=care-mode-switch]").click()  # with JavaScript the page follows in place
        page.wait_for_selector("body.care-mode")
        page.reload()
        assert "care-mode" in page.get_attribute("body", "class").split()
        assert journey.font_px() >= 24 and journey.font_px("body") >= 24
    if settings.get("root_font"):
        assert journey.font_px("body") >= 32
    if not settings["options"].get("java_script_enabled", True):
        assert page.evaluate("1 + 1") == 2  # Playwright still evaluates; the page's own scripts do not run
    journey.fits("home")

    registration(journey, who)
    assert User.objects.filter(username=who["username"], real_name=who["name"]).exists()
    number = certificate_application(journey, citizen, station, tmp_path)
    assert Application.objects.get(case_number=number).status == Status.SUBMITTED
    tracking(journey, number, citizen.id_number[-4:])
    verification(journey, certificate.code)
    # A form sent back with its errors answers 400, which Chromium logs; anything else (a CSP report) is a failure.
    assert [e for e in page.console_errors if "status of 400 (Bad Request)" not in e] == []


# --- 3. keyboard: the error summary, the tab order and a visible focus ---------------------------------------------

FOCUSED_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    what: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} ${(el.innerText || el.value || el.name || '').trim().slice(0, 30)}`,
    order: [...document.querySelectorAll('*')].indexOf(el),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 ? style.outlineWidth : '',
    shadow: style.boxShadow !== 'none' ? style.boxShadow : '',
    top: box.top + window.scrollY, bottom: box.bottom + window.scrollY, left: box.left,
    onScreen: box.bottom > 0 && box.top < window.innerHeight && box.right > 0 && box.left < window.innerWidth,
    inFooter: !!el.closest('footer'),
    skipLink: el.classList.contains('skip-link'),
  };
}
"""


def tab_through(page, limit=80):
    """From the skip link (the first stop of every page) press Tab until focus reaches the footer; what was focused."""
    page.evaluate("window.scrollTo(0, 0)")
    page.locator(".skip-link").focus()
    seen = [page.evaluate(FOCUSED_JS)]
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        if focused is None or focused["inFooter"]:
            break
        seen.append(focused)
    return seen


def assert_focus_visible_and_in_order(stops):
    assert len(stops) >= 5, stops
    for stop in stops:
        assert stop["outline"] or stop["shadow"], f"no visible focus on {stop['what']}"
        assert stop["onScreen"], f"{stop['what']} is focused off screen"
    for before, after in zip(stops, stops[1:], strict=False):
        assert after["order"] > before["order"], f"focus jumps back from {before['what']} to {after['what']}"
        # Visual order: down the page, or along the same line from left to right.
        same_line = after["top"] < before["bottom"] and after["left"] > before["left"]
        assert after["top"] >= before["top"] - 1 or same_line, f"focus goes up from {before['what']} to {after['what']}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_errors_are_summarised_linked_and_the_focus_is_visible_and_in_order(language, station, new_page, site):
    from tests.factories import UserFactory

    # A laptop screen and a phone: the menu is one row on the first and a grid on the second.
    for options in ({"viewport": {"width": 1280, "height": 900}}, PHONE):
        # Bootstrap scrolls smoothly unless the user asks for less motion: then a focused field is in view at once.
        page = new_page(reduced_motion="reduce", **options)
        page.context.add_cookies([{"name": "portal_language", "value": language, "url": site}])
        wide = options["viewport"]["width"]

        # Registration sent empty: the keyboard from the top of the page, then every error in the summary with a
        # link that takes the keyboard to its field, which names the same error next to it.
        page.goto("/accounts/register/")
        with page.expect_navigation(wait_until="load"):
            page.locator("main form.portal-form [type=submit]").click()
        # The summary takes the focus when the page loads (static/js/portal.js) and shows it.
        assert page.evaluate("document.activeElement.classList.contains('portal-error-summary')")
        assert page.evaluate(FOCUSED_JS)["outline"]
        stops = tab_through(page)
        assert_focus_visible_and_in_order(stops)
        assert stops[0]["skipLink"] and not stops[1]["skipLink"]
        whats = [stop["what"] for stop in stops]
        first_field = whats.index(next(w for w in whats if w.startswith("input#id_real_name")))
        assert any(w.startswith("a ") for w in whats[:first_field])  # the summary's links come before the fields
        shot(page, f"focus-{language}-{wide}-register-errors")
        summary = page.locator(".portal-error-summary")
        assert summary.get_attribute("role") == "alert"
        links = summary.locator("a[href^='#']")
        fields = page.locator("main form.portal-form [aria-invalid=true]")
        assert links.count() == fields.count() >= 7
        for i in range(links.count()):
            target = links.nth(i).get_attribute("href")[1:]
            links.nth(i).click()
            assert page.evaluate("document.activeElement.id") == target
            described = page.evaluate(
                "() => document.activeElement.getAttribute('aria-describedby').split(' ')"
                ".map(id => document.getElementById(id)).filter(el => el && el.classList.contains('invalid-feedback'))"
                ".map(el => el.innerText.trim())"
            )
            assert described and described[0] in links.nth(i).inner_text(), target

        # The certificate's first step sent empty: radio buttons and a select, with their errors.
        log_in(page, UserFactory(), site)
        page.goto("/certificates/apply/")
        with page.expect_navigation(wait_until="load"):
            page.locator("main form.portal-form [type=submit]").click()
        stops = tab_through(page)
        assert_focus_visible_and_in_order(stops)
        assert any(stop["what"].startswith("input#id_applying_for_0") for stop in stops)
        assert any(stop["what"].startswith("select#id_office") for stop in stops)
        shot(page, f"focus-{language}-{wide}-certificate-apply-errors")
        summary = page.locator(".portal-error-summary")
        assert summary.locator("a").count() == 2
        for i in range(summary.locator("a").count()):
            link = summary.locator("a").nth(i)
            link.click()
            assert page.evaluate("document.activeElement.id") == link.get_attribute("href")[1:]
            assert page.evaluate("document.activeElement.getAttribute('aria-invalid')") == "true"
        page.context.clear_cookies()
