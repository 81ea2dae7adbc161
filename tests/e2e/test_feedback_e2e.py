"""Ratings and complaints in a real browser: a citizen on a phone rates a decided case poorly and complains, the office
answers the follow-up in the admin, the citizen reads the answer, and anyone reads the monthly figures.

Pages render in Chinese (the portal's default); states are read from the data attributes the templates carry.
"""

import pytest

from tests.e2e.conftest import horizontal_overflow, log_in, shot

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Horse-42"  # tests.factories.UserFactory's password


def press(page, locator):
    with page.expect_navigation(wait_until="load"):
        locator.click()


def on_phone(page, name):
    assert horizontal_overflow(page) == 0, name
    assert page.console_errors == [], name
    return shot(page, name)


@pytest.fixture
def fp(settings, tmp_path, site):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = site
    settings.STAFF_MFA_REQUIRED = False
    return settings


def test_rate_complain_answer_and_figures(fp, site, phone_page, new_page):
    from accounts.models import Office, Role
    from familyplanning.models import Status
    from portal.feedback.models import Feedback, FeedbackKind, FeedbackStatus, Rating
    from tests.factories import FamilyPlanningApplicationFactory, OfficeFactory, StaffFactory, UserFactory

    office = OfficeFactory(
        name="金水区卫生健康委员会",
        name_en="Jinshui District Health Commission",
        kind=Office.Kind.FAMILY_PLANNING,
        address="郑州市金水区文化路 1 号",
    )
    officer = StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER, real_name="周主任")
    citizen = UserFactory(real_name="陈静")
    application = FamilyPlanningApplicationFactory(office=office, applicant=citizen, status=Status.ISSUED)

    # The citizen sees the decided case among those to rate, and rates it "dissatisfied" with reasons.
    page = phone_page
    log_in(page, citizen, site)
    page.goto("/feedback/")
    assert page.get_by_test_id("to-rate").count() == 1
    on_phone(page, "fb-01-my-feedback")
    press(page, page.locator(f"a[href='/feedback/rate/familyplanning/{application.case_number}/']"))
    page.check("input[name=level][value='2']")
    page.check("input[name=reasons][value='slow']")
    page.check("input[name=reasons][value='several_trips']")
    page.fill("textarea[name=comment]", "等了很久，跑了三趟。")
    on_phone(page, "fb-02-rate-form")
    # A satisfied reason does not fit a dissatisfied rating: the page says so and keeps the answers.
    page.check("input[name=reasons][value='courteous']")
    press(page, page.get_by_test_id("send-rating"))
    assert page.locator(".portal-error-summary").count() == 1
    assert page.is_checked("input[name=reasons][value='slow']")
    # The form comes back with status 400, which the browser logs; nothing else may have gone wrong.
    assert [e for e in page.console_errors if "400" not in e] == []
    page.console_errors.clear()
    on_phone(page, "fb-03-rate-error")
    page.uncheck("input[name=reasons][value='courteous']")
    press(page, page.get_by_test_id("send-rating"))
    rating = Rating.objects.get()
    follow_up = Feedback.objects.get(kind=FeedbackKind.FOLLOW_UP)
    assert rating.level == 2 and follow_up.rating == rating
    # Back on the case's page: the rating and its follow-up instead of the link; /feedback/ lists the follow-up.
    assert page.url.endswith(f"/familyplanning/{application.case_number}/")
    assert follow_up.case_number in page.get_by_test_id("your-rating").inner_text()
    on_phone(page, "fb-04-rated")
    page.goto("/feedback/")
    assert page.locator(f"[data-case='{follow_up.case_number}']").count() == 1

    # A complaint about a member of staff, without JavaScript.
    no_js = new_page(java_script_enabled=False, viewport={"width": 360, "height": 740})
    log_in(no_js, citizen, site)
    no_js.goto("/feedback/complaint/")
    no_js.select_option("select[name=office]", str(office.pk))
    no_js.fill("input[name=staff_named]", "工号 0421")
    no_js.fill("input[name=subject]", "窗口人员态度差")
    no_js.fill("textarea[name=body]", "多次被要求补交同一份材料。")
    press(no_js, no_js.get_by_test_id("send-feedback"))
    item = Feedback.objects.get(kind=FeedbackKind.COMPLAINT)
    assert no_js.url.endswith(f"/feedback/{item.case_number}/")
    assert "工号 0421" in no_js.get_by_test_id("summary").inner_text()
    shot(no_js, "fb-05-complaint-sent")

    # The office answers the follow-up in the admin.
    desk = new_page(viewport={"width": 1280, "height": 900})
    desk.goto("/admin/login/?next=/admin/")
    desk.fill("#id_username", officer.username)
    desk.fill("#id_password", PASSWORD)
    press(desk, desk.locator("#login-form [type=submit]"))
    desk.goto("/admin/feedback/feedback/")
    assert desk.locator(f"text={follow_up.case_number}").count() == 1
    assert desk.locator(f"text={item.case_number}").count() == 1
    shot(desk, "fb-06-admin-queue")
    press(desk, desk.locator(f"a:text-is('{follow_up.case_number}')"))
    assert "等了很久" in desk.get_by_test_id("fb-rating").inner_text()
    shot(desk, "fb-07-admin-review")
    form = desk.get_by_test_id("fb-action-answer")
    form.locator("textarea").fill("经核实，已对窗口工作人员进行批评教育，并优化了材料清单。")
    press(desk, form.locator("input[type=submit]"))
    follow_up.refresh_from_db()
    assert follow_up.status == FeedbackStatus.ANSWERED and follow_up.answered_on_time
    shot(desk, "fb-08-admin-answered")

    # The citizen reads the answer.
    page.goto(f"/feedback/{follow_up.case_number}/")
    assert "优化了材料清单" in page.get_by_test_id("answer-text").inner_text()
    on_phone(page, "fb-09-answer")

    # Anyone reads the figures, without an account.
    public = new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    public.goto("/feedback/figures/")
    row = public.locator(f"[data-office-card='{office.pk}']")  # a card per office on a phone
    assert row.locator("[data-col=ratings]").inner_text() == "1"
    assert row.locator("[data-col=satisfaction]").inner_text() == "0.0%"
    assert row.locator("[data-col=complaints]").inner_text() == "1"
    assert horizontal_overflow(public) == 0
    shot(public, "fb-10-figures")
    wide = new_page(viewport={"width": 1280, "height": 900})
    wide.goto("/feedback/figures/")
    assert wide.locator(f"tr[data-office='{office.pk}'] [data-col=average]").inner_text() == "2.00"
    shot(wide, "fb-11-figures-desktop")


