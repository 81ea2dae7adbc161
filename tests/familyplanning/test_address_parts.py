"""Family-planning addresses in parts (accounts.address through familyplanning.fields, Kind.ADDRESS): province, city
and district checked against GB/T 2260, the one-line text kept beside the parts in the answers; old one-line answers
stay valid and shown; drafts keep the parts as typed; a draft is submitted only with complete addresses."""

import re

import pytest

from familyplanning import catalogue, services
from familyplanning.fields import address_parts_key, build_form, validate_answers
from familyplanning.forms import answer_sections, initial_from_answers
from familyplanning.models import FamilyPlanningApplication, Status
from tests.factories import FamilyPlanningApplicationFactory, sample_answers
from tests.factories.familyplanning import SAMPLE_ADDRESS, SAMPLE_ADDRESS_PARTS
from tests.familyplanning.pages import form_data, html, text, url

FLOATING = "floating_population_certificate"  # asks for the hukou address and the destination address
OLD_LINE = "郑州市金水区花园路1号院3栋"  # an address given before addresses had parts


@pytest.fixture
def signed_in(client, citizen):
    client.force_login(citizen)
    return client


def parts_data(name, city="410100", district="410105", detail="经三路5号", street="", province="410000"):
    return {
        f"{name}_province": province,
        f"{name}_city": city,
        f"{name}_district": district,
        f"{name}_street": street,
        f"{name}_detail": detail,
    }


def floating_form(**data):
    return build_form(catalogue.get_service(FLOATING).form)(data={**form_data(FLOATING), **data})


def one_line(answers, name):
    """The answers as saved before addresses had parts: `name` as one line of text."""
    old = {key: value for key, value in answers.items() if key != address_parts_key(name)}
    old[name] = OLD_LINE
    return old


def test_an_address_in_parts_is_answered_as_one_line_with_its_parts_beside_it():
    form = floating_form(**parts_data("destination_address", "410300", "410302", "西大街8号", street="西关街道"))
    assert form.is_valid(), form.errors
    answers = form.answers()
    assert answers["destination_address"] == "河南省洛阳市老城区西关街道西大街8号"
    assert answers[address_parts_key("destination_address")] == {
        "province": "410000",
        "city": "410300",
        "district": "410302",
        "street": "西关街道",
        "detail": "西大街8号",
    }
    # Stored and checked again on every save: the same answers come back.
    assert validate_answers(catalogue.get_service(FLOATING).form, answers) == answers


def test_a_district_outside_the_city_is_refused():
    # 金水区 (410105) lies in Zhengzhou, not in Luoyang (410300).
    form = floating_form(**parts_data("destination_address", "410300", "410105"))
    assert not form.is_valid()
    assert form.errors["destination_address"] == [
        "The city or district chosen does not lie in the province or city chosen: choose them again."
    ]
    # A code that is no division at all neither.
    assert not floating_form(**parts_data("hukou_address", "419900", "")).is_valid()


def test_missing_parts_are_asked_for():
    form = floating_form(**parts_data("hukou_address", district=""))
    assert not form.is_valid() and form.errors["hukou_address"] == ["Choose the district or county."]
    form = floating_form(**parts_data("hukou_address", detail=""))
    assert form.errors["hukou_address"] == ["Enter the road and number, building and flat."]


def test_an_old_one_line_address_stays_valid_shown_and_opens_as_the_detail_part(db):
    form_def = catalogue.get_service(FLOATING).form
    old = one_line(sample_answers(FLOATING), "hukou_address")
    assert validate_answers(form_def, old)["hukou_address"] == OLD_LINE
    assert address_parts_key("hukou_address") not in validate_answers(form_def, old)

    application = FamilyPlanningApplicationFactory(service=FLOATING, status=Status.ACCEPTED, answers=old)
    application.full_clean()  # every save checks the answers against the form
    assert application.answers["hukou_address"] == OLD_LINE
    assert services.answers_problems(application) == {}
    rows = [row for section in answer_sections(form_def, application.answers) for row in section["rows"]]
    assert {"label": "Place of household registration (hukou)", "value": OLD_LINE, "multiple": False} in rows
    # Opened to amend it, nothing typed is lost: the line is the detail part, the rest to choose.
    initial = initial_from_answers(form_def, application.answers)
    assert initial["hukou_address"].detail == OLD_LINE and initial["hukou_address"].city == ""


