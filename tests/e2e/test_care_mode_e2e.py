"""Care mode (长辈版) and the message centre in a real browser, on a 360 px phone.

1. Care mode on the certificate application (every section, with its errors, to submission) and on /me/ and the
   message centre: axe finds nothing serious or critical; the computed body font size is at least 24 px and the line
   height at least 1.5; body text and help text have a contrast of at least 7:1; nothing in the main text is smaller
   than the body; buttons are at least 56 px high; no decorative image shows; nothing scrolls sideways. The switch
   carries aria-pressed, is remembered, and works with and without JavaScript.
2. The message centre's unread count in the header: it goes down as messages are opened and disappears when all are
   read.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.conftest import horizontal_overflow, log_in, shot
from tests.e2e.helpers import PHONE, id_card, portrait

pytestmark = pytest.mark.e2e

AXE = Axe()
BLOCKING = ("serious", "critical")

# Measures what care mode promises, in the page as the browser computed it. Contrast: WCAG's relative luminance of
# the text colour against the first opaque background among the element and its ancestors.
CARE_CHECKS_JS = r"""
() => {
  const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * c(r) + 0.7152 * c(g) + 0.0722 * c(b);
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const contrast = el => {
    const a = lum(rgb(getComputedStyle(el).color).slice(0, 3)), b = lum(background(el));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const name = el => `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} "${(el.innerText || '').trim().slice(0, 25)}"`;
  const body = getComputedStyle(document.body);
  const texts = [...document.querySelectorAll('main p, main li, main dd, main dt, main label, main legend, main td, main th, main .form-text, main .invalid-feedback, main .btn, main a, .portal-toolbar .btn, .portal-nav a')]
    .filter(el => shown(el) && el.innerText.trim() && !el.closest('.visually-hidden'));
  const help = texts.filter(el => el.matches('.form-text, .text-body-secondary, .text-muted, .portal-case-meta dt, .portal-message-meta'));
  return {
    bodyFont: parseFloat(body.fontSize),
    lineHeight: parseFloat(body.lineHeight) / parseFloat(body.fontSize),
    helpCount: help.length,
    small: texts.filter(el => parseFloat(getComputedStyle(el).fontSize) < 23.9).map(name),
    lowContrast: texts.filter(el => contrast(el) < 7).map(el => `${name(el)} ${contrast(el).toFixed(2)}:1`),
    bodyContrast: contrast(document.querySelector('main p, main h1')),
    lowTargets: [...document.querySelectorAll('main .btn, .portal-toolbar .btn, .portal-nav a, .portal-account .btn')]
      .filter(shown).filter(el => el.getBoundingClientRect().height < 55.5).map(name),
    decorative: [...document.querySelectorAll('img[alt=""], svg[aria-hidden=true]')].filter(shown).length,
  };
}
"""


def check_care_page(page, name, *, needs_help_text=False, axe=True):
    """Every promise of care mode on the page now shown; returns the measurements. `axe=False` where the page has
    JavaScript turned off (axe cannot be injected there; the same page is audited with it on)."""
    assert "care-mode" in page.get_attribute("body", "class").split(), name
    if axe:
        results = AXE.run(page, options={"resultTypes": ["violations"]}).response
        blocking = [f"{v['id']} ({v['impact']})" for v in results["violations"] if v["impact"] in BLOCKING]
        assert blocking == [], f"{name}: {blocking}"
    measured = page.evaluate(CARE_CHECKS_JS)
    assert measured["bodyFont"] >= 24, (name, measured["bodyFont"])
    assert measured["lineHeight"] >= 1.5, (name, measured["lineHeight"])
    assert measured["bodyContrast"] >= 7, (name, measured["bodyContrast"])
    assert measured["small"] == [], (name, measured["small"])
    assert measured["lowContrast"] == [], (name, measured["lowContrast"])
    assert measured["lowTargets"] == [], (name, measured["lowTargets"])
    assert measured["decorative"] == 0, name
    if needs_help_text:
        assert measured["helpCount"] > 0, f"{name}: no help text measured"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
    assert horizontal_overflow(page) == 0, name
    shot(page, f"care-{name}")
    return measured


def submit(page, selector="main form.portal-form [type=submit]"):
    with page.expect_navigation(wait_until="load"):
        page.locator(selector).first.click()


def test_care_mode_on_the_certificate_application_and_on_me(station, new_page, site, tmp_path):
    from certificates.models import Application, Status
    from tests.factories import ApplicationFactory, UserFactory

    citizen = UserFactory(real_name="欧阳秀英")
    ApplicationFactory(applicant=citizen, office=station, issued=True)  # a finished case on /me/
    ApplicationFactory(applicant=citizen, office=station, info_requested=True)  # one that needs her
    page = new_page(**PHONE)
    log_in(page, citizen, site)

    page.goto("/certificates/apply/")
    switch = page.get_by_test_id("care-mode-switch")
    assert switch.get_attribute("aria-pressed") == "false"
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == 16
    switch.click()  # with JavaScript the page switches in place
    page.wait_for_selector("body.care-mode")
    assert switch.get_attribute("aria-pressed") == "true"
    page.reload()  # remembered by its cookie
    assert page.get_by_test_id("care-mode-switch").get_attribute("aria-pressed") == "true"
    check_care_page(page, "certificate-apply")
    submit(page)  # nothing chosen: the errors, with their help texts
    check_care_page(page, "certificate-apply-errors")

    page.check("input[name=applying_for][value=self]")
    page.select_option("#id_office", str(station.pk))
    submit(page)
    assert page.url.endswith("/holder/"), page.url
    check_care_page(page, "certificate-holder")
    continue_button = "button[name=action][value=continue]"
    submit(page, continue_button)
    assert page.url.endswith("/purpose/"), page.url
    submit(page, continue_button)
    check_care_page(page, "certificate-purpose-errors", needs_help_text=True)
    page.check("input[name=reason][value=employment]")
    page.fill("#id_receiving_organisation", "郑州某某科技有限公司")
    submit(page, continue_button)
    assert page.url.endswith("/delivery/"), page.url
    page.check("input[name=delivery][value=electronic]")
    check_care_page(page, "certificate-delivery")
    submit(page, continue_button)
    assert page.url.endswith("/documents/"), page.url
    page.set_input_files("#id_id_front", id_card(tmp_path / "id-front.jpg"))
    page.set_input_files("#id_id_back", id_card(tmp_path / "id-back.jpg", back=True))
    page.set_input_files("#id_photo", portrait(tmp_path / "photo.png"))
    check_care_page(page, "certificate-documents", needs_help_text=True)
    submit(page, continue_button)
    assert page.url.endswith("/check/"), page.url
    check_care_page(page, "certificate-check")
    page.check("#id_declaration")
    submit(page, "[data-testid=submit]")
    assert page.url.endswith("/submitted/"), page.url
    check_care_page(page, "certificate-submitted")
    number = page.get_by_test_id("case-number").inner_text().strip()
    assert Application.objects.get(case_number=number).status == Status.SUBMITTED

    page.goto("/me/")
    check_care_page(page, "me")
    groups = page.eval_on_selector_all("main section[data-group]", "els => els.map(e => e.dataset.group)")
    assert groups[:3] == ["action", "in_progress", "finished"]
    assert page.locator(f"section[data-group=in_progress] article[data-case='{number}']").is_visible()
    # One column: every case card is as wide as the main column.
    widths = page.eval_on_selector_all(
        "main article.portal-case", "els => els.map(e => e.getBoundingClientRect().width)"
    )
    assert len(set(round(w) for w in widths)) == 1
    page.goto("/me/messages/")
    check_care_page(page, "messages")
    # A form sent back with its errors answers 400, which Chromium logs; anything else (a CSP report) is a failure.
    assert [e for e in page.console_errors if "status of 400 (Bad Request)" not in e] == []


def test_care_switch_without_javascript(station, new_page, site):
    from tests.factories import UserFactory

    page = new_page(java_script_enabled=False, **PHONE)
    log_in(page, UserFactory(), site)
    page.goto("/me/")
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("care-mode-switch").click()
    assert page.url.endswith("/me/")  # back on the same page
    assert page.get_by_test_id("care-mode-switch").get_attribute("aria-pressed") == "true"
    check_care_page(page, "me-nojs", axe=False)
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("care-mode-switch").click()
    assert "care-mode" not in page.get_attribute("body", "class").split()
    assert page.get_by_test_id("care-mode-switch").get_attribute("aria-pressed") == "false"


def test_the_message_centres_unread_count(station, new_page, site):
    from accounts import services as account_services
    from portal.notify.services import notify_user
    from tests.factories import ApplicationFactory, UserFactory

    citizen = UserFactory(language="zh-hans")
    other = UserFactory()
    application = ApplicationFactory(applicant=citizen, office=station, accepted=True)
    # What the services really send: a step's e-mail and SMS, and a code that must never be mirrored.
    context = {"application": application, "case_number": application.case_number, "message": "请补充户口簿首页"}
    notify_user(citizen, template="certificates/info_requested", context=context)
    notify_user(other, template="certificates/info_requested", context=context)
    account_services.mobile_code_send(user=citizen)
    page = new_page(**PHONE)
    log_in(page, citizen, site)

    page.goto("/me/")
    badge = page.locator(".portal-account [data-testid=unread-count]")
    assert badge.inner_text() == "2"
    link = page.get_by_test_id("messages-link")
    assert "2" in link.inner_text() and "条未读" in link.text_content()
    shot(page, "messages-header-2-unread")
    with page.expect_navigation(wait_until="load"):
        link.click()
    items = page.locator("[data-testid=message-list] li")
    assert items.count() == 2  # the other person's message and the code are not here
    assert page.locator("li[data-read=no]").count() == 2
    results = AXE.run(page, options={"resultTypes": ["violations"]}).response
    assert [v["id"] for v in results["violations"] if v["impact"] in BLOCKING] == []
    assert horizontal_overflow(page) == 0
    shot(page, "messages-list")

    with page.expect_navigation(wait_until="load"):
        items.first.locator("a").click()
    assert application.case_number in page.get_by_test_id("message-body").inner_text()
    assert badge.inner_text() == "1"  # opened: one unread left
    shot(page, "messages-detail")
    page.go_back()
    page.reload()
    assert page.locator("li[data-read=no]").count() == 1
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("mark-all-read").click()
    assert page.locator("[data-testid=unread-count]").count() == 0
    assert page.locator("li[data-read=no]").count() == 0
    shot(page, "messages-all-read")
