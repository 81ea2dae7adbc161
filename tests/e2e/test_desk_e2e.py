"""The officer's desk in the browser (issue 15): the desk's counts lead to the filtered queue, the officer claims a
case on its review page, and its history page is the timeline; in Chinese and in English, with screenshots."""

import datetime

import pytest
from django.utils import timezone

from certificates.models import Status
from portal.cases.deadlines import clock_start
from portal.cases.models import DueState
from tests.e2e.conftest import log_in, shot
from tests.factories import ApplicationFactory, StaffFactory

pytestmark = pytest.mark.e2e


def due(days, state=DueState.NONE):
    return {**clock_start(3), "due_date": timezone.localdate() + datetime.timedelta(days=days), "due_state": state}


def test_the_officer_works_from_the_desk(site, page, no_mfa, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    officer = StaffFactory(real_name="王警官", username="officer_zz")
    station = officer.office
    ApplicationFactory(office=station, status=Status.SUBMITTED, **due(1, DueState.DUE_SOON))
    overdue = ApplicationFactory(office=station, status=Status.ACCEPTED, **due(-2, DueState.OVERDUE))
    ApplicationFactory(office=station, status=Status.ACCEPTED, **due(0, DueState.DUE_SOON))
    ApplicationFactory(office=station, status=Status.INFO_REQUESTED, paused_at=timezone.now(), workdays_left=2)
    ApplicationFactory(office=station, status=Status.REFUSED)
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    log_in(page, officer, site)

    page.goto("/admin/")
    desk = page.get_by_test_id("desk")
    assert "我的工作台" in desk.inner_text() and "王警官" in page.locator("#user-tools").inner_text()
    shot(page, "desk-zh")
    with page.expect_navigation():
        page.get_by_test_id("desk-overdue").first.get_by_role("link").click()
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1 and overdue.case_number in rows.inner_text()
    shot(page, "desk-queue-overdue-zh")

    page.goto("/admin/certificates/application/")
    assert page.locator("#result_list tbody tr").first.inner_text().strip().startswith(overdue.case_number)
    shot(page, "queue-default-zh")

    with page.expect_navigation():
        page.get_by_role("link", name=overdue.case_number).click()
    with page.expect_navigation():
        page.get_by_test_id("case-claim").get_by_role("button").click()
    assert "王警官" in page.get_by_test_id("case-assignee").inner_text()
    shot(page, "review-claimed-zh")

    page.goto(f"/admin/certificates/application/{overdue.pk}/history/")
    assert page.get_by_test_id("case-history-row").count() >= 1
    shot(page, "history-zh")

    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": site}])
    page.goto("/admin/")
    assert "my desk" in page.get_by_test_id("desk").inner_text().lower()
    assert "王警官" in page.locator("#user-tools").inner_text()
    shot(page, "desk-en")
    assert not [url for url in failed if not url.endswith("/favicon.ico")], failed
    # No CSP violation or script error (the favicon's 404 aside).
    assert not [error for error in page.console_errors if "404" not in error], page.console_errors
