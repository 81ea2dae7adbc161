"""One-stop hukou migration end to end in a real browser: a citizen and three offices in two cities.

The citizen applies on a 360 px phone (a whole application: herself as head of household and her son of 8 moving,
her husband staying as the new head), then four staff members, each with their own account, work the case in the
Django admin through the review page: the move-in station in Zhengzhou accepts and forwards, the Zhengzhou household
administration approves the Permit to Move In, the move-out station in Luoyang registers the emigration, and the
move-in station settles. The citizen finally reads the instruction to come and print the Permanent Resident
Registration Form. Pages render in Chinese (the portal's default); states are read from data attributes and the
database, and texts compared through the catalogue, so the test holds whatever the translation says.
"""

import datetime

import pytest
from django.utils import timezone, translation
from PIL import Image, ImageDraw

from tests.e2e.conftest import hold_previews, horizontal_overflow, load_previews, log_in, shot
from tests.e2e.helpers import fill_address, take_step

pytestmark = pytest.mark.e2e

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PASSWORD = "Correct-Horse-42"  # tests.factories.UserFactory's password


def zh(message):
    with translation.override("zh-hans"):
        return translation.gettext(message) if isinstance(message, str) else str(message)


def press(page, locator):
    """Click a submit button or link and wait until the next page has loaded, stylesheets included."""
    with page.expect_navigation(wait_until="load"):
        locator.click()


def on_phone(page, name):
    """A citizen page on the phone: nothing scrolls sideways, no script or CSP error, and a screenshot."""
    assert horizontal_overflow(page) == 0, name
    assert page.console_errors == [], name
    return shot(page, name)


def scan(path, title, size=(900, 600)):
    """A readable stand-in for a scanned paper: JPEG with a title and a few lines."""
    image = Image.new("RGB", size, (246, 244, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, size[0] - 20, size[1] - 20), outline=(120, 40, 40), width=4)
    draw.text((60, 60), title, fill=(20, 20, 20))
    for n in range(6):
        draw.line((60, 140 + 60 * n, size[0] - 80, 140 + 60 * n), fill=(160, 160, 160), width=2)
    image.save(path, format="JPEG")
    return path


def born(years, days=0):
    today = timezone.localdate()
    return today.replace(year=today.year - years) - datetime.timedelta(days=days)


# --- staff in the admin -------------------------------------------------------------------------------------


def admin_log_in(page, user):
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    press(page, page.locator("#login-form [type=submit]"))
    assert page.url.endswith("/admin/"), page.url


def failed_responses(page):
    failed = []
    page.on(
        "response",
        lambda r: (
            failed.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None
        ),
    )
    return failed


def desk_for(new_page, user):
    desk = new_page(**DESKTOP)
    desk.failures = failed_responses(desk)
    hold_previews(desk)
    admin_log_in(desk, user)
    return desk


def open_from_inbox(desk, number, application):
    """The office's inbox (cases where it must act now) lists the case; the officer opens its review page."""
    desk.goto("/admin/hukou/migrationapplication/?inbox=acting")
    rows = desk.locator("#result_list tbody tr")
    assert number in rows.inner_text()
    press(desk, rows.get_by_role("link", name=number))
    assert f"/admin/hukou/migrationapplication/{application.pk}/change/" in desk.url
    load_previews(desk, "hk-document")


def act(desk, action, before_confirm=None, **fields):
    form = desk.get_by_test_id(f"hk-action-{action}")
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    take_step(desk, form, press, before_confirm)
    assert desk.locator(".messagelist .error").count() == 0, desk.locator(".messagelist").inner_text()
    load_previews(desk, "hk-document")


def status_of(application):
    application.refresh_from_db()
    return application.status


# --- the journey ------------------------------------------------------------------------------------------------


@pytest.fixture
def hukou_site(settings, tmp_path, site):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = site
    settings.STAFF_MFA_REQUIRED = False
    return settings