def test_a_draft_with_an_old_one_line_address_is_asked_to_complete_it(db):
    answers = one_line(sample_answers(FLOATING), "hukou_address")
    draft = FamilyPlanningApplicationFactory(service=FLOATING, draft=True, answers=answers)
    assert services.answers_problems(draft) == {"hukou_address": ["Choose the city."]}


def test_the_application_page_opens_and_submits_with_addresses_in_parts(signed_in, citizen, office):
    page = html(signed_in.get(url("apply", FLOATING)))
    for part in ("province", "city", "district", "street", "detail"):
        assert f'name="hukou_address_{part}"' in page
    # Henan is chosen by default and its cities listed (no JavaScript needed).
    assert re.search(r'<option value="410000"[^>]*selected', page) and '<option value="410300"' in page

    data = {**form_data(FLOATING), **parts_data("destination_address", "410300", "410302"), "office": office.pk}
    response = signed_in.post(url("apply", FLOATING), {**data, "action": "continue"})
    application = FamilyPlanningApplication.objects.get(applicant=citizen)
    assert response.status_code == 302 and response.url == url("check", application.case_number)
    assert application.answers["destination_address"] == "河南省洛阳市老城区经三路5号"
    assert application.answers["hukou_address"] == SAMPLE_ADDRESS
    assert application.answers[address_parts_key("hukou_address")] == SAMPLE_ADDRESS_PARTS
    check = text(signed_in.get(url("check", application.case_number)))
    assert "河南省洛阳市老城区经三路5号" in check
    # Opened again, each part is chosen as saved.
    edit = html(signed_in.get(url("edit", application.case_number)))
    assert re.search(r'<option value="410302"[^>]*selected', edit)


def test_update_the_lists_without_javascript_saves_nothing_and_lists_the_districts(signed_in, citizen, office):
    data = {**parts_data("hukou_address", "410300", "", ""), "office": office.pk, "address-update": "hukou_address"}
    response = signed_in.post(url("apply", FLOATING), data)
    assert not FamilyPlanningApplication.objects.exists()
    page = html(response)
    assert '<option value="410302"' in page  # Luoyang's districts, now listed
    assert "Choose the city." not in page and "Choose the district or county." not in page


def test_a_draft_keeps_an_incomplete_address_and_submission_asks_to_complete_it(signed_in, citizen, office):
    data = {**parts_data("hukou_address", "410300", "", ""), "office": office.pk, "action": "draft"}
    response = signed_in.post(url("apply", FLOATING), data)
    draft = FamilyPlanningApplication.objects.get(applicant=citizen)
    assert response.status_code == 302 and draft.kept_inputs == {}
    assert draft.answers["hukou_address"] == "河南省洛阳市"
    assert draft.answers[address_parts_key("hukou_address")]["city"] == "410300"
    edit = html(signed_in.get(url("edit", draft.case_number)))
    assert re.search(r'<option value="410300"[^>]*selected', edit) and '<option value="410302"' in edit

    problems = services.answers_problems(draft)
    assert problems["hukou_address"] == ["Choose the district or county."]
    refused = signed_in.post(url("check", draft.case_number), {"declaration": "on"})
    assert refused.status_code == 400 and "Choose the district or county." in text(refused)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_a_draft_keeps_parts_that_do_not_agree_as_typed(signed_in, citizen, office):
    typed = parts_data("hukou_address", "410300", "410105", "西大街8号")
    response = signed_in.post(url("apply", FLOATING), {**typed, "office": office.pk, "action": "draft"})
    draft = FamilyPlanningApplication.objects.get(applicant=citizen)
    assert response.status_code == 302
    kept = draft.kept_inputs["form"]["data"]
    assert {name: kept[name] for name in typed} == {name: [value] for name, value in typed.items()}
    # Opened again: the parts as typed, with what to fix.
    resumed = signed_in.get(url("edit", draft.case_number))
    assert 'value="西大街8号"' in html(resumed)
    assert "does not lie in the province or city chosen" in text(resumed)
    assert re.search(r'<option value="410300"[^>]*selected', html(resumed))
