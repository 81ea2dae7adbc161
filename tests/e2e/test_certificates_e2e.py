"""The no-criminal-record certificate end to end in a real browser: citizen, officer, worker, verifier.

The citizen applies on a 360 px phone, the officer works in the admin on a desktop, the worker task the approval
published is taken from the broker and run here (the live-server tier runs tasks by calling them; the services tier
runs a real worker), and a verifier without an account checks the code, the PDF and then the revocation.
Pages render in Chinese (the portal's default); texts are compared with the translated message, and states are
read from the data attributes the templates carry, so the tests hold whatever the catalogue says.
"""

import datetime
import io
import re

import pytest
from django.utils import formats, timezone, translation

from tests.e2e.conftest import hold_previews, horizontal_overflow, load_previews, log_in, shot
from tests.e2e.helpers import failed_responses, id_card, portrait, run_in_worker_thread, take_step

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PASSWORD = "Correct-Horse-42"  # tests.factories.UserFactory's password
HOLDER_NAME = "欧阳思远"  # four characters: the verifier must see 欧**远 only
CERTIFICATE_TITLE = "无犯罪记录证明"


def zh(message):
    """`message` (an English msgid or a lazy string) as the Chinese pages render it."""
    with translation.override("zh-hans"):
        return translation.gettext(message) if isinstance(message, str) else str(message)


def zh_date(day: datetime.date) -> str:
    with translation.override("zh-hans"):
        return formats.date_format(day, "DATE_FORMAT")


def press(page, locator):
    """Click a submit button or link and wait until the next page has loaded, stylesheets included."""
    with page.expect_navigation(wait_until="load"):
        locator.click()


