"""Accessibility in a real browser (WCAG 2.2 AA): axe-core on every page (points 2 and 3 are in test_display_modes.py).

1. axe-core (the axe.min.js that the axe-playwright-python package ships: nothing is fetched at test time) on every
   citizen-facing page and on the verification pages, in Chinese and in English, on a 360 px phone, and again in
   Chinese in care mode (长辈版, with 24 px body text): no serious or critical violation. Each page is also checked for sideways scrolling and photographed (tests/artifacts/screenshots/
   axe-*.png); every page showing form errors is checked for errors tied to their fields and a summary on top. The
   findings per page go to tests/artifacts/axe-summary.md.
2. The journeys (register, log in, apply for a certificate through every section to submission, track it, verify a
   certificate) at 360 px, at 200 % browser zoom, at 200 % text size, in the portal's care mode (长辈版) and without
   JavaScript; nothing scrolls sideways at any step.
3. Keyboard: a form sent back with errors puts the focus on its error summary (static/js/portal.js; without
   JavaScript the summary's role=alert remains), the summary's links move focus to their fields, the tab order
   follows the page, and every focused element shows a visible focus indicator.

Pages of a service that does not have them yet are skipped by looking their URL names up with reverse().
"""

import datetime
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tests.e2e.conftest import horizontal_overflow, log_in, shot
from tests.e2e.helpers import LANGUAGES, PHONE, id_card, issued_certificate, portrait

pytestmark = pytest.mark.e2e

BLOCKING = ("serious", "critical")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
RESULTS = ARTIFACTS / "axe"
SUMMARY = ARTIFACTS / "axe-summary.md"


AXE = Axe()  # reads the bundled axe.min.js once; each run injects it into the page


# --- what every audited page is checked for ---------------------------------------------------------------------

# Form errors: every control marked invalid is described by a visible error text inside its own field (its wrapper
# or fieldset); every error text shown belongs to a control; the summary on top is announced (role=alert or focused)
# and links only to controls that exist and can take focus.
ERROR_WIRING_JS = r"""
() => {
  const problems = [];
  const main = document.querySelector('main');
  const shown = el => !!(el && el.getClientRects().length) && getComputedStyle(el).visibility !== 'hidden';
  const byIds = ids => (ids || '').split(/\s+/).filter(Boolean).map(id => document.getElementById(id)).filter(Boolean);
  const name = el => el.id || el.name || el.tagName.toLowerCase();
  const invalid = [...main.querySelectorAll('[aria-invalid="true"]')];
  const feedback = [...main.querySelectorAll('.invalid-feedback')].filter(shown);
  const summaries = [...main.querySelectorAll('.portal-error-summary')];
  if ((invalid.length || feedback.length) && !summaries.length) problems.push('errors shown without a summary on top');
  for (const summary of summaries) {
    if (summary.getAttribute('role') !== 'alert' && document.activeElement !== summary)
      problems.push('error summary neither role=alert nor focused');
    for (const link of summary.querySelectorAll('a[href^="#"]')) {
      const target = document.getElementById(decodeURIComponent(link.getAttribute('href').slice(1)));
      if (!target) problems.push(`summary link ${link.getAttribute('href')} leads nowhere`);
      else if (!target.matches('input, select, textarea, button, [tabindex]')) problems.push(`summary link ${link.getAttribute('href')} leads to a ${target.tagName.toLowerCase()}, not a field`);
    }
  }
  for (const field of invalid)
    if (summaries.length && !summaries.some(s => s.compareDocumentPosition(field) & Node.DOCUMENT_POSITION_FOLLOWING))
      problems.push(`no error summary above the field ${name(field)}`);
  const described = new Set();
  for (const field of invalid) {
    const holder = field.closest('fieldset[aria-describedby]');
    const refs = [...byIds(field.getAttribute('aria-describedby')), ...(holder ? byIds(holder.getAttribute('aria-describedby')) : [])];
    const errors = refs.filter(el => shown(el) && el.textContent.trim() && (el.classList.contains('invalid-feedback') || /error/i.test(el.id)));
    errors.forEach(el => described.add(el));
    if (!errors.length) { problems.push(`${name(field)}: no visible error text in aria-describedby`); continue; }
    const wrapper = field.closest('[id^="div_"], fieldset, .mb-3') || field.parentElement;
    if (!errors.some(el => wrapper.contains(el))) problems.push(`${name(field)}: its error is not next to it`);
  }
  for (const el of feedback)
    if (!described.has(el)) problems.push(`error text ${el.id || el.textContent.trim().slice(0, 40)} is tied to no field`);
  return [...new Set(problems)];
}
"""


