"""The family-planning service centre in a real browser.

Every service of the catalogue is applied for through its online form up to the case number; birth registration (on
a 360 px phone) and the practice licence with its periodic validation go all the way: the officer accepts and
approves on the admin review page, the worker task the approval published is taken off the broker and run, the
citizen downloads the signed document, and a verifier finds it valid on /verify/ (and, after the validation, the old
licence superseded and the new one valid for longer). Pages render in Chinese, the portal's default; states are read
from the data attributes the templates carry.
"""

import concurrent.futures
import datetime
import io

import pytest
from django.utils import formats, translation

from tests.e2e.conftest import horizontal_overflow, log_in, shot
from tests.e2e.helpers import fill_address, take_step

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PASSWORD = "Correct-Horse-42"  # tests.factories.UserFactory's password
SERVICE_KEYS = [
    "birth_registration",
    "birth_registration_floating",
    "birth_registration_cancellation",
    "only_child_certificate",
    "only_child_certificate_cancellation",
    "floating_population_certificate",
    "institution_establishment",
    "institution_change",
    "practice_licence",
    "practice_licence_validation",
    "qualification_certificate",
    "qualification_certificate_validation",
]
TASK = "familyplanning.tasks.generate_document"


def zh(message):
    with translation.override("zh-hans"):
        return str(message)


def zh_date(day: datetime.date) -> str:
    with translation.override("zh-hans"):
        return formats.date_format(day, "DATE_FORMAT")


def press(page, locator):
    """Click a submit button or link and wait until the next page has loaded, stylesheets included."""
    with page.expect_navigation(wait_until="load"):
        locator.click()


def looks_right(page, name, *, width=None, status=200):
    """A key step: nothing scrolls sideways, no script or CSP error; a screenshot for the record.

    A form returned with its errors comes with status 400, which Chromium reports on the console: that one (and only
    that one) is expected when `status` says so.
    """
    if status == 400:
        page.console_errors[:] = [e for e in page.console_errors if "status of 400 (Bad Request)" not in e]
    if width:
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
    assert horizontal_overflow(page) == 0, name
    assert page.console_errors == [], name
    return shot(page, name)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


# --- the worker ----------------------------------------------------------------------------------------------------


def take_published(task_name):
    """Take the messages of `task_name` off the test broker (kombu's in-memory transport): [args, ...]; None under
    a real broker (the services tier), where a worker owns the queue."""
    from django.conf import settings

    from portal.celery import app

    if settings.CELERY_BROKER_URL != "memory://":
        return None
    taken = []
    queue_name = app.amqp.router.route({}, task_name)["queue"].name  # the queue CELERY_TASK_ROUTES sends it to
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(queue_name)
        try:
            while True:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    break
                if message.headers.get("task") == task_name:
                    taken.append(tuple(message.payload[0]))
                message.ack()
        finally:
            queue.close()
    return taken


def work(task, *args):
    """Run a task as a worker process would: in a thread of its own with its own database connection (Playwright's
    loop runs in this thread, and pyHanko's signer starts one of its own)."""
    from django.db import connections

    def run():
        try:
            return task(*args)
        finally:
            connections.close_all()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=60)


# --- fixtures -----------------------------------------------------------------------------------------------------


@pytest.fixture
def fp(settings, tmp_path, site):
    """Private files in tmp_path, a fresh signing key, QR codes to the live server, staff without TOTP."""
    from tests.pki import install_signer

    settings.MEDIA_ROOT = tmp_path / "media"
    key, cert = install_signer(tmp_path)
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = str(key), str(cert)
    settings.SITE_URL = site
    settings.STAFF_MFA_REQUIRED = False
    take_published(TASK)  # whatever an earlier test left on the in-memory broker
    return settings


@pytest.fixture
def office(fp):
    from accounts.models import Office
    from tests.factories import OfficeFactory

    OfficeFactory(
        name="老城区卫生健康委员会",
        name_en="Laocheng Health Commission",
        kind=Office.Kind.FAMILY_PLANNING,
        division_code="410302",
    )
    return OfficeFactory(
        name="金水区卫生健康委员会",
        name_en="Jinshui District Health Commission",
        kind=Office.Kind.FAMILY_PLANNING,
        division_code="410105",
    )


@pytest.fixture
def officer(office):
    from accounts.models import Role
    from tests.factories import StaffFactory

    return StaffFactory(office=office, real_name="周主任", role=Role.FAMILY_PLANNING_OFFICER)


# --- the citizen's side -------------------------------------------------------------------------------------------