def test_rate_a_decided_certificate_and_a_hukou_case_on_a_phone(fp, site, phone_page):
    """一事一评 beyond family planning: from the certificate's page and from /me/ (the hukou case), once each."""
    from accounts.models import Office
    from portal.feedback.models import Feedback, FeedbackKind, Rating
    from tests.factories import ApplicationFactory, MigrationApplicationFactory, OfficeFactory, UserFactory

    station = OfficeFactory(name="经八路派出所", kind=Office.Kind.POLICE_STATION, division_code="410105")
    citizen = UserFactory(real_name="陈静")
    certificate = ApplicationFactory(applicant=citizen, office=station, issued=True)
    move = MigrationApplicationFactory(applicant=citizen, office=station, refused=True)

    page = phone_page
    log_in(page, citizen, site)
    page.goto(f"/certificates/{certificate.case_number}/")
    on_phone(page, "fb-20-ncr-decided")
    press(page, page.get_by_test_id("rate").locator("a"))
    page.check("input[name=level][value='5']")
    page.check("input[name=reasons][value='quick']")
    on_phone(page, "fb-21-ncr-rate-form")
    press(page, page.get_by_test_id("send-rating"))
    assert page.url.endswith(f"/certificates/{certificate.case_number}/")
    assert page.get_by_test_id("rate").count() == 0
    assert page.get_by_test_id("your-rating").count() == 1
    on_phone(page, "fb-22-ncr-rated")

    # The hukou case, from /me/'s list of cases to rate: a poor rating opens the station's follow-up.
    page.goto("/me/")
    to_rate = page.get_by_test_id("to-rate")
    assert certificate.case_number not in to_rate.inner_text() and move.case_number in to_rate.inner_text()
    on_phone(page, "fb-23-me-to-rate")
    press(page, to_rate.locator(f"a[href='/feedback/rate/hukou/{move.case_number}/']"))
    page.check("input[name=level][value='1']")
    page.check("input[name=reasons][value='several_trips']")
    press(page, page.get_by_test_id("send-rating"))
    assert page.url.endswith(f"/hukou/{move.case_number}/")
    follow_up = Feedback.objects.get(kind=FeedbackKind.FOLLOW_UP)
    assert follow_up.office == station and follow_up.about_case_number == move.case_number
    assert follow_up.case_number in page.get_by_test_id("your-rating").inner_text()
    on_phone(page, "fb-24-hukou-rated")
    assert sorted(Rating.objects.values_list("service", flat=True)) == ["certificates", "hukou"]
    page.goto("/me/")
    assert page.get_by_test_id("to-rate").count() == 0


def test_an_anonymous_consultation_answered_by_e_mail(fp, site, new_page):
    """No account: the question is asked on a phone, the office answers, the e-mail in the outbox carries the link."""
    import re

    from accounts.models import Office, Role
    from portal.feedback import services as feedback
    from portal.feedback.models import Feedback
    from portal.notify.models import OutboxMessage
    from tests.factories import OfficeFactory, StaffFactory

    fp.REDIS_URL = ""
    office = OfficeFactory(name="金水区卫生健康委员会", kind=Office.Kind.FAMILY_PLANNING)
    page = new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    page.goto("/feedback/figures/")
    press(page, page.get_by_test_id("ask-anonymously"))
    page.fill("input[name=name]", "王芳")
    page.fill("input[name=email]", "wang.fang@example.com")
    page.select_option("select[name=office]", str(office.pk))
    page.fill("input[name=subject]", "二孩登记")
    page.fill("textarea[name=body]", "请问二孩登记需要带什么材料？")
    on_phone(page, "fb-30-ask-without-account")
    press(page, page.get_by_test_id("send-question"))
    item = Feedback.objects.get()
    assert page.get_by_test_id("case-number").inner_text() == item.case_number and item.applicant is None
    on_phone(page, "fb-31-asked")

    feedback.answer(
        feedback=item, by=StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER), text="请带户口簿和结婚证。"
    )
    mail = OutboxMessage.objects.filter(to="wang.fang@example.com").latest("pk")
    link = re.search(r"(/feedback/answer/\S+/)", mail.body).group(1)
    page.goto(link)
    assert "请带户口簿和结婚证" in page.get_by_test_id("answer-text").inner_text()
    assert "二孩登记需要带什么材料" in page.get_by_test_id("message").inner_text()
    on_phone(page, "fb-32-answer-by-link")
