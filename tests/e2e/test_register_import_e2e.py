"""The register import's job page in a real browser: it follows the job with JavaScript (a poll of the JSON address,
no inline script under the strict CSP) and without it (<meta http-equiv="refresh">), and shows the end by itself."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from accounts.idnumber import check_character
from tests.e2e.conftest import log_in, shot
from tests.e2e.helpers import failed_responses, run_in_worker_thread

pytestmark = pytest.mark.e2e
HEADER = "record_id,id_number,name,offence,court,judgment_date,sentence,sentence_months,age_at_offence"
ROWS = [
    f"R{i},{body}{check_character(body)},张三,盗窃罪,郑州市金水区人民法院,2015-06-01,有期徒刑二年,24,30"
    for i, body in enumerate(("41010519800101001", "41010519800101003"))
]


@pytest.fixture
def administrator(settings, site):
    from accounts.models import Role
    from tests.factories import StaffFactory

    settings.STAFF_MFA_REQUIRED = False
    return StaffFactory(role=Role.ADMINISTRATOR, office=None)


def queued_job(user):
    from certificates.register import register_import_start

    data = ("\r\n".join([HEADER, *ROWS]) + "\r\n").encode()
    return register_import_start(file=SimpleUploadedFile("register.csv", data, "text/csv"), kind="full", by=user)


def job_path(job):
    return f"/admin/certificates/registerimport/{job.pk}/change/"


def run_job(job):
    from certificates.register import run_import_job

    assert run_in_worker_thread(run_import_job, job.pk) == "imported"


def test_the_job_page_follows_the_import_with_javascript(page, site, administrator):
    job = queued_job(administrator)
    log_in(page, administrator, site)
    failed = failed_responses(page)
    page.goto(job_path(job))
    assert page.locator('meta[http-equiv="refresh"]').count() == 0  # inside <noscript>: not for this browser
    page.wait_for_selector('[data-polling="1"]')
    run_job(job)
    # The poll sees the end and reloads once: the finished page, with its report.
    expect(page.get_by_test_id("changed-cases")).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("rows-imported")).to_have_text("2")
    assert page.locator("progress").get_attribute("value") == "100"
    assert page.get_by_test_id("cancel-import").count() == 0
    shot(page, "register-import-done-js")
    # No CSP violation or script error; the one console error allowed is the admin's missing favicon.
    assert failed == [] and all("404" in error for error in page.console_errors), (failed, page.console_errors)


def test_the_job_page_refreshes_itself_without_javascript(new_page, site, administrator):
    job = queued_job(administrator)
    page = new_page(java_script_enabled=False)
    log_in(page, administrator, site)
    page.goto(job_path(job))
    assert page.locator('meta[http-equiv="refresh"]').count() == 1
    assert page.get_by_test_id("cancel-import").is_visible()
    run_job(job)
    expect(page.get_by_test_id("rows-imported")).to_have_text("2", timeout=15_000)  # the page reloaded itself
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    shot(page, "register-import-done-nojs")