def fill_in(page, key, answers):
    """Type `answers` into the online form of `key` as a person would: text, dates, numbers, options."""
    from familyplanning import catalogue
    from familyplanning.fields import ADDRESS_PARTS, Kind, form_data_from_answers, stored_address

    form_def = catalogue.get_service(key).form
    data = form_data_from_answers(form_def, answers)
    form = page.get_by_test_id("application-form")
    for definition in form_def.fields:
        if definition.kind != Kind.ADDRESS:
            continue
        # An address in parts: the city and district lists follow the province and city chosen.
        for part in ADDRESS_PARTS:
            data.pop(f"{definition.name}_{part}", None)
        address = stored_address(answers, definition.name)
        if address is not None:
            fill_address(page, definition.name, address.city, address.district, address.detail, street=address.street)
    for name, value in data.items():
        if value in ("", None, []):
            continue
        field = form.locator(f'[name="{name}"]').first
        kind = field.get_attribute("type")
        if kind == "radio":
            form.locator(f'input[name="{name}"][value="{value}"]').check()
        elif kind == "checkbox":
            for item in value:
                form.locator(f'input[name="{name}"][value="{item}"]').check()
        else:
            field.fill(str(value))


def apply_online(page, key, office, answers, *, shots=None, width=None):
    """From the service's guide to the confirmation page; returns the case number."""
    from familyplanning.models import FamilyPlanningApplication, Status

    page.goto(f"/familyplanning/services/{key}/")
    press(page, page.get_by_test_id("apply-online"))
    assert page.url.endswith(f"/familyplanning/services/{key}/apply/")
    page.select_option("#id_office", str(office.pk))
    fill_in(page, key, answers)
    if shots:
        looks_right(page, f"{shots}-form", width=width)
    press(page, page.get_by_test_id("continue"))
    assert page.url.endswith("/check/"), page.url
    assert page.get_by_test_id("problems").count() == 0
    if shots:
        looks_right(page, f"{shots}-check", width=width)
    page.check("#id_declaration")
    press(page, page.get_by_test_id("submit"))
    assert page.url.endswith("/submitted/")
    number = page.get_by_test_id("case-number").inner_text().strip()
    application = FamilyPlanningApplication.objects.get(case_number=number)
    assert application.status == Status.SUBMITTED and application.service == key
    if shots:
        looks_right(page, f"{shots}-submitted", width=width)
    return number


def admin_log_in(page, user):
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    press(page, page.locator("#login-form [type=submit]"))
    assert page.url.endswith("/admin/"), page.url


def review(desk, application, *, shots=None):
    """The officer finds the case in the queue, accepts and approves it on the review page."""
    from familyplanning.models import Status

    desk.goto(f"/admin/familyplanning/familyplanningapplication/?q={application.case_number}")
    rows = desk.locator("#result_list tbody tr")
    assert rows.count() == 1
    press(desk, rows.get_by_role("link", name=application.case_number))
    assert desk.get_by_test_id("fp-answers").count() == len(application.service_def.form.sections)
    if shots:
        shot(desk, f"{shots}-admin-review")
    for action, status in (("accept", Status.ACCEPTED), ("approve", Status.APPROVED)):
        take_step(desk, desk.get_by_test_id(f"fp-action-{action}"), press)
        application.refresh_from_db()
        assert application.status == status, action
        assert desk.get_by_test_id("fp-status").inner_text().strip() == zh(application.get_status_display())


def issue(application):
    """The worker makes the document the approval published."""
    from familyplanning import services, tasks
    from familyplanning.models import Status

    published = take_published(TASK)
    if published is not None:
        assert published == [(application.pk, services.DOCUMENT_GENERATION)]
    assert work(tasks.generate_document, application.pk, services.DOCUMENT_GENERATION) == "issued"
    application.refresh_from_db()
    assert application.status == Status.ISSUED
    return services.current_document(application=application)


def download(page, tmp_path, name):
    with page.expect_download() as info:
        page.get_by_test_id("document-download").click()
    path = tmp_path / name
    info.value.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    return data


def verified(page, code):
    """The verifier's view of `code`: (state, text of the result)."""
    response = page.goto(f"/verify/{code}/")
    assert response.status == 200
    result = page.locator(".verify-result")
    return result.get_attribute("data-state"), result.inner_text()


# --- every service through submission ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", SERVICE_KEYS)
def test_every_service_is_applied_for_in_the_browser(key, office, page, site):
    from familyplanning import catalogue
    from tests.factories import UserFactory, sample_answers

    assert sorted(SERVICE_KEYS) == sorted(catalogue.SERVICES)
    citizen = UserFactory()
    log_in(page, citizen, site)
    number = apply_online(page, key, office, sample_answers(key), shots=f"fp-service-{key}")
    press(page, page.get_by_test_id("detail-link"))
    assert page.get_by_test_id("status").get_attribute("data-status") == "submitted"
    assert number in page.locator("h1").inner_text()