def test_citizen_and_three_offices_in_two_cities(hukou_site, site, phone_page, new_page, tmp_path):
    from accounts.models import Office, Role
    from hukou.constants import Status
    from hukou.models import MigrationApplication
    from portal.documents.models import DocumentAccess
    from portal.notify.models import Channel, OutboxMessage
    from tests.factories import OfficeFactory, StaffFactory, UserFactory, make_id_number

    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    luoyang = Office.objects.get(division_code="410300", kind=Office.Kind.CITY)
    move_in = OfficeFactory(
        name="经八路派出所",
        name_en="Jingba Road Police Station",
        parent=zhengzhou,
        address="郑州市金水区经八路12号",
        opening_hours="周一至周五 9:00-17:00",
        phone="0371-65550000",
    )
    municipal = OfficeFactory(
        name="郑州市公安局户政管理处",
        name_en="Zhengzhou Household Administration",
        kind=Office.Kind.HOUSEHOLD_ADMIN,
        division_code="410100",
        parent=zhengzhou,
    )
    move_out = OfficeFactory(name="西关派出所", name_en="Xiguan Police Station", division_code="410302", parent=luoyang)

    citizen = UserFactory(real_name="王芳", id_number=make_id_number(birth=born(34), sex="F"))
    son_id = make_id_number(birth=born(8), sex="M")
    husband_id = make_id_number(birth=born(36), sex="M")
    accepting_officer = StaffFactory(office=move_in, real_name="李警官")
    settling_officer = StaffFactory(office=move_in, real_name="陈警官")
    approver = StaffFactory(office=municipal, real_name="孙科长", role=Role.HOUSEHOLD_ADMIN)
    emigration_officer = StaffFactory(office=move_out, real_name="赵警官")

    # 1. The citizen applies on her phone.
    page = phone_page
    log_in(page, citizen, site)
    page.goto("/hukou/")
    press(page, page.get_by_test_id("start-application"))
    assert page.url.endswith("/hukou/apply/")
    page.check("input[name=category][value=part_household]")
    page.check("input[name=grounds][value=purchased_home]")
    page.select_option("#id_office", str(move_in.pk))
    on_phone(page, "hk-00-apply-phone")
    press(page, page.get_by_test_id("start"))
    application = MigrationApplication.objects.get(applicant=citizen)
    number = application.case_number
    assert page.url.endswith(f"/hukou/{number}/destination/")
    assert application.municipal_office == municipal

    fill_address(page, "destination_address", "410100", "410105", "经八路12号院3号楼2单元501室")
    assert page.get_by_test_id("reveal-joining").is_hidden()  # not joining relatives: not asked
    on_phone(page, "hk-01-destination-phone")
    press(page, page.get_by_test_id("save-continue"))

    assert page.url.endswith(f"/hukou/{number}/movers/")
    # Her own row is filled in from her account; she adds her son, under 16, with herself as guardian.
    assert page.locator("#id_movers-0-id_number").input_value() == citizen.id_number
    page.select_option("#id_movers-0-relation", "head")
    page.fill("#id_movers-1-name", "李小明")
    page.fill("#id_movers-1-id_number", son_id)
    page.select_option("#id_movers-1-relation", "child")
    page.check("#id_movers-1-guardian_present")
    page.fill("#id_movers-1-guardian_name", "王芳")
    press(page, page.get_by_test_id("save-add"))
    derived = page.get_by_test_id("derived")
    assert [derived.nth(i).get_attribute("data-age") for i in range(2)] == ["34", "8"]
    on_phone(page, "hk-02-movers-phone")
    press(page, page.get_by_test_id("save-continue"))

    assert page.url.endswith(f"/hukou/{number}/origin/")
    fill_address(page, "origin_address", "410300", "410302", "西关街8号")
    page.select_option("#id_origin_office", str(move_out.pk))
    # She moves as head: she is the head of the household she leaves, not asked for again.
    assert page.get_by_test_id("head-moves").is_visible() and page.locator("#id_origin_head_id_number").count() == 0
    page.fill("#id_staying-0-name", "李强")
    page.fill("#id_staying-0-id_number", husband_id)
    page.select_option("#id_staying-0-relation", "spouse")
    page.check("#id_staying-0-is_new_head")
    on_phone(page, "hk-03-origin-phone")
    press(page, page.get_by_test_id("save-continue"))

    assert page.url.endswith(f"/hukou/{number}/authorisations/")
    assert page.get_by_test_id("nothing-needed").is_visible()
    press(page, page.get_by_test_id("save-continue"))

    assert page.url.endswith(f"/hukou/{number}/documents/")
    page.set_input_files("#id_id_card", scan(tmp_path / "id-card.jpg", "RESIDENT ID CARD"))
    page.set_input_files("#id_booklet", scan(tmp_path / "booklet.jpg", "HOUSEHOLD REGISTER BOOKLET"))
    page.set_input_files("#id_evidence", scan(tmp_path / "property.jpg", "PROPERTY CERTIFICATE"))
    on_phone(page, "hk-04-documents-phone")
    press(page, page.get_by_test_id("save-continue"))

    # Check the answers: nothing missing, every rule met; ID numbers masked.
    assert page.url.endswith(f"/hukou/{number}/check/")
    assert page.get_by_test_id("problems").count() == 0 and page.get_by_test_id("no-problems").is_visible()
    answers = page.locator("main").inner_text()
    for expected in ("李小明", "李强", "洛阳市老城区西关街8号", "id-card.jpg", "booklet.jpg", "property.jpg"):
        assert expected in answers, expected
    assert citizen.id_number not in answers and son_id not in answers and husband_id not in answers
    on_phone(page, "hk-05-check-phone")
    page.check("#id_declaration")
    press(page, page.get_by_test_id("submit"))
    assert page.url.endswith(f"/hukou/{number}/submitted/")
    assert page.get_by_test_id("case-number").inner_text().strip() == number
    assert status_of(application) == Status.SUBMITTED
    on_phone(page, "hk-06-submitted-phone")
    press(page, page.get_by_test_id("to-detail"))
    assert page.get_by_test_id("status").get_attribute("data-status") == "submitted"
    assert move_in.name in page.get_by_test_id("acting").inner_text()
    on_phone(page, "hk-07-status-submitted-phone")

    # 2. The move-in station (Zhengzhou) accepts and forwards.
    desk = desk_for(new_page, accepting_officer)
    open_from_inbox(desk, number, application)
    assert desk.get_by_test_id("hk-document").count() == 3
    assert desk.get_by_test_id("hk-rules-ok").is_visible()
    shot(desk, "hk-10-move-in-review")
    # The panel with the checklist and the actions comes first; the documents sit beside the data, and below it on a
    # narrower screen.
    panel, data, viewer = (desk.locator(s).bounding_box() for s in (".cr-panel", ".cr-data", ".cr-documents"))
    assert panel["y"] < data["y"] and abs(data["y"] - viewer["y"]) < 2 and viewer["x"] > data["x"] + data["width"] - 1
    size = desk.viewport_size
    desk.set_viewport_size({"width": 900, "height": size["height"]})
    data, viewer = (desk.locator(s).bounding_box() for s in (".cr-data", ".cr-documents"))
    assert viewer["y"] >= data["y"] + data["height"] - 1 and horizontal_overflow(desk) == 0
    shot(desk, "hk-10b-move-in-review-narrow")
    desk.set_viewport_size(size)
    act(desk, "accept")
    assert status_of(application) == Status.ACCEPTED
    act(desk, "forward", text="材料齐全，请审批。")
    assert status_of(application) == Status.FORWARDED
    shot(desk, "hk-11-move-in-forwarded")
    assert desk.failures == []
    viewed = set(DocumentAccess.objects.filter(user=accepting_officer).values_list("document__kind", flat=True))
    assert viewed == {"id_card", "booklet", "evidence"}

    # 3. The municipal household administration (Zhengzhou) approves the Permit to Move In.
    approver_desk = desk_for(new_page, approver)
    open_from_inbox(approver_desk, number, application)
    assert approver_desk.get_by_test_id("hk-document").count() == 3  # the uploads reach the approver
    shot(approver_desk, "hk-12-municipal-review")
    act(approver_desk, "approve", before_confirm=lambda page: shot(page, "hk-12b-municipal-confirm-approve"))
    assert status_of(application) == Status.APPROVED
    assert application.permit_number.startswith("ZQ-")
    shot(approver_desk, "hk-13-municipal-approved")
    assert approver_desk.failures == []

    # 4. The move-out station in another city (Luoyang) registers the emigration.
    out_desk = desk_for(new_page, emigration_officer)
    open_from_inbox(out_desk, number, application)
    assert out_desk.get_by_test_id("hk-document").count() == 3
    shot(out_desk, "hk-14-move-out-review")
    act(out_desk, "register_emigration", text="原户籍记录核对无误。")
    assert status_of(application) == Status.EMIGRATED
    assert application.migration_certificate_number.startswith("QY-")
    shot(out_desk, "hk-15-move-out-registered")
    assert out_desk.failures == []
    viewed = DocumentAccess.objects.filter(user=emigration_officer).values_list("document__kind", flat=True)
    assert set(viewed) == {"id_card", "booklet", "evidence"}  # each preview a logged view

    # The citizen follows the step on her phone.
    page.goto(f"/hukou/{number}/")
    assert page.get_by_test_id("stage").get_attribute("data-stage") == "4"
    assert page.get_by_test_id("permit-number").inner_text().strip() == application.permit_number
    on_phone(page, "hk-08-status-emigrated-phone")

    # 5. The move-in station settles (another officer of the same station).
    settle_desk = desk_for(new_page, settling_officer)
    open_from_inbox(settle_desk, number, application)
    act(settle_desk, "settle")
    assert status_of(application) == Status.SETTLED
    shot(settle_desk, "hk-16-move-in-settled")
    assert settle_desk.failures == []
    timeline = [(t.to_status, t.office_id, t.actor_id) for t in application.timeline()]
    assert timeline == [
        (Status.SUBMITTED, None, citizen.pk),
        (Status.ACCEPTED, move_in.pk, accepting_officer.pk),
        (Status.FORWARDED, move_in.pk, accepting_officer.pk),
        (Status.APPROVED, municipal.pk, approver.pk),
        (Status.EMIGRATED, move_out.pk, emigration_officer.pk),
        (Status.SETTLED, move_in.pk, settling_officer.pk),
    ]

    # 6. The citizen reads the final page: come and print the Permanent Resident Registration Form.
    page.goto(f"/hukou/{number}/")
    assert page.get_by_test_id("status").get_attribute("data-status") == "settled"
    settled = page.get_by_test_id("settled").inner_text()
    assert "常住人口登记表" in settled and move_in.address in settled and move_in.opening_hours in settled
    assert page.get_by_test_id("timeline").locator("li").count() == 6
    on_phone(page, "hk-09-status-settled-phone")
    wide = new_page(**DESKTOP)
    log_in(wide, citizen, site)
    wide.goto(f"/hukou/{number}/")
    shot(wide, "hk-17-status-settled-desktop")
    assert wide.console_errors == []
    # SMS and e-mail at every step, the last one asking her to print the form.
    sms = list(OutboxMessage.objects.filter(user=citizen, channel=Channel.SMS).order_by("pk"))
    assert [m.template for m in sms] == [
        f"hukou/{step}" for step in ("submitted", "accepted", "forwarded", "approved", "emigrated", "settled")
    ]
    assert "常住人口登记表" in sms[-1].body


