"""Questions that fit and drafts that keep everything, in a real browser on a 360 px phone (issue 16, items 1-2).

- A whole household moving into a purchased home goes through the branching pre-check, one question per page, into
  the application it starts, and never meets a question about joining relatives (投靠): not in the pre-check, not
  on the destination page (revealed there only when that ground is chosen, by script, and hidden again), not the
  people staying behind.
- A draft saved with a wrong ID number comes back with everything typed and the message next to the wrong answer.
- Several files of a kind are chosen at once in one file input.
Pages render in Chinese (the portal's default); texts are compared through the catalogue.
"""

import pytest
from django.utils import translation
from PIL import Image, ImageDraw

from tests.e2e.conftest import horizontal_overflow, log_in, shot
from tests.e2e.helpers import fill_address

pytestmark = pytest.mark.e2e

# Every question the pre-check and the destination page ask about the household joined (投靠).
JOINING_QUESTIONS = (
    "Who applies for the household you join?",
    "How is that family member related to the head of the household you join?",
    "Has the head of the household you join given written consent?",
    "Joining relatives: the household you join",
)


def zh(message):
    with translation.override("zh-hans"):
        return translation.gettext(message)


def press(page, locator):
    with page.expect_navigation(wait_until="load"):
        locator.click()


def on_phone(page, name):
    assert horizontal_overflow(page) == 0, name
    assert page.console_errors == [], name
    return shot(page, name)


def no_joining_question_visible(page, where):
    text = page.locator("main").inner_text()
    for question in JOINING_QUESTIONS:
        assert zh(question) not in text, (where, question)


def scan(path, title):
    image = Image.new("RGB", (900, 600), (246, 244, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 880, 580), outline=(120, 40, 40), width=4)
    draw.text((60, 60), title, fill=(20, 20, 20))
    image.save(path, format="JPEG")
    return path


@pytest.fixture
def hukou_site(settings, tmp_path, site):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = site
    return settings


@pytest.fixture
def people(hukou_site):
    from accounts.models import Office
    from tests.factories import OfficeFactory, UserFactory, make_id_number

    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    move_in = OfficeFactory(name="经八路派出所", name_en="Jingba Road Police Station", parent=zhengzhou)
    OfficeFactory(
        name="郑州市公安局户政管理处", kind=Office.Kind.HOUSEHOLD_ADMIN, division_code="410100", parent=zhengzhou
    )
    citizen = UserFactory(real_name="王芳", id_number=make_id_number(sex="F"))
    return {"move_in": move_in, "citizen": citizen}


def answer(page, question, fill):
    """The pre-check page asks `question` (and only it); `fill` answers it; Continue."""
    form = page.get_by_test_id("precheck-question")
    assert form.get_attribute("data-question") == question
    fill(page)
    on_phone(page, f"hk-q-precheck-{question}")
    press(page, page.get_by_test_id("precheck-next"))


def test_a_whole_household_move_goes_from_the_branching_precheck_into_the_application(site, phone_page, people):
    from hukou.models import MigrationApplication

    page = phone_page
    log_in(page, people["citizen"], site)
    page.goto("/hukou/precheck/")
    asked = []
    page.on("load", lambda p: asked.append(p.url))

    answer(page, "category", lambda p: p.check("input[name=category][value=whole_household]"))
    no_joining_question_visible(page, "grounds")
    answer(page, "grounds", lambda p: p.check("input[name=grounds][value=purchased_home]"))
    # A whole household: the head moves by definition, so the next question is the head's age, a number field.
    assert page.locator("input[name=head_age][type=number]").count() == 1
    answer(page, "head_age", lambda p: p.fill("input[name=head_age]", "45"))
    answer(page, "mover_count", lambda p: p.fill("input[name=mover_count]", "2"))
    # The ages of the two others: one proper field each, not a list typed with commas.
    assert page.locator("input[type=number][name^=mover_age_]").count() == 2
    answer(
        page, "mover_ages", lambda p: (p.fill("input[name=mover_age_1]", "43"), p.fill("input[name=mover_age_2]", "17"))
    )
    answer(page, "movers_apply", lambda p: p.check("input[name=movers_apply][value=yes]"))
    answer(page, "everyone_in_person", lambda p: p.check("input[name=everyone_in_person][value=yes]"))

    # The answer: allowed, with the materials for a whole household in a purchased home; nobody asked about 投靠, or
    # about people staying behind, or about a guardian (nobody under 16).
    assert page.get_by_test_id("precheck-allowed").is_visible()
    assert (
        zh("The property ownership certificate of the purchased home.")
        in page.get_by_test_id("precheck-materials").inner_text()
    )
    no_joining_question_visible(page, "result")
    summary = page.get_by_test_id("precheck-summary").inner_text()
    assert zh("How many people stay in the household you leave?") not in summary
    on_phone(page, "hk-q-precheck-result")

    # Its answers start the application: who moves and the grounds are already chosen.
    press(page, page.get_by_test_id("precheck-apply"))
    assert page.locator("input[name=category][value=whole_household]").is_checked()
    assert page.locator("input[name=grounds][value=purchased_home]").is_checked()
    page.select_option("#id_office", str(people["move_in"].pk))
    on_phone(page, "hk-q-apply")
    press(page, page.get_by_test_id("start"))
    application = MigrationApplication.objects.get(applicant=people["citizen"])
    assert (application.category, application.grounds) == ("whole_household", "purchased_home")

    # The destination page: no question about the household joined, nor a collective household's name.
    assert page.url.endswith(f"/hukou/{application.case_number}/destination/")
    assert page.get_by_test_id("reveal-joining").is_hidden()
    assert page.get_by_test_id("reveal-collective").is_hidden()
    no_joining_question_visible(page, "destination")
    on_phone(page, "hk-q-destination")
    # Choosing "joining relatives" reveals its questions at once (script), choosing back hides them again.
    page.check("input[name=grounds][value=join_relatives]")
    assert page.get_by_test_id("reveal-joining").is_visible()
    page.check("input[name=grounds][value=purchased_home]")
    assert page.get_by_test_id("reveal-joining").is_hidden()
    fill_address(page, "destination_address", "410100", "410105", "经八路12号院3号楼2单元501室")
    press(page, page.get_by_test_id("save-continue"))

    # The people moving: her own row, as head of the whole household, from her account.
    assert page.url.endswith("/movers/")
    assert page.locator("#id_movers-0-relation").input_value() == "head"
    press(page, page.get_by_test_id("save-continue"))
    # The household left: nobody stays in a whole-household move, and the head is not asked for again.
    assert page.url.endswith("/origin/")
    assert page.get_by_test_id("whole-household-note").is_visible()
    assert page.get_by_test_id("staying-row").count() == 0
    assert page.get_by_test_id("head-moves").is_visible() and page.locator("#id_origin_head_id_number").count() == 0
    no_joining_question_visible(page, "origin")
    on_phone(page, "hk-q-origin")


