"""A hukou case worked from the desk through a booked visit to settlement, in a real browser (issue 15, item 7).

The move-in station's officer finds the new case on the desk and accepts it; the citizen, on a 360 px phone, books a
time to show the originals on the case page (and gets the SMS); on the day, the officer sees the visit on the desk,
opens the case from it, records "originals seen" on the review page and forwards the case; the municipal
administration approves, the move-out station registers the emigration, the move-in station settles, and the citizen
reads the outcome of the visit and the settlement on the case page. Pages render in Chinese (the portal's default),
the desk once in English too; states are read from data attributes and the database.
"""

import datetime

import pytest
import time_machine
from django.utils import timezone

from hukou.constants import Status
from portal.notify.models import OutboxMessage
from portal.visits.models import Visit, VisitStation, VisitStatus
from portal.workdays.calendar import add_workdays
from tests.e2e.conftest import hold_previews, horizontal_overflow, log_in, shot
from tests.e2e.helpers import take_step
from tests.factories import MigrationApplicationFactory, StaffFactory, UserFactory, hukou_offices, make_id_number

pytestmark = pytest.mark.e2e
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
TZ = timezone.get_default_timezone()


def press(page, locator):
    """Click a submit button or link and wait until the next page has loaded."""
    with page.expect_navigation(wait_until="load"):
        locator.click()


def failures(page):
    failed = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return failed


def staff_page(new_page, user, site):
    """A desktop page signed in as `user`; the review pages' document previews are held back (not this test's
    subject: see tests/e2e/conftest.py)."""
    page = new_page(**DESKTOP)
    page.failures = failures(page)
    hold_previews(page)
    log_in(page, user, site)
    return page


def act(page, action, **fields):
    form = page.get_by_test_id(f"hk-action-{action}")
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    take_step(page, form, press)  # the checklist's required items ticked; an irreversible step confirmed
    assert page.locator(".messagelist .error").count() == 0, page.locator(".messagelist").inner_text()


def review(page, application):
    page.goto(f"/admin/hukou/migrationapplication/{application.pk}/change/")


def status_of(application):
    application.refresh_from_db()
    return application.status


def morning(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=TZ)


@pytest.fixture
def hukou_site(settings, tmp_path, site):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = site
    settings.STAFF_MFA_REQUIRED = False
    return settings


