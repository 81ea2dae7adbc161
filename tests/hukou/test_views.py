"""The citizen pages of /hukou/: the guide with the citizen's applications and the eligibility pre-check."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import translation

from hukou.constants import Category, Grounds, Relation, Status
from hukou.models import MigrationApplication, Mover
from portal.cases.services import next_case_number
from tests.factories import MigrationApplicationFactory, OfficeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    # Messages are asserted in English; the site's default is Simplified Chinese.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


class _Inline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline_scripts = self.style_attributes = self.style_elements = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.style_attributes += "style" in attrs
        self.style_elements += tag == "style"
        self._in_script = tag == "script" and "src" not in attrs

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag):
        self._in_script = False


def assert_no_inline_code(response):
    parser = _Inline()
    parser.feed(response.content.decode())
    assert (parser.inline_scripts, parser.style_attributes, parser.style_elements) == (0, 0, 0)


PRECHECK = reverse("hukou:precheck")


def answers(**overrides):
    """A part-household move of an adult head; an adult stays and becomes the new head: allowed.

    Given as one answer per question of the pre-check's pages (all at once, as the last page sends them): the ages as
    "34, 9" here become a count and one age field each; a `grounds` of joining relatives and the like is the second
    question, after who moves.
    """
    values = {
        "category": Category.PART_HOUSEHOLD,
        "grounds": Grounds.EMPLOYMENT,
        "head_moves": "yes",
        "head_age": "40",
        "other_mover_ages": "",
        "staying_ages": "",
        "new_head_age": "38",
        "movers_apply": "yes",
        "guardian_comes": "no",
        "everyone_in_person": "yes",
        "absent_have_power_of_attorney": "no",
        "receiving_party": "",
        "receiving_family_relation": "",
        "householder_consents": "no",
    }
    values.update(overrides)
    data = {k: v for k, v in values.items() if k not in ("other_mover_ages", "staying_ages", "new_head_age") and v}
    movers = [a.strip() for a in values["other_mover_ages"].split(",") if a.strip()]
    data["mover_count"] = str(len(movers))
    data.update({f"mover_age_{n}": age for n, age in enumerate(movers, start=1)})
    staying = [a.strip() for a in values["staying_ages"].split(",") if a.strip()]
    head_moves = values["category"] == Category.WHOLE_HOUSEHOLD or values["head_moves"] == "yes"
    if head_moves and values["new_head_age"]:
        data["new_head_age"] = values["new_head_age"]
        data["staying_count"] = str(len(staying) + 1)
    else:
        data["staying_count"] = str(len(staying))
    data.update({f"staying_age_{n}": age for n, age in enumerate(staying, start=1)})
    return data


def reason_codes(response):
    result = response.context["result"]
    return [r.code for r in result.reasons]


# --- the guide -----------------------------------------------------------------------------------------


def test_guide_keeps_its_content_and_links_the_precheck(client):
    response = client.get(reverse("hukou:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Who applies" in html and "Steps and time limits" in html
    assert f'href="{PRECHECK}"' in html
    assert 'data-testid="my-applications"' not in html
    assert_no_inline_code(response)


def test_guide_lists_only_the_signed_in_citizens_applications(client):
    citizen, other = UserFactory(), UserFactory()
    office = OfficeFactory()
    mine = MigrationApplication.objects.create(
        case_number=next_case_number("HK"), applicant=citizen, office=office, category=Category.COLLECTIVE
    )
    theirs = MigrationApplication.objects.create(
        case_number=next_case_number("HK"), applicant=other, office=office, category=Category.COLLECTIVE
    )
    client.force_login(citizen)
    html = client.get(reverse("hukou:index")).content.decode()
    assert mine.case_number in html
    assert theirs.case_number not in html
    assert "Into a collective household" in html


# --- the pre-check -------------------------------------------------------------------------------------


def test_precheck_form_needs_no_login_and_stores_nothing(client):
    response = client.get(PRECHECK)
    assert response.status_code == 200
    assert response.context["result"] is None
    assert_no_inline_code(response)
    response = client.get(PRECHECK, answers())
    assert response.status_code == 200
    assert MigrationApplication.objects.count() == 0 and Mover.objects.count() == 0


def test_precheck_allows_an_eligible_move_and_lists_its_materials(client):
    response = client.get(PRECHECK, answers(grounds=Grounds.JOIN_RELATIVES, receiving_party="householder"))
    assert response.context["result"].allowed
    html = response.content.decode()
    assert 'data-testid="precheck-allowed"' in html
    assert "Proof of the family relationship" in html
    assert "The receiving head of household&#x27;s Household Register Booklet." in html
    assert_no_inline_code(response)


def test_precheck_refuses_a_whole_household_move_with_a_15_year_old_head(client):
    response = client.get(
        PRECHECK, answers(category=Category.WHOLE_HOUSEHOLD, head_age="15", new_head_age="", other_mover_ages="40")
    )
    assert response.status_code == 200
    assert not response.context["result"].allowed
    assert "whole_household_head_under_16" in reason_codes(response)
    html = response.content.decode()
    assert 'data-testid="precheck-refused"' in html
    assert "must be 16 or over on the day of application. The head of household is 15 that day." in html


def test_precheck_16_year_old_head_may_move_the_whole_household(client):
    response = client.get(PRECHECK, answers(category=Category.WHOLE_HOUSEHOLD, head_age="16", new_head_age=""))
    assert response.context["result"].allowed, reason_codes(response)


def test_precheck_refuses_leaving_only_children_behind(client):
    response = client.get(
        PRECHECK, answers(head_moves="no", head_age="", other_mover_ages="40", staying_ages="9, 12", new_head_age="")
    )
    assert reason_codes(response) == ["origin_left_with_minors"]
    assert "all under 16" in response.content.decode()


def test_precheck_asks_for_a_new_head_when_the_head_leaves_others_behind(client):
    # The head moves and someone stays: the page of the ages of those staying asks for the new head's first.
    data = answers(staying_ages="40", new_head_age="")
    data["staying_count"] = "1"
    response = client.get(PRECHECK, data)
    assert response.context["question"].name == "staying_ages"
    assert list(response.context["form"].fields) == ["new_head_age"]
    assert reason_codes(client.get(PRECHECK, answers(new_head_age="15", staying_ages="40"))) == ["new_head_under_16"]


def test_precheck_minor_needs_a_guardian_and_absent_party_a_power_of_attorney(client):
    response = client.get(PRECHECK, answers(other_mover_ages="8", everyone_in_person="no"))
    codes = reason_codes(response)
    assert "minor_without_guardian" in codes and "absent_without_power_of_attorney" in codes
    response = client.get(
        PRECHECK,
        answers(
            other_mover_ages="8", guardian_comes="yes", everyone_in_person="no", absent_have_power_of_attorney="yes"
        ),
    )
    assert response.context["result"].allowed, reason_codes(response)


def test_precheck_joining_relatives_through_a_family_member_needs_consent(client):
    base = answers(
        grounds=Grounds.JOIN_RELATIVES, receiving_party="family_member", receiving_family_relation=Relation.SPOUSE
    )
    assert reason_codes(client.get(PRECHECK, base)) == ["join_relatives_consent_missing"]
    assert client.get(PRECHECK, {**base, "householder_consents": "yes"}).context["result"].allowed


def test_precheck_rejects_malformed_answers_in_plain_words(client):
    response = client.get(PRECHECK, {**answers(), "head_age": ""})
    assert response.status_code == 400
    assert response.context["result"] is None
    assert "Give the age of the head of household." in response.content.decode()
    response = client.get(PRECHECK, answers(other_mover_ages="eight"))
    assert response.status_code == 400
    assert "Give the age as a whole number of years, like 34." in response.content.decode()
    assert_no_inline_code(response)


# --- the public progress enquiry (/track/) -------------------------------------------------------------


def test_track_finds_a_submitted_case_by_the_last_four_id_characters_only():
    from portal.cases.tracking import track

    applicant = UserFactory(real_name="王小明")
    application = MigrationApplicationFactory(applicant=applicant, submitted=True)
    last_four = applicant.id_number[-4:].lower()
    found = track(application.case_number.lower(), last_four)
    assert found is not None and found.service == "hukou" and found.full.url == ""
    assert found.full.status_label == str(Status.SUBMITTED.label)  # a move's status is not confidential
    assert track(application.case_number, " 王小明 ") is None  # names are no second factor
    assert track(application.case_number, "0000" if last_four != "0000" else "1111") is None
    assert track(application.case_number, "") is None


def test_track_never_finds_a_draft():
    from portal.cases.tracking import track

    applicant = UserFactory(real_name="赵敏")
    draft = MigrationApplicationFactory(applicant=applicant, draft=True)
    assert track(draft.case_number, applicant.id_number[-4:]) is None


def test_precheck_asks_for_the_movers_when_the_head_stays(client):
    response = client.get(PRECHECK, answers(head_moves="no", head_age="", other_mover_ages="", new_head_age=""))
    assert reason_codes(response) == ["no_movers"]
    response = client.get(
        PRECHECK,
        answers(
            head_moves="no",
            head_age="",
            other_mover_ages="30, 12",
            guardian_comes="yes",
            new_head_age="",
            staying_ages="50",
        ),
    )
    assert response.context["result"].allowed, reason_codes(response)