def test_a_draft_saved_with_a_wrong_answer_is_resumed_with_everything_kept(site, phone_page, people):
    from hukou.models import MigrationApplication

    page = phone_page
    log_in(page, people["citizen"], site)
    page.goto("/hukou/apply/?category=part_household&grounds=join_relatives")
    page.select_option("#id_office", str(people["move_in"].pk))
    press(page, page.get_by_test_id("start"))
    application = MigrationApplication.objects.get(applicant=people["citizen"])

    # Joining relatives: its questions are shown by the server (no change needed to reveal them).
    assert page.get_by_test_id("reveal-joining").is_visible()
    fill_address(page, "destination_address", "410100", "410103", "大学路8号")
    page.fill("#id_receiving_householder_name", "王建国")
    page.fill("#id_receiving_householder_id_number", "41010519600101")  # too short
    page.select_option("#id_receiving_relation", "child")
    page.check("input[name=receiving_party][value=family_member]")
    assert page.get_by_test_id("reveal-family-member").is_visible()
    page.fill("#id_receiving_family_member_name", "李秀英")
    press(page, page.get_by_test_id("save-leave"))
    assert page.url.endswith("/hukou/")  # saved, although one answer is wrong
    on_phone(page, "hk-q-draft-saved")

    page.goto(f"/hukou/{application.case_number}/destination/")
    assert page.locator("#id_destination_address_detail").input_value() == "大学路8号"
    assert page.locator("#id_destination_address_district").input_value() == "410103"
    assert page.locator("#id_receiving_householder_name").input_value() == "王建国"
    assert page.locator("#id_receiving_householder_id_number").input_value() == "41010519600101"
    assert page.locator("#id_receiving_relation").input_value() == "child"
    assert page.locator("#id_receiving_family_member_name").input_value() == "李秀英"
    assert page.locator("input[name=receiving_party][value=family_member]").is_checked()
    field_error = page.locator("#id_receiving_householder_id_number").locator("xpath=..").inner_text()
    assert "18" in field_error  # the number's specific message, next to it
    assert page.get_by_test_id("to-fix").count() == 1
    on_phone(page, "hk-q-draft-resumed")

    # The check page lists it; correcting it and saving forgets what was kept.
    page.goto(f"/hukou/{application.case_number}/check/")
    assert "18" in page.get_by_test_id("problems").inner_text()
    application.refresh_from_db()
    assert "destination" in application.kept_inputs


def test_several_files_are_uploaded_at_once(site, phone_page, people, tmp_path):
    from hukou import drafts
    from portal.documents.services import documents_for_case

    application = drafts.hukou_create_draft(
        applicant=people["citizen"], category="part_household", grounds="employment", office=people["move_in"]
    )
    page = phone_page
    log_in(page, people["citizen"], site)
    page.goto(f"/hukou/{application.case_number}/documents/")
    assert page.locator("#id_id_card").get_attribute("multiple") is not None
    files = [scan(tmp_path / f"{name}.jpg", name.upper()) for name in ("id-front", "id-back", "son-front")]
    page.set_input_files("#id_id_card", files)
    page.set_input_files(
        "#id_booklet", [scan(tmp_path / "booklet-1.jpg", "P1"), scan(tmp_path / "booklet-2.jpg", "P2")]
    )
    on_phone(page, "hk-q-documents-chosen")
    press(page, page.get_by_test_id("save-add"))
    uploaded = page.get_by_test_id("uploaded-files").inner_text()
    for name in ("id-front.jpg", "id-back.jpg", "son-front.jpg", "booklet-1.jpg", "booklet-2.jpg"):
        assert name in uploaded, name
    # One by one still works.
    page.set_input_files("#id_evidence", scan(tmp_path / "contract.jpg", "CONTRACT"))
    press(page, page.get_by_test_id("save-add"))
    assert "contract.jpg" in page.get_by_test_id("uploaded-files").inner_text()
    assert documents_for_case(application).count() == 6
    on_phone(page, "hk-q-documents-uploaded")