class Audit:
    """Visits pages in one browser page and records, per page, axe's violations, sideways scrolling and error wiring."""

    def __init__(self, page, group, language):
        self.page, self.group, self.language = page, group, language
        self.care = False  # care mode (长辈版): the body text must be 24 px or more
        self.rows = []

    def visit(self, name, url):
        response = self.page.goto(url)
        return self.check(name, response.status if response else 0)

    def submit(self, name, selector="main form.portal-form [type=submit]"):
        """Send the form whose first submit button matches `selector` as it is (usually empty: the error state)."""
        with self.page.expect_navigation(wait_until="load") as navigation:
            self.page.locator(selector).first.click()
        return self.check(name, navigation.value.status if navigation.value else 0)

    def check(self, name, status):
        page = self.page
        results = AXE.run(page, options={"resultTypes": ["violations"]}).response
        violations = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": len(v["nodes"]),
                "targets": [" ".join(map(str, n["target"])) for n in v["nodes"][:5]],
            }
            for v in results["violations"]
        ]
        has_errors = page.locator("main .portal-error-summary, main [aria-invalid=true]").count() > 0
        row = {
            "page": name,
            "path": urlsplit(page.url)._replace(scheme="", netloc="").geturl(),
            "status": status,
            "title": page.title(),
            "lang": page.get_attribute("html", "lang"),
            "violations": violations,
            "overflow": horizontal_overflow(page),
            "error_state": has_errors,
            "error_problems": page.evaluate(ERROR_WIRING_JS) if has_errors else [],
            "axe": results["testEngine"]["version"],
            "body_font": page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"),
        }
        self.rows.append(row)
        shot(page, f"axe-{self.language}-{self.group}-{name}")
        return row

    def failures(self):
        found = []
        for row in self.rows:
            where = f"{row['page']} ({row['path']})"
            found += [
                f"{where}: {v['id']} ({v['impact']}) x{v['nodes']}: {v['targets']}"
                for v in row["violations"]
                if v["impact"] in BLOCKING
            ]
            if row["status"] >= 500 or row["status"] == 0:
                found.append(f"{where}: HTTP {row['status']}")
            if row["lang"] != self.language:
                found.append(f"{where}: <html lang={row['lang']}>, expected {self.language}")
            if row["overflow"]:
                found.append(f"{where}: {row['overflow']} px wider than the 360 px screen")
            if self.care and row["body_font"] < 24:
                found.append(f"{where}: body text {row['body_font']} px in care mode")
            found += [f"{where}: {problem}" for problem in row["error_problems"]]
        return found

    def save(self):
        RESULTS.mkdir(parents=True, exist_ok=True)
        target = RESULTS / f"{self.group}-{self.language}.json"
        target.write_text(json.dumps({"group": self.group, "language": self.language, "pages": self.rows}, indent=1))
        write_summary()


GROUP_ORDER = ("public", "accounts", "certificates", "familyplanning", "hukou")