def on_phone(page, name):
    """A key step on the phone: nothing scrolls sideways, no script or CSP error, and a screenshot for the record."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
    assert horizontal_overflow(page) == 0, name
    assert page.console_errors == [], name
    return shot(page, name)


# --- files made with Pillow ---------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


# --- the worker's queue ---------------------------------------------------------------------------------------


def queued_certificate_tasks():
    """Take the generate_certificate messages off the test broker (kombu's in-memory transport): [(args), ...].

    Under REDIS_URL (the services tier) a real worker owns the queue; there the caller falls back to the
    arguments in the database.
    """
    from django.conf import settings

    from portal.celery import app

    if settings.CELERY_BROKER_URL != "memory://":
        return None
    found = []
    with app.connection_for_read() as connection:
        # The queue the router sends certificate renderings to (settings.CELERY_TASK_ROUTES: "pdf").
        queue = connection.SimpleQueue(app.amqp.router.route({}, "certificates.tasks.generate_certificate")["queue"])
        try:
            while True:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    break
                if message.headers.get("task") == "certificates.tasks.generate_certificate":
                    found.append(tuple(message.payload[0]))
                message.ack()
        finally:
            queue.close()
    return found


# --- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture
def ncr(settings, tmp_path, site):
    """Private files in tmp_path, a fresh signing key, QR codes pointing at the live server, no TOTP for staff.

    The live server runs in this process, so these settings apply to the pages it serves.
    """
    from tests.pki import install_signer

    settings.MEDIA_ROOT = tmp_path / "media"
    key, cert = install_signer(tmp_path)
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = str(key), str(cert)
    settings.SITE_URL = site
    settings.STAFF_MFA_REQUIRED = False
    queued_certificate_tasks()  # whatever an earlier test left on the in-memory broker
    return settings


@pytest.fixture
def station(ncr):
    from accounts.models import Office
    from tests.factories import OfficeFactory

    return OfficeFactory(
        name="金水路派出所",
        name_en="Jinshui Road Police Station",
        kind=Office.Kind.POLICE_STATION,
        accepts_paper_collection=True,
        address="郑州市金水区金水路 88 号",
        opening_hours="周一至周五 9:00-12:00, 13:30-17:30",
        phone="0371-12345678",
    )


def admin_log_in(page, user):
    """The officer signs in on the admin's own login form (password only: STAFF_MFA_REQUIRED is off here)."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    press(page, page.locator("#login-form [type=submit]"))
    assert page.url.endswith("/admin/"), page.url


def previews_loaded(page):
    load_previews(page, "ncr-document")


def act(page, action, text=None, public_text=None, before_confirm=None):
    """Press one action button on the review page (with its text and public text, if it takes them)."""
    form = page.get_by_test_id(f"ncr-action-{action}")
    if text is not None:
        form.locator("textarea[name=text]").fill(text)
    if public_text is not None:
        form.locator("textarea[name=public_text]").fill(public_text)
    take_step(page, form, press, before_confirm)
    previews_loaded(page)


def status_of(application):
    application.refresh_from_db()
    return application.status


# --- the journey ------------------------------------------------------------------------------------------------


def test_citizen_officer_worker_verifier_journey(ncr, station, site, phone_page, new_page, tmp_path):
    from accounts.idnumber import mask_name
    from certificates import tasks
    from certificates.forms import DOCUMENT_LABELS
    from certificates.models import Application, Status
    from certificates.services import current_certificate
    from portal.documents.models import DocumentAccess
    from tests.factories import OfficeFactory, StaffFactory, UserFactory

    citizen = UserFactory(real_name=HOLDER_NAME)
    officer = StaffFactory(office=station, real_name="周建国")
    elsewhere = OfficeFactory(name="老城派出所", name_en="Laocheng Police Station", division_code="410302")
    other_officer = StaffFactory(office=elsewhere, real_name="孙立")

    # 1. The citizen applies for themself on a phone.
    page = phone_page
    log_in(page, citizen, site)
    page.goto("/certificates/")
    press(page, page.get_by_test_id("start-application"))
    assert page.url.endswith("/certificates/apply/")
    page.check("input[name=applying_for][value=self]")
    page.select_option("#id_office", str(station.pk))
    press(page, page.locator("main form.portal-form button[type=submit]"))
    application = Application.objects.get(applicant=citizen)
    number = application.case_number
    assert page.url.endswith(f"/certificates/{number}/holder/")
    assert HOLDER_NAME in page.get_by_test_id("holder-from-profile").inner_text()
    on_phone(page, "ncr-00-holder-phone")
    save_and_continue = page.locator("button[name=action][value=continue]")
    press(page, save_and_continue)

    assert page.url.endswith(f"/certificates/{number}/purpose/")
    page.check("input[name=reason][value=abroad]")
    page.fill("#id_destination_country", "德国")
    page.fill("#id_receiving_organisation", "德意志联邦共和国驻华大使馆")
    press(page, save_and_continue)

    assert page.url.endswith(f"/certificates/{number}/delivery/")
    page.check("input[name=delivery][value=collect]")
    page.select_option("#id_collection_office", str(station.pk))
    press(page, save_and_continue)

    assert page.url.endswith(f"/certificates/{number}/documents/")
    page.set_input_files("#id_id_front", id_card(tmp_path / "id-front.jpg"))
    page.set_input_files("#id_id_back", id_card(tmp_path / "id-back.jpg", back=True))
    page.set_input_files("#id_photo", portrait(tmp_path / "photo.png"))
    press(page, save_and_continue)

    # Check answers: everything there, nothing missing; tick the declaration and submit.
    assert page.url.endswith(f"/certificates/{number}/check/")
    assert page.get_by_test_id("missing").count() == 0
    answers = page.locator("main").inner_text()
    for expected in (HOLDER_NAME, station.name, "德国", "德意志联邦共和国驻华大使馆", "id-front.jpg", "photo.png"):
        assert expected in answers, expected
    assert citizen.id_number not in answers  # masked on the page
    on_phone(page, "ncr-01-check-answers-phone")
    page.check("#id_declaration")
    press(page, page.get_by_test_id("submit"))
    assert page.url.endswith(f"/certificates/{number}/submitted/")
    assert page.get_by_test_id("case-number").inner_text().strip() == number
    assert re.fullmatch(r"NCR-\d{8}-[0-9A-Z]{4}-[0-9A-Z]{4}", number)
    assert status_of(application) == Status.SUBMITTED
    on_phone(page, "ncr-02-submitted-phone")

    # 2. The officer finds the case in the station's queue and reviews it.
    desk = new_page(**DESKTOP)
    desk_failures = failed_responses(desk)
    hold_previews(desk)
    admin_log_in(desk, officer)
    desk.goto("/admin/certificates/application/")
    desk.fill("#searchbar", number)
    with desk.expect_navigation(wait_until="load"):
        desk.press("#searchbar", "Enter")
    rows = desk.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert number in rows.inner_text()
    assert mask_name(HOLDER_NAME) in rows.inner_text() and HOLDER_NAME not in rows.inner_text()
    shot(desk, "ncr-03-admin-queue")
    press(desk, rows.get_by_role("link", name=number))
    assert f"/admin/certificates/application/{application.pk}/change/" in desk.url
    assert desk.get_by_test_id("ncr-register-none").is_visible()
    assert citizen.id_number in desk.get_by_test_id("ncr-register-none").inner_text()
    documents = desk.get_by_test_id("ncr-document")
    assert documents.count() == 3
    kinds = [documents.nth(i).locator("[data-kind]").get_attribute("data-kind") for i in range(3)]
    assert sorted(kinds) == ["id_back", "id_front", "photo"]
    for i, kind in enumerate(kinds):  # the officer reads what each file is, not an internal code
        assert documents.nth(i).locator("strong").inner_text() == zh(DOCUMENT_LABELS[kind])
    previews_loaded(desk)  # every preview really loaded: the private, logged inline view answered with an image
    viewed = DocumentAccess.objects.filter(user=officer, inline=True).values_list("document__kind", flat=True)
    assert sorted(set(viewed)) == ["id_back", "id_front", "photo"]
    shot(desk, "ncr-04-admin-review")
    act(desk, "accept")
    assert status_of(application) == Status.ACCEPTED
    assert desk.get_by_test_id("ncr-status").inner_text().strip() == zh(Status.ACCEPTED.label)
    # Approving is irreversible: the officer ticks the required checks and confirms on a page that says what will
    # happen and who is told how.
    checklist = desk.get_by_test_id("checklist-approve")
    assert zh("The photo matches the ID document") in checklist.inner_text()

    def confirmation(page):
        what = page.get_by_test_id("confirm-what").inner_text()
        assert what == zh("You are about to approve %(number)s: the certificate will be issued and signed.") % {
            "number": number
        }
        assert zh("The applicant will get an SMS and an e-mail.") in page.get_by_test_id("confirm-who").inner_text()
        assert status_of(application) == Status.ACCEPTED  # nothing happens before the confirmation
        shot(page, "ncr-04b-admin-confirm-approve")

    act(desk, "approve", before_confirm=confirmation)
    assert status_of(application) == Status.APPROVED
    assert desk.get_by_test_id("ncr-status").inner_text().strip() == zh(Status.APPROVED.label)
    shot(desk, "ncr-04c-admin-approved")
    assert desk_failures == []

    # 3. The worker: run the task the approval published, with the message's own arguments.
    expected = (application.pk, application.certificate_generation)
    queued = queued_certificate_tasks()
    if queued is not None:
        assert queued == [expected]
    assert run_in_worker_thread(tasks.generate_certificate, *expected) == "issued"
    assert status_of(application) == Status.ISSUED
    certificate = current_certificate(application=application)
    assert certificate is not None and certificate.status == "valid"

    # 4. The citizen sees the certificate and downloads the PDF.
    page.goto(f"/certificates/{number}/")
    assert page.get_by_test_id("status").inner_text().strip() == zh(Status.ISSUED.label)
    code = page.get_by_test_id("certificate-code").inner_text().strip()
    assert code == certificate.code
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", code)
    on_phone(page, "ncr-05-status-issued-phone")
    with page.expect_download() as download_info:
        page.get_by_test_id("certificate-download").click()
    pdf_path = tmp_path / "downloaded-certificate.pdf"
    download_info.value.save_as(pdf_path)
    pdf = pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert HOLDER_NAME in text
    assert CERTIFICATE_TITLE in text

    # 5. A verifier without an account scans the QR code: valid, and only the masked name.
    check = new_page(**PHONE)
    response = check.goto(f"/verify/{code}/")
    assert response.status == 200
    result = check.locator(".verify-result")
    assert result.get_attribute("data-state") == "valid"
    assert zh("Valid, may be accepted") in result.locator(".alert").first.inner_text()
    assert mask_name(HOLDER_NAME) in result.inner_text()
    assert station.name in result.inner_text()
    html = check.content()
    assert HOLDER_NAME not in html and citizen.id_number not in html and citizen.mobile[-8:] not in html
    on_phone(check, "ncr-06-verify-code-phone")

    api = check.request.get(f"/api/verify/{code}/")
    assert api.status == 200
    data = api.json()
    assert data["state"] == "valid" and data["code"] == code
    assert data["holder"] == mask_name(HOLDER_NAME)
    assert data["document_type"] == CERTIFICATE_TITLE
    assert data["issuing_office"] == station.name
    assert HOLDER_NAME not in api.text() and citizen.id_number not in api.text()

    # The PDF itself: signature valid and the bytes are those the portal issued.
    check.goto("/verify/")
    check.set_input_files("#id_pdf", pdf_path)
    press(check, check.locator("form[enctype='multipart/form-data'] button[type=submit]"))
    outcome = check.locator(".verify-pdf-result")
    assert outcome.get_attribute("data-result") == "genuine"
    verdict = outcome.locator(".verify-verdict")
    assert verdict.get_attribute("data-verdict") == "valid" and "alert-success" in verdict.get_attribute("class")
    assert zh("Valid, may be accepted") in verdict.inner_text()
    assert outcome.get_attribute("data-state") == "valid"
    on_phone(check, "ncr-07-verify-pdf-phone")

    # 6. The officer marks the paper copy printed; the citizen is told where to collect it.
    desk.reload()
    previews_loaded(desk)
    act(desk, "paper_printed")
    application.refresh_from_db()
    assert application.paper_printed_at is not None
    page.goto(f"/certificates/{number}/")
    paper = page.get_by_test_id("paper").inner_text()
    assert zh("Ready to collect at:") in paper
    for expected in (station.name, station.address, station.opening_hours):
        assert expected in paper, expected
    on_phone(page, "ncr-08-ready-to-collect-phone")

    # The officer revokes the certificate with an internal and a public reason; the verifier's page opens with a red
    # "not valid", the date and the public reason, never the internal one.
    internal, reason = "内部核查：申请材料系伪造（案卷 2026-17）。", "发证依据的信息有误，已撤销。"
    act(desk, "revoke", text=internal, public_text=reason)
    assert desk_failures == []
    certificate.refresh_from_db()
    assert certificate.status == "revoked" and certificate.revoke_reason == internal
    assert certificate.public_reason == reason
    revoked_on = timezone.localdate(certificate.revoked_at)
    check.goto(f"/verify/{code}/")
    result = check.locator(".verify-result")
    assert result.get_attribute("data-state") == "revoked"
    alert = check.locator("main .alert").first
    assert "alert-danger" in alert.get_attribute("class") and alert.get_attribute("data-verdict") == "not_valid"
    assert zh("Not valid") in alert.inner_text() and zh_date(revoked_on) in alert.inner_text()
    assert reason in alert.inner_text() and internal not in check.content()
    assert result.locator(f"time[datetime='{revoked_on.isoformat()}']").count() >= 1
    assert HOLDER_NAME not in check.content()
    on_phone(check, "ncr-09-verify-revoked-phone")
    data = check.request.get(f"/api/verify/{code}/").json()
    assert data["state"] == "revoked" and data["revoked_on"] == revoked_on.isoformat()

    assert desk.get_by_test_id("ncr-certificate").is_visible()
    assert desk.get_by_test_id("ncr-action-revoke").count() == 0
    shot(desk, "ncr-11-admin-review-revoked")

    # The citizen's status page no longer offers the revoked certificate, nor its paper copy.
    page.goto(f"/certificates/{number}/")
    assert page.get_by_test_id("certificate-revoked").is_visible()
    assert reason in page.get_by_test_id("certificate").inner_text() and internal not in page.content()
    assert page.get_by_test_id("status").inner_text() == zh("Certificate revoked")
    steps = page.get_by_test_id("timeline").locator("li strong").all_inner_texts()
    assert steps.count(zh("Certificate issued")) == 1 and steps[-1] == zh("Certificate revoked")
    assert page.get_by_test_id("certificate-download").count() == 0
    assert page.get_by_test_id("paper").count() == 0
    on_phone(page, "ncr-10-status-revoked-phone")

    # An officer of another station: not in their queue, and the review page is a 404.
    other = new_page(**DESKTOP)
    admin_log_in(other, other_officer)
    other.goto(f"/admin/certificates/application/?q={number}")
    assert number not in other.locator("#content").inner_text()
    response = other.goto(f"/admin/certificates/application/{application.pk}/change/")
    assert response.status == 404
    assert HOLDER_NAME not in other.content() and citizen.id_number not in other.content()
