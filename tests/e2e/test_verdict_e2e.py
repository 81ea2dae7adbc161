"""What a verifier sees first: the verdict, in the browser, on the code page, the PDF check and the share-code page.

Revoked, expired and altered documents each open with a red "not valid" (the first alert's text and colour class),
and nothing on such a page is green; the holder makes a share code on /me/ and an organisation uses it.
docs/api/verify.md#the-verdict.
"""

import concurrent.futures
import datetime
import io

import pytest
from django.utils import timezone, translation
from pypdf import PdfWriter

from tests.e2e.conftest import horizontal_overflow, log_in, shot

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
HOLDER_NAME = "欧阳思远"
BORN = datetime.date(1991, 8, 15)
PUBLIC = "发证依据的信息有误，已撤销。"


def press(page, locator):
    """Click a submit button and wait until the next page has loaded, stylesheets included."""
    with page.expect_navigation(wait_until="load"):
        locator.click()


def zh(message, **values):
    with translation.override("zh-hans"):
        text = translation.gettext(message)
    return text % values if values else text


def blank_pdf(marker):
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": marker})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def off_the_loop(work):
    """Run `work` in another thread: signing uses asyncio.run(), and Playwright's loop runs in this one."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result(timeout=60)


@pytest.fixture
def documents(settings, tmp_path, site):
    """A valid, a revoked and an expired certificate of one holder, each with its signed PDF."""
    from portal import pdf
    from portal.verify import issuing
    from tests.factories import ApplicationFactory, OfficeFactory, StaffFactory, UserFactory
    from tests.pki import install_signer

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = map(str, install_signer(tmp_path))
    settings.SITE_URL = site
    station = OfficeFactory(name="金水路派出所", name_en="Jinshui Road Police Station")
    holder = UserFactory(real_name=HOLDER_NAME, username="ouyang")
    officer = StaffFactory(office=station)
    made = {}
    for name, valid_until in (
        ("valid", timezone.localdate() + datetime.timedelta(days=90)),
        ("revoked", timezone.localdate() + datetime.timedelta(days=90)),
        ("expired", timezone.localdate() - datetime.timedelta(days=1)),
    ):
        application = ApplicationFactory(office=station, applicant=holder, status="issued", certificate_generation=1)
        document, _ = issuing.issued_document_claim(
            source=application,
            generation=1,
            kind="ncr_certificate",
            title="无犯罪记录证明",
            title_en="Certificate of No Criminal Record",
            holder=holder,
            holder_name=HOLDER_NAME,
            holder_birth_date=BORN,
            issuing_office=station,
            valid_until=valid_until,
        )
        signed = off_the_loop(lambda name=name: pdf.sign_pdf(blank_pdf(name), reason="e2e"))
        made[name] = (issuing.issued_document_store(document=document, pdf=signed), signed)
    issuing.issued_document_revoke(
        document=made["revoked"][0], by=officer, reason="内部：材料系伪造", public_reason=PUBLIC
    )
    made["revoked"][0].refresh_from_db()
    made["holder"] = holder
    return made


def first_verdict(page):
    """The first alert of the page's main content: (its classes, its text, the icon's background colour)."""
    alert = page.locator("main .alert").first
    icon = alert.locator(".verify-verdict-icon")
    colour = icon.evaluate("e => getComputedStyle(e).backgroundColor") if icon.count() else ""
    return alert.get_attribute("class"), alert.inner_text(), colour


def assert_red_first(page, *words):
    classes, text, colour = first_verdict(page)
    assert "alert-danger" in classes and "alert-success" not in classes, classes
    assert text.strip().startswith("✕") and zh("Not valid") in text, text
    for word in words:
        assert word in text, (word, text)
    assert colour == "rgb(164, 22, 26)", colour  # --portal-red
    assert page.locator(".alert-success, .text-success, .bg-success").count() == 0


def assert_green_first(page):
    classes, text, colour = first_verdict(page)
    assert "alert-success" in classes and text.strip().startswith("✓") and zh("Valid, may be accepted") in text
    assert colour == "rgb(20, 108, 67)", colour


def upload(page, data, name):
    page.goto("/verify/")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": f"{name}.pdf", "mimeType": "application/pdf", "buffer": data}]
    )
    press(page, page.locator("form[enctype] button[type=submit]"))


def test_every_not_valid_answer_opens_red(documents, new_page):
    desktop, phone = new_page(**DESKTOP), new_page(**PHONE)
    valid, valid_pdf = documents["valid"]
    revoked, revoked_pdf = documents["revoked"]
    expired, expired_pdf = documents["expired"]
    revoked_on = timezone.localdate(revoked.revoked_at)

    for page, size in ((desktop, "desktop"), (phone, "phone")):
        page.goto(f"/verify/{valid.code}/")
        assert_green_first(page)
        shot(page, f"verdict-code-valid-{size}")
        page.goto(f"/verify/{revoked.code}/")
        assert_red_first(page, PUBLIC)
        assert page.locator(f"main time[datetime='{revoked_on.isoformat()}']").count() >= 1
        assert "内部" not in page.content() and HOLDER_NAME not in page.content()
        shot(page, f"verdict-code-revoked-{size}")
        page.goto(f"/verify/{expired.code}/")
        assert_red_first(page)
        assert page.locator("main h1").first.inner_text().endswith(zh("Not valid"))
        assert horizontal_overflow(page) == 0 and page.console_errors == []

    # The PDF check: the same verdicts, and a file with bytes appended after the signature is "changed".
    for data, name, words in (
        (revoked_pdf, "revoked", (PUBLIC,)),
        (expired_pdf, "expired", ()),
        (
            valid_pdf + b"\n% appended after signing\n",
            "altered",
            (zh("Not valid: the file was changed after it was signed."),),
        ),
    ):
        for page, size in ((desktop, "desktop"), (phone, "phone")):
            upload(page, data, name)
            assert_red_first(page, *words)
            shot(page, f"verdict-pdf-{name}-{size}")
            assert horizontal_overflow(page) == 0
    upload(desktop, valid_pdf, "valid")
    assert_green_first(desktop)

    # And the JSON for machines.
    for document, reason in ((revoked, "revoked"), (expired, "expired")):
        data = desktop.request.get(f"/api/verify/{document.code}/").json()
        assert (data["verdict"], data["reason"]) == ("not_valid", reason)


def test_holder_check_and_a_share_code(documents, new_page, site):
    valid, _ = documents["valid"]
    holder = documents["holder"]
    verifier = new_page(**PHONE)
    verifier.goto(f"/verify/{valid.code}/")
    form = verifier.get_by_test_id("holder-check")
    form.locator("input[name=name]").fill("欧阳 思远")
    form.locator("input[name=birth_date]").fill(BORN.strftime("%Y%m%d"))
    press(verifier, form.locator("button[type=submit]"))
    assert verifier.locator("[data-holder=match]").count() == 1
    assert verifier.get_by_test_id("holder-full-name").inner_text() == HOLDER_NAME
    assert_green_first(verifier)
    shot(verifier, "verdict-holder-match-phone")

    me = new_page(**DESKTOP)
    log_in(me, holder, site)
    me.goto("/me/")
    share = me.get_by_test_id("share-codes")
    share.locator("select[name=document]").select_option(valid.code)
    share.locator("input[name=organisation]").fill("郑州某科技有限公司")
    share.locator("input[name=purpose]").fill("入职背景调查")
    press(me, share.locator("button[type=submit]"))
    code = me.get_by_test_id("new-share-code").locator(".portal-case-number").inner_text().strip()
    assert len(code.replace("-", "")) == 24
    shot(me, "share-code-created-desktop")

    for page, size in ((new_page(**PHONE), "phone"), (new_page(**DESKTOP), "desktop")):
        page.goto("/verify/share/")
        page.locator("input[name=code]").fill(code.lower())
        page.locator("input[name=birth_date]").fill(BORN.isoformat())
        page.locator("input[name=organisation]").fill(f"郑州某科技有限公司人事部（{size}）")
        page.locator("input[name=notify_email]").fill("hr@example.test")
        press(page, page.locator("main form button[type=submit]"))
        assert_green_first(page)
        assert page.get_by_test_id("holder-full-name").inner_text() == HOLDER_NAME
        assert "入职背景调查" in page.locator("main").inner_text()
        assert horizontal_overflow(page) == 0 and page.console_errors == []
        shot(page, f"share-code-used-{size}")

    me.goto("/me/")
    uses = me.get_by_test_id("share-uses").inner_text()
    assert "郑州某科技有限公司人事部（phone）" in uses and "郑州某科技有限公司人事部（desktop）" in uses
    press(me, me.get_by_test_id("share-codes").locator("button.btn-outline-danger"))
    shot(me, "share-code-cancelled-desktop")
    after = new_page(**DESKTOP)
    after.goto("/verify/share/")
    after.locator("input[name=code]").fill(code)
    after.locator("input[name=birth_date]").fill(BORN.isoformat())
    after.locator("input[name=organisation]").fill("某公司")
    press(after, after.locator("main form button[type=submit]"))
    assert after.locator("[data-verdict=no_match]").count() == 1 and HOLDER_NAME not in after.content()