def write_summary():
    """tests/artifacts/axe-summary.md from every group's latest results (each test writes its own JSON file)."""
    runs = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    runs.sort(
        key=lambda r: (
            GROUP_ORDER.index(r["group"]) if r["group"] in GROUP_ORDER else 99,
            LANGUAGES.index(r["language"]) if r["language"] in LANGUAGES else 99,
        )
    )
    pages = sum(len(r["pages"]) for r in runs)
    blocking = sum(1 for r in runs for p in r["pages"] for v in p["violations"] if v["impact"] in BLOCKING)
    engine = next((p["axe"] for r in runs for p in r["pages"]), "?")
    lines = [
        "# axe-core results per page",
        "",
        f"axe-core {engine} (axe-playwright-python), Debian Chromium, 360 px phone, all rules. "
        f"{pages} page checks; {blocking} serious or critical violation(s). Written "
        f"{timezone.localtime().strftime('%Y-%m-%d %H:%M')}.",
        "",
        "Error states are checked too: each invalid field described by its error next to it, the summary on top.",
        "",
    ]
    for run in runs:
        lines += [f"## {run['group']} ({run['language']})", "", "| page | path | HTTP | violations | notes |"]
        lines += ["|---|---|---|---|---|"]
        for p in run["pages"]:
            found = "; ".join(f"{v['id']} ({v['impact']}) x{v['nodes']}" for v in p["violations"]) or "none"
            notes = []
            if p["error_state"]:
                notes.append("error state: " + ("wired" if not p["error_problems"] else "; ".join(p["error_problems"])))
            if p["overflow"]:
                notes.append(f"{p['overflow']} px sideways scroll")
            lines.append(f"| {p['page']} | {p['path']} | {p['status']} | {found} | {' '.join(notes)} |")
        lines.append("")
    temporary = SUMMARY.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text("\n".join(lines))
    temporary.replace(SUMMARY)