def test_an_officer_works_a_hukou_case_through_a_booked_visit_to_settlement(hukou_site, site, new_page, phone_page):
    offices = hukou_offices()
    officer = StaffFactory(office=offices["move_in"], real_name="王警官")
    municipal = StaffFactory(office=offices["municipal"], role="household_admin", real_name="李科长")
    move_out = StaffFactory(office=offices["move_out"], real_name="赵警官")
    VisitStation.objects.create(office=offices["move_in"], capacity=2)  # 9:00–12:00, 14:00–17:00, 30 minutes
    citizen = UserFactory(real_name="陈静", id_number=make_id_number(birth=datetime.date(1985, 3, 3)))
    application = MigrationApplicationFactory(
        offices=offices, applicant=citizen, complete=True, status=Status.SUBMITTED, submitted_at=timezone.now()
    )
    number = application.case_number
    booking_day = add_workdays(timezone.localdate(), 1).date  # always ahead of the real clock: cookies stay valid
    visit_day = add_workdays(booking_day, 1).date

    with time_machine.travel(morning(booking_day, 8, 50), tick=True):
        # The officer's desk counts the new case; its link lists it; the officer accepts it on the review page.
        desk = staff_page(new_page, officer, site)
        desk.goto("/admin/visits/visitstation/")  # the station's own timetable, and only it
        assert desk.locator("#result_list tbody tr").count() == 1
        press(desk, desk.locator("#result_list").get_by_role("link", name="金水路派出所"))
        assert desk.locator("#id_capacity").input_value() == "2"
        shot(desk, "visits-station-admin-zh")
        desk.goto("/admin/")
        hukou_row = desk.get_by_test_id("desk-service").filter(has_text="户口")
        assert hukou_row.get_by_test_id("desk-new").inner_text().strip() == "1"
        assert desk.get_by_test_id("desk-visits-none").count() == 1
        press(desk, hukou_row.get_by_test_id("desk-new").get_by_role("link"))
        press(desk, desk.locator("#result_list").get_by_role("link", name=number))
        assert desk.get_by_test_id("review-visits-none").count() == 1
        act(desk, "accept")
        assert status_of(application) == Status.ACCEPTED

        # The citizen books the first time of the next working day on the phone.
        log_in(phone_page, citizen, site)
        phone_page.goto(f"/hukou/{number}/")
        panel = phone_page.get_by_test_id("visit-panel")
        assert "预约核验原件" in panel.inner_text()
        shot(phone_page, "visits-case-page-to-book-zh")
        press(phone_page, panel.get_by_test_id("visit-book"))
        first_day = phone_page.get_by_test_id("visit-day").first
        assert f"{visit_day.month}月{visit_day.day}日" in first_day.inner_text()
        assert horizontal_overflow(phone_page) == 0
        shot(phone_page, "visits-book-page-phone-zh")
        press(phone_page, phone_page.get_by_test_id("visit-submit"))  # nothing chosen
        assert "请选择预约时间" in phone_page.get_by_test_id("visit-errors").inner_text()
        assert phone_page.console_errors == [
            "Failed to load resource: the server responded with a status of 400 (Bad Request)"
        ]
        phone_page.console_errors.clear()  # the refusal is answered 400 on purpose
        phone_page.get_by_test_id("visit-day").first.get_by_test_id("visit-slot").first.check()
        press(phone_page, phone_page.get_by_test_id("visit-submit"))
        assert phone_page.url.endswith(f"/hukou/{number}/")
        booked = phone_page.get_by_test_id("visit-booked").inner_text()
        assert "09:00–09:30" in booked and f"{visit_day.day}日" in booked
        assert horizontal_overflow(phone_page) == 0 and phone_page.console_errors == []
        shot(phone_page, "visits-case-page-booked-phone-zh")
        (sms,) = OutboxMessage.objects.filter(user=citizen, template="visits/booked")
        assert number in sms.body and "09:00" in sms.body

    with time_machine.travel(morning(visit_day, 9, 5), tick=True):
        # On the day: the visit is on the officer's desk; from it, the case; the originals are seen.
        desk = staff_page(new_page, officer, site)
        desk.goto("/admin/")
        visits = desk.get_by_test_id("desk-visits")
        row = visits.get_by_test_id("desk-visit")
        assert row.count() == 1 and number in row.inner_text() and "陈静" in row.inner_text()
        assert citizen.id_number not in visits.inner_text() and "**********" in row.inner_text()
        shot(desk, "visits-desk-today-zh")
        press(desk, row.get_by_role("link", name=number))
        visit_row = desk.get_by_test_id("review-visit")
        assert visit_row.get_attribute("data-status") == "booked"
        counter = "input[name=check][value=originals_at_counter]"  # forwarding asks for it until the visit is recorded
        assert desk.get_by_test_id("hk-action-forward").locator(counter).count() == 1
        record = desk.get_by_test_id("visit-outcome")
        record.locator("[name=internal_note]").fill("户口簿、身份证原件与上传一致")
        shot(desk, "visits-review-before-record-zh")
        press(desk, record.get_by_test_id("visit-attended"))
        assert desk.get_by_test_id("review-visit").get_attribute("data-status") == "attended"
        assert "已核验原件" in desk.get_by_test_id("review-visits").inner_text()
        shot(desk, "visits-review-originals-seen-zh")
        visit = Visit.objects.get(object_id=application.pk)
        assert visit.status == VisitStatus.ATTENDED and visit.outcome_by == officer
        assert desk.get_by_test_id("hk-action-forward").locator(counter).count() == 0
        act(desk, "forward")
        assert status_of(application) == Status.FORWARDED

        # The other offices take their steps; the move-in station settles.
        approver = staff_page(new_page, municipal, site)
        review(approver, application)
        act(approver, "approve")
        assert status_of(application) == Status.APPROVED
        registrar = staff_page(new_page, move_out, site)
        review(registrar, application)
        act(registrar, "register_emigration")
        assert status_of(application) == Status.EMIGRATED
        review(desk, application)
        act(desk, "settle")
        assert status_of(application) == Status.SETTLED

        # The desk in English still lists the day's visit, now recorded.
        desk.context.add_cookies([{"name": hukou_site.LANGUAGE_COOKIE_NAME, "value": "en", "url": site}])
        desk.goto("/admin/")
        assert "Today's booked visits" in desk.get_by_test_id("desk-visits").inner_text()
        assert desk.get_by_test_id("desk-visit").get_attribute("data-status") == "attended"
        shot(desk, "visits-desk-today-en")

        desk.goto("/admin/visits/visit/?day=today")
        assert number in desk.locator("#result_list").inner_text() and "Originals seen" in desk.content()
        shot(desk, "visits-list-today-en")

        # The citizen reads the outcome of the visit and the settlement.
        log_in(phone_page, citizen, site)
        phone_page.goto(f"/hukou/{number}/")
        assert phone_page.get_by_test_id("status").get_attribute("data-status") == Status.SETTLED
        recorded = phone_page.get_by_test_id("visit-recorded")  # the visit's outcome stays; nothing more to book
        assert (
            recorded.get_attribute("data-outcome") == "attended"
            and phone_page.get_by_test_id("visit-book").count() == 0
        )
        assert "已核验原件" in phone_page.get_by_test_id("timeline").inner_text()
        assert "内部" not in phone_page.content() and "户口簿、身份证原件与上传一致" not in phone_page.content()
        shot(phone_page, "visits-settled-phone-zh")

    for page in (desk, approver, registrar):
        assert not [url for url in page.failures if not url.endswith("/favicon.ico")], page.failures