def test_the_citizen_answers_a_request_for_information_on_the_phone(hukou_site, site, phone_page, tmp_path):
    """An office asks for more information: the citizen adds a file and answers; the office's clock runs again."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import Office, Role
    from hukou import services
    from hukou.constants import Category, Grounds, Relation, Status
    from hukou.models import MigrationApplication, Mover, OriginMember
    from portal.cases.services import next_case_number
    from portal.documents.services import document_attach, document_create, documents_for_case
    from tests.factories import OfficeFactory, StaffFactory, UserFactory, make_id_number

    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    luoyang = Office.objects.get(division_code="410300", kind=Office.Kind.CITY)
    move_in = OfficeFactory(name="经八路派出所", parent=zhengzhou)
    municipal = OfficeFactory(
        name="郑州市公安局户政管理处", kind=Office.Kind.HOUSEHOLD_ADMIN, division_code="410100", parent=zhengzhou
    )
    move_out = OfficeFactory(name="西关派出所", division_code="410302", parent=luoyang)
    citizen = UserFactory(real_name="王芳", id_number=make_id_number(birth=born(34), sex="F"))
    officer = StaffFactory(office=move_in)
    approver = StaffFactory(office=municipal, role=Role.HOUSEHOLD_ADMIN)
    application = MigrationApplication.objects.create(
        case_number=next_case_number("HK"),
        applicant=citizen,
        office=move_in,
        municipal_office=municipal,
        origin_office=move_out,
        category=Category.PART_HOUSEHOLD,
        grounds=Grounds.EMPLOYMENT,
        origin_address="洛阳市老城区西关街8号",
        origin_head_name="王芳",
        origin_head_id_number=citizen.id_number,
        destination_address="郑州市金水区经八路12号",
        destination_collective=True,
        collective_household_name="郑州某科技有限公司集体户",
        status=Status.SUBMITTED,
        submitted_at=timezone.now(),
        declaration_at=timezone.now(),
    )
    Mover.objects.create(
        application=application, name="王芳", id_number=citizen.id_number, relation=Relation.HEAD, is_applicant=True
    )
    OriginMember.objects.create(
        application=application,
        name="李强",
        id_number=make_id_number(birth=born(36), sex="M"),
        relation=Relation.SPOUSE,
        is_new_head=True,
    )
    for kind in ("id_card", "booklet", "evidence"):  # what she uploaded before submitting
        upload = SimpleUploadedFile(f"{kind}.jpg", scan(tmp_path / f"{kind}.jpg", kind).read_bytes())
        document_attach(document=document_create(owner=citizen, uploaded_file=upload, kind=kind), case=application)
    services.hukou_accept(application=application, by=officer)
    services.hukou_forward(application=application, by=officer, originals_seen_at_counter=True)
    services.hukou_request_info(application=application, by=approver, message="请上传劳动合同和社保缴纳证明。")
    application.refresh_from_db()
    left = application.workdays_left

    page = phone_page
    log_in(page, citizen, site)
    page.goto(f"/hukou/{application.case_number}/")
    request = page.get_by_test_id("info-request")
    assert "请上传劳动合同和社保缴纳证明。" in request.inner_text() and municipal.name in request.inner_text()
    assert page.get_by_test_id("stage").get_attribute("data-stage") == "2"
    on_phone(page, "hk-20-info-requested-phone")

    # She adds the contract to the documents, then answers.
    press(page, page.get_by_test_id("amend"))
    page.goto(f"/hukou/{application.case_number}/documents/")
    page.set_input_files("#id_evidence", scan(tmp_path / "contract.jpg", "LABOUR CONTRACT"))
    press(page, page.get_by_test_id("save-leave"))
    assert page.url.endswith(f"/hukou/{application.case_number}/")
    page.fill("#id_reply", "已上传劳动合同，社保证明见同一文件第二页。")
    page.check("#id_declaration")
    on_phone(page, "hk-21-reply-phone")
    press(page, page.get_by_test_id("send-reply"))
    assert page.get_by_test_id("status").get_attribute("data-status") == "forwarded"
    on_phone(page, "hk-22-answered-phone")
    application.refresh_from_db()
    assert application.status == Status.FORWARDED and application.paused_at is None
    assert application.clock_limit == left and application.due_date is not None
    assert sorted(documents_for_case(application).values_list("original_name", flat=True)) == [
        "booklet.jpg",
        "contract.jpg",
        "evidence.jpg",
        "id_card.jpg",
    ]