def url_of(name, *args, **kwargs):
    """The URL of `name`, or None while the service does not have that page yet."""
    try:
        return reverse(name, args=args, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


# --- data -----------------------------------------------------------------------------------------------------------


def audit_page(new_page, site, language, user=None, care=False):
    page = new_page(**PHONE)
    page.context.add_cookies([{"name": "portal_language", "value": language, "url": site}])
    if care:
        page.context.add_cookies([{"name": "portal_text", "value": "care", "url": site}])
    if user is not None:
        log_in(page, user, site)
    return page


# --- 1. axe on every page, both languages ----------------------------------------------------------------------


def pages_public(audit, station, tmp_path):
    """Home, track, verify (with a real certificate), login, registration, password reset, a 404: no account."""
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from accounts.tokens import password_reset_tokens
    from tests.factories import UserFactory

    page = audit.page
    application, certificate = issued_certificate(station)
    audit.visit("home", "/")
    audit.visit("track", "/track/")
    audit.submit("track-errors")
    page.fill("#id_case_number", application.case_number)
    page.fill("#id_second_factor", application.applicant.id_number[-4:])
    audit.submit("track-result")
    audit.visit("verify", "/verify/")
    page.fill("#id_code", "NOT-A-CODE")
    audit.submit("verify-code-errors", "main form[method=get] [type=submit]")
    audit.visit("verify-code-valid", f"/verify/{certificate.code}/")
    audit.visit("verify-code-unknown", "/verify/ABCD-EFGH-JKMN-PQRS-TVWX/")
    pdf = tmp_path / "certificate.pdf"
    with certificate.file.open("rb") as source:
        pdf.write_bytes(source.read())
    page.goto("/verify/")
    page.set_input_files("#id_pdf", pdf)
    audit.submit("verify-pdf-genuine", "main form[enctype='multipart/form-data'] [type=submit]")
    audit.visit("login", "/accounts/login/")
    audit.submit("login-errors")
    page.fill("#id_username", application.applicant.username)
    page.fill("#id_password", "not-the-password")
    audit.submit("login-wrong-password")
    audit.visit("register", "/accounts/register/")
    audit.submit("register-errors")
    audit.visit("password-reset", "/accounts/password/reset/")
    audit.submit("password-reset-errors")
    page.fill("main form.portal-form input[type=email]", "someone@example.test")
    audit.submit("password-reset-sent")
    someone = UserFactory()
    uid = urlsafe_base64_encode(force_bytes(someone.pk))
    audit.visit(
        "password-reset-new", f"/accounts/password/reset/confirm/{uid}/{password_reset_tokens.make_token(someone)}/"
    )
    audit.submit("password-reset-new-errors")
    audit.visit("password-reset-bad-link", f"/accounts/password/reset/confirm/{uid}/wrong-token/")
    audit.visit("password-reset-complete", "/accounts/password/reset/complete/")
    audit.visit("not-found", "/no-such-page/")


def pages_accounts(audit, station, tmp_path):
    """The signed-in citizen's own pages: my applications, profile, password, confirmations, my data."""
    from tests.factories import UserFactory

    citizen = audit.user
    issued_certificate(station, applicant=citizen)
    audit.visit("me", "/me/")
    audit.visit("profile", "/accounts/profile/")
    audit.page.fill("#id_email", "not-an-address")
    audit.submit("profile-errors", "main form.portal-form [type=submit]")
    audit.page.locator("details.portal-misuse summary").click()
    audit.submit("misuse-report-errors", "main form[action$='/report-misuse/'] [type=submit]")
    audit.visit("password-change", "/accounts/password/change/")
    audit.submit("password-change-errors")
    audit.visit("password-change-done", "/accounts/password/change/done/")
    audit.visit("my-data", "/accounts/my-data/")
    audit.submit("my-data-errors")
    newcomer = UserFactory(unconfirmed=True)
    log_in(audit.page, newcomer, audit.site)
    audit.visit("welcome-unconfirmed", "/accounts/welcome/")
    audit.visit("confirm-mobile", "/accounts/confirm-mobile/")
    audit.submit("confirm-mobile-errors")
    audit.visit("confirm-email-bad-link", "/accounts/confirm-email/not-a-token/")


def pages_certificates(audit, station, tmp_path):
    """The no-criminal-record service: guide, start, every section empty and filled, check, submit, status pages."""
    from certificates.models import Application

    page = audit.page
    citizen = audit.user
    audit.visit("guide", "/certificates/")
    audit.visit("apply", "/certificates/apply/")
    audit.submit("apply-errors")
    page.check("input[name=applying_for][value=self]")
    page.select_option("#id_office", str(station.pk))
    audit.submit("holder")
    number = Application.objects.get(applicant=citizen).case_number
    continue_button = "button[name=action][value=continue]"
    audit.submit("purpose", continue_button)
    audit.submit("purpose-errors", continue_button)
    page.check("input[name=reason][value=abroad]")
    page.fill("#id_destination_country", "德国")
    page.fill("#id_receiving_organisation", "德意志联邦共和国驻华大使馆")
    audit.submit("delivery", continue_button)
    page.check("input[name=delivery][value=collect]")
    audit.submit("delivery-errors", continue_button)  # a paper copy to collect, but no office chosen
    page.select_option("#id_collection_office", str(station.pk))
    audit.submit("documents", continue_button)
    audit.submit("documents-errors", continue_button)
    audit.visit("check-missing", f"/certificates/{number}/check/")
    page.goto(f"/certificates/{number}/documents/")
    page.set_input_files("#id_id_front", id_card(tmp_path / "id-front.jpg"))
    page.set_input_files("#id_id_back", id_card(tmp_path / "id-back.jpg", back=True))
    page.set_input_files("#id_photo", portrait(tmp_path / "photo.png"))
    audit.submit("check", continue_button)
    audit.submit("check-errors", "[data-testid=submit]")  # the declaration not ticked
    audit.visit("delete-draft", f"/certificates/{number}/delete/")
    page.goto(f"/certificates/{number}/check/")
    page.check("#id_declaration")
    audit.submit("submitted", "[data-testid=submit]")
    audit.visit("status-submitted", f"/certificates/{number}/")
    audit.visit("withdraw", f"/certificates/{number}/withdraw/")
    application, _ = issued_certificate(station, applicant=citizen)
    audit.visit("apply-again", "/certificates/apply/")
    page.check("input[name=applying_for][value=agent]")
    page.select_option("#id_office", str(station.pk))
    audit.submit("agent-holder")
    audit.submit("agent-holder-errors", continue_button)
    audit.visit("status-issued", f"/certificates/{application.case_number}/")
    audit.visit("guide-with-applications", "/certificates/")


def pages_familyplanning(audit, station, tmp_path):
    """The family-planning centre: catalogue, guides, forms, check, status, feedback, figures, policy pages."""
    from accounts.models import Office
    from familyplanning.models import ArticleKind, PolicyArticle, Status
    from portal.feedback import services as feedback
    from portal.feedback.models import FeedbackKind
    from tests.factories import FamilyPlanningApplicationFactory, OfficeFactory

    page = audit.page
    citizen = audit.user
    office = OfficeFactory(
        name="金水区卫生健康委员会", name_en="Jinshui District Health Commission", kind=Office.Kind.FAMILY_PLANNING
    )
    audit.visit("centre", "/familyplanning/")
    for key in ("birth_registration", "institution_establishment", "qualification_certificate"):
        audit.visit(f"guide-{key}", f"/familyplanning/services/{key}/")
    audit.visit("form", "/familyplanning/services/birth_registration/apply/")
    audit.submit("form-errors", "[data-testid=continue]")
    audit.visit("form-institution", "/familyplanning/services/practice_licence/apply/")
    draft = FamilyPlanningApplicationFactory(office=office, applicant=citizen, status=Status.DRAFT)
    audit.visit("check", f"/familyplanning/{draft.case_number}/check/")
    audit.submit("check-errors", "[data-testid=submit]")
    audit.visit("draft", f"/familyplanning/{draft.case_number}/")
    audit.visit("delete-draft", f"/familyplanning/{draft.case_number}/delete/")
    page.goto(f"/familyplanning/{draft.case_number}/check/")
    page.check("#id_declaration")
    audit.submit("submitted", "[data-testid=submit]")
    audit.visit("status-submitted", f"/familyplanning/{draft.case_number}/")
    audit.visit("withdraw", f"/familyplanning/{draft.case_number}/withdraw/")
    refused = FamilyPlanningApplicationFactory(
        office=office, applicant=citizen, status=Status.REFUSED, refusal_reason="材料不全", decided_at=timezone.now()
    )
    feedback.rate(citizen=citizen, office=office, level=2, reasons=["slow"], comment="排队太久")
    complaint = feedback.file_feedback(
        citizen=citizen, kind=FeedbackKind.COMPLAINT, office=office, subject="窗口态度", body="两次被拒绝而未说明原因。"
    )
    audit.visit("status-refused", f"/familyplanning/{refused.case_number}/")
    audit.visit("feedback", "/feedback/")
    audit.visit("rate-case", f"/feedback/rate/familyplanning/{refused.case_number}/")
    audit.submit("rate-case-errors")
    audit.visit("rate-office", "/feedback/rate/")
    audit.submit("rate-office-errors")
    for kind in ("complaint", "suggestion", "consultation"):
        audit.visit(kind, f"/feedback/{kind}/")
    audit.submit("consultation-errors")
    audit.visit("feedback-detail", f"/feedback/{complaint.case_number}/")
    audit.visit("figures", "/feedback/figures/")
    article = PolicyArticle.objects.create(
        kind=ArticleKind.POLICY,
        title_zh="河南省人口与计划生育条例（摘要）",
        title_en="Henan Population and Family Planning Regulations (summary)",
        body_zh="第一条 为了实现人口与经济、社会、资源、环境的协调发展，制定本条例。",
        body_en="Article 1. These regulations are made for the balanced development of population and society.",
        document_number="豫人常〔2021〕1号",
        issued_by="河南省人民代表大会常务委员会",
        published=True,
        published_on=datetime.date(2021, 11, 27),
    )
    audit.visit("policy", "/familyplanning/policy/")
    audit.visit("policy-search", "/familyplanning/policy/?q=" + "条例")
    audit.visit("policy-detail", f"/familyplanning/policy/{article.pk}/")


def pages_hukou(audit, station, tmp_path):
    """One-stop migration: guide, pre-check, start, each section empty, check, status (those pages that exist)."""
    from accounts.models import Office
    from tests.factories import OfficeFactory

    page = audit.page
    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    OfficeFactory(
        name="郑州市公安局户政管理处",
        name_en="Zhengzhou Household Administration",
        kind=Office.Kind.HOUSEHOLD_ADMIN,
        division_code="410100",
        parent=zhengzhou,
    )
    audit.visit("guide", reverse("hukou:index"))
    precheck = url_of("hukou:precheck")
    if precheck:
        audit.visit("precheck", precheck)
        audit.visit("precheck-errors", f"{precheck}?category=")
        page.goto(precheck)
        page.check("input[name=category][value=whole_household]")
        audit.submit("precheck-grounds", "main form [type=submit]")
        page.check("input[name=grounds][value=purchased_home]")
        audit.submit("precheck-head-age", "main form [type=submit]")
        page.fill("#id_head_age", "40")
        audit.submit("precheck-answer", "main form [type=submit]")
    start = url_of("hukou:apply")
    if not start:
        return
    audit.visit("apply", start)
    audit.submit("apply-errors")
    page.check("input[name=category][value=part_household]")
    page.check("input[name=grounds][value=employment]")
    page.select_option("#id_office", str(station.pk))
    audit.submit("start")
    from hukou import views
    from hukou.models import MigrationApplication

    application = MigrationApplication.objects.filter(applicant=audit.user).latest("pk")
    number = application.case_number
    for section in getattr(views, "SECTIONS", ()):
        address = url_of("hukou:section", case_number=number, section=section)
        if address:
            audit.visit(f"section-{section}", address)
            audit.submit(f"section-{section}-sent-empty", "main form button[name=action][value=continue]")
    for name in ("check", "detail", "delete"):
        address = url_of(f"hukou:{name}", case_number=number)
        if address:
            audit.visit(name, address)
            if name == "check" and page.locator("#id_declaration").count():
                audit.submit("check-errors", "main form.portal-form [type=submit]")

    # A complete, eligible move, filled in and submitted through the views as the hukou tests do: its status page.
    from django.test import Client

    from hukou.constants import Status
    from tests.factories import UserFactory
    from tests.hukou.pages import fill_eligible, id_of, submit

    luoyang = Office.objects.get(division_code="410300", kind=Office.Kind.CITY)
    move_out = OfficeFactory(
        name="老城派出所", name_en="Laocheng Police Station", division_code="410302", parent=luoyang
    )
    mover = UserFactory(real_name="王芳", id_number=id_of(34, sex="F"))
    client = Client()
    client.force_login(mover)
    moving = fill_eligible(client, {"move_in": station, "move_out": move_out}, mover)
    submit(client, moving)
    assert moving.status == Status.SUBMITTED
    log_in(page, mover, audit.site)
    audit.visit("status-submitted", reverse("hukou:detail", kwargs={"case_number": moving.case_number}))
    audit.visit("withdraw", reverse("hukou:withdraw", kwargs={"case_number": moving.case_number}))
    audit.visit("guide-with-applications", reverse("hukou:index"))


GROUPS = {
    "public": (pages_public, False),
    "accounts": (pages_accounts, True),
    "certificates": (pages_certificates, True),
    "familyplanning": (pages_familyplanning, True),
    "hukou": (pages_hukou, True),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("group", list(GROUPS))
def test_axe_finds_no_serious_violation(group, language, station, new_page, site, tmp_path):
    from tests.factories import UserFactory

    pages, signed_in = GROUPS[group]
    user = UserFactory(real_name="欧阳思远") if signed_in else None
    audit = Audit(audit_page(new_page, site, language, user), group, language)
    audit.user, audit.site = user, site
    try:
        pages(audit, station, tmp_path)
    finally:
        audit.save()
    assert audit.rows, "no page audited"
    assert audit.failures() == []


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_citizen_page_in_care_mode(group, station, new_page, site, tmp_path):
    """The same pages in care mode (长辈版), in Chinese: no serious axe finding, 24 px text, no sideways scroll."""
    from tests.factories import UserFactory

    pages, signed_in = GROUPS[group]
    user = UserFactory(real_name="欧阳思远") if signed_in else None
    audit = Audit(audit_page(new_page, site, "zh-hans", user, care=True), f"{group}-care", "zh-hans")
    audit.user, audit.site, audit.care = user, site, True
    try:
        pages(audit, station, tmp_path)
    finally:
        audit.save()
    assert audit.rows, "no page audited"
    assert audit.failures() == []