# --- two services all the way ---------------------------------------------------------------------------------------


def test_birth_registration_on_a_phone_to_a_verified_certificate(office, officer, site, phone_page, new_page, tmp_path):
    from accounts.idnumber import mask_name
    from familyplanning.models import FamilyPlanningApplication, Status
    from tests.factories import UserFactory, make_id_number, sample_answers

    wife = {"name": "欧阳思远", "id_number": make_id_number(birth=datetime.date(1994, 3, 8), sex="F")}
    husband = {"name": "李明", "id_number": make_id_number(birth=datetime.date(1992, 7, 1), sex="M")}
    citizen = UserFactory(real_name=wife["name"], id_number=wife["id_number"])
    answers = sample_answers(
        "birth_registration",
        wife=wife,
        husband=husband,
        wife_residence_address_parts={
            "province": "410000",
            "city": "410100",
            "district": "410105",
            "street": "",
            "detail": "农业路 12 号",
        },
    )

    # 1. The citizen reads the catalogue and the guide on a phone, and downloads the blank form.
    page = phone_page
    log_in(page, citizen, site)
    page.goto("/familyplanning/")
    assert page.locator("[data-service]").count() == 12
    looks_right(page, "fp-00-catalogue-phone", width=360)
    press(page, page.locator('[data-service="birth_registration"] h3 a'))
    assert page.get_by_test_id("time-limit").is_visible()
    looks_right(page, "fp-01-guide-phone", width=360)
    blank = page.request.get(
        page.locator('[data-testid="blank-forms"] a[data-language="zh-hans"]').get_attribute("href")
    )
    assert blank.status == 200 and blank.headers["content-type"] == "application/pdf"
    assert "生育登记" in pdf_text(blank.body())

    # 2. A draft first: half the form, saved, then continued.
    press(page, page.get_by_test_id("apply-online"))
    page.select_option("#id_office", str(office.pk))
    page.fill("#id_wife_name", wife["name"])
    page.fill("#id_wife_id_number", wife["id_number"][:-1] + ("0" if wife["id_number"][-1] != "0" else "1"))
    wrong = page.input_value("#id_wife_id_number")
    press(page, page.get_by_test_id("save-draft"))
    # A wrong ID number does not stop a draft: everything typed is kept, and what to fix is said.
    draft = FamilyPlanningApplication.objects.get(applicant=citizen)
    assert draft.status == Status.DRAFT and page.get_by_test_id("draft").is_visible()
    page.goto(f"/familyplanning/{draft.case_number}/form/")
    assert page.locator(".portal-error-summary").is_visible()
    assert page.input_value("#id_wife_name") == wife["name"] and page.input_value("#id_wife_id_number") == wrong
    assert page.input_value("#id_office") == str(office.pk)
    looks_right(page, "fp-02-form-error-phone", width=360)
    page.fill("#id_wife_id_number", wife["id_number"])
    press(page, page.get_by_test_id("save-draft"))
    draft.refresh_from_db()
    assert draft.kept_inputs == {} and page.get_by_test_id("draft").is_visible()
    page.goto(f"/familyplanning/{draft.case_number}/form/")
    assert page.input_value("#id_wife_id_number") == wife["id_number"]
    fill_in(page, "birth_registration", answers)
    looks_right(page, "fp-03-form-phone", width=360)
    press(page, page.get_by_test_id("continue"))
    assert page.get_by_test_id("problems").count() == 0
    main = page.locator("main").inner_text()
    for expected in (wife["name"], husband["name"], wife["id_number"], "郑州市金水区农业路 12 号", office.name):
        assert expected in main, expected
    looks_right(page, "fp-04-check-phone", width=360)
    page.check("#id_declaration")
    press(page, page.get_by_test_id("submit"))
    number = page.get_by_test_id("case-number").inner_text().strip()
    assert number == draft.case_number
    looks_right(page, "fp-05-submitted-phone", width=360)

    # 3. The officer accepts and approves on the review page.
    desk = new_page(**DESKTOP)
    admin_log_in(desk, officer)
    application = FamilyPlanningApplication.objects.get(case_number=number)
    review(desk, application, shots="fp-06")

    # 4. The worker issues the certificate; the citizen sees it and downloads it.
    document = issue(application)
    page.goto(f"/familyplanning/{number}/")
    assert page.get_by_test_id("status").inner_text().strip() == zh(Status.ISSUED.label)
    assert page.get_by_test_id("document").get_attribute("data-state") == "valid"
    assert page.get_by_test_id("document-code").inner_text().strip() == document.code
    looks_right(page, "fp-07-issued-phone", width=360)
    text = pdf_text(download(page, tmp_path, "birth-service-certificate.pdf"))
    assert "生育服务证" in text and wife["name"] in text and document.code in text

    # 5. A verifier without an account: valid, the holder's name masked.
    check = new_page(**PHONE)
    state, result = verified(check, document.code)
    assert state == "valid" and mask_name(wife["name"]) in result and office.name in result
    assert wife["name"] not in check.content() and wife["id_number"] not in check.content()
    looks_right(check, "fp-08-verify-phone", width=360)

    # /me/ lists the case with its status and links to its page.
    page.goto("/me/")
    case = page.locator(f'[data-case="{number}"]')
    assert zh(Status.ISSUED.label) in case.inner_text()
    press(page, case.locator("h3 a"))
    assert page.url.endswith(f"/familyplanning/{number}/")


def test_practice_licence_and_its_validation_extend_the_verified_licence(
    office, officer, site, page, new_page, tmp_path
):
    from familyplanning import services
    from familyplanning.models import FamilyPlanningApplication, Status
    from tests.factories import UserFactory, sample_answers

    citizen = UserFactory(real_name="张卫国")
    institution = "郑州市金水区妇幼保健计划生育服务中心"
    log_in(page, citizen, site)
    desk = new_page(**DESKTOP)
    admin_log_in(desk, officer)

    # 1. The licence: applied for, approved, issued, verified.
    answers = sample_answers(
        "practice_licence", institution_name=institution, technical_staff=12, qualified_staff=10, floor_area=860
    )
    number = apply_online(page, "practice_licence", office, answers, shots="fp-10-licence")
    application = FamilyPlanningApplication.objects.get(case_number=number)
    review(desk, application, shots="fp-11-licence")
    licence = issue(application)
    assert licence.valid_until is not None
    page.goto(f"/familyplanning/{number}/")
    assert page.get_by_test_id("valid-until").inner_text().strip() == zh_date(licence.valid_until)
    looks_right(page, "fp-12-licence-issued")
    text = pdf_text(download(page, tmp_path, "licence.pdf"))
    assert "计划生育技术服务机构执业许可证" in text and institution in text
    state, result = verified(new_page(**DESKTOP), licence.code)
    assert state == "valid" and zh_date(licence.valid_until) in result

    # 2. The periodic validation names the licence by its code; the office approves; a new licence runs on.
    validation_answers = sample_answers(
        "practice_licence_validation",
        licence_number=licence.code,
        institution_name=institution,
        valid_until=licence.valid_until.isoformat(),
        technical_staff=12,
        qualified_staff=11,
        operations=340,
        self_assessment="全年规范开展计划生育技术服务，无医疗事故。",
    )
    number = apply_online(page, "practice_licence_validation", office, validation_answers, shots="fp-13-validation")
    validation = FamilyPlanningApplication.objects.get(case_number=number)
    page.goto(f"/familyplanning/{number}/")
    assert page.get_by_test_id("affected").get_attribute("data-state") == "valid"
    review(desk, validation, shots="fp-14-validation")
    assert desk.get_by_test_id("fp-affected").is_visible()
    renewed = issue(validation)
    expected_until = services.add_months(licence.valid_until + datetime.timedelta(days=1), 12) - datetime.timedelta(
        days=1
    )
    assert renewed.valid_until == expected_until > licence.valid_until

    page.goto(f"/familyplanning/{number}/")
    assert page.get_by_test_id("status").inner_text().strip() == zh(Status.ISSUED.label)
    assert page.get_by_test_id("valid-until").inner_text().strip() == zh_date(expected_until)
    assert page.get_by_test_id("affected").get_attribute("data-state") == "revoked"
    looks_right(page, "fp-15-validation-issued")
    text = pdf_text(download(page, tmp_path, "licence-validated.pdf"))
    assert renewed.code in text and institution in text

    verifier = new_page(**PHONE)
    state, result = verified(verifier, renewed.code)
    assert state == "valid" and zh_date(expected_until) in result
    looks_right(verifier, "fp-16-verify-renewed-phone", width=360)
    state, result = verified(verifier, licence.code)
    assert state == "revoked"
    looks_right(verifier, "fp-17-verify-superseded-phone", width=360)

    # The first application's page now says its licence was replaced.
    page.goto(f"/familyplanning/{application.case_number}/")
    assert page.get_by_test_id("document").get_attribute("data-state") == "revoked"
    assert renewed.code in page.get_by_test_id("document").inner_text()
    assert page.get_by_test_id("document-download").count() == 0
