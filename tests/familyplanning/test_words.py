"""The small words of the family-planning pages: the check page lists no child who does not exist, the blank form's
date boxes read 年/月/日, the blank-form links keep the language name apart from the words around it."""

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from familyplanning import catalogue
from familyplanning.fields import blank_form_context
from tests.factories import FamilyPlanningApplicationFactory
from tests.familyplanning.pages import html, text, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, citizen):
    client.force_login(citizen)
    return client


def children_part(page: str) -> str:
    """The check page's section of the children already born (the next section names the child to register)."""
    start = page.index("Children already born")
    return page[start : page.index("This registration", start)]


def test_the_check_page_lists_no_child_the_couple_does_not_have(signed_in, citizen, office):
    draft = FamilyPlanningApplicationFactory(office=office, applicant=citizen, draft=True)
    assert draft.answers.get("children_count") == 0 and not any((draft.answers.get("child_1") or {}).values())
    page = children_part(text(signed_in.get(url("check", draft.case_number))))
    assert "Number of children already born" in page  # the question asked is answered: none
    assert "First child" not in page and "Second child" not in page and "Other children" not in page
    # A child who exists is listed.
    answers = {**draft.answers, "children_count": 1, "child_1": {"name": "王小明", "id_number": ""}}
    draft.answers = answers
    draft.save(update_fields=["answers"])
    page = children_part(text(signed_in.get(url("check", draft.case_number))))
    assert "First child" in page and "王小明" in page and "Second child" not in page


def test_a_required_answer_left_out_still_reads_not_given(signed_in, citizen, office):
    draft = FamilyPlanningApplicationFactory(office=office, applicant=citizen, draft=True)
    draft.answers = {**draft.answers, "marriage_certificate_number": ""}
    draft.save(update_fields=["answers"])
    assert "Marriage certificate number Not given" in text(signed_in.get(url("check", draft.case_number)))


def test_the_blank_form_date_boxes_read_year_month_day_as_chinese_forms_print_them():
    context = blank_form_context(catalogue.get_service("birth_registration").form)
    with translation.override("zh-hans"):
        page = render_to_string("familyplanning/pdf/blank_form.html", context)
    assert "年份" not in page and '<span class="sub">年</span>' in page and '<span class="sub">日</span>' in page
    with translation.override("en"):
        page = render_to_string("familyplanning/pdf/blank_form.html", context)
    assert '<span class="sub">year</span>' in page


def test_the_blank_form_links_keep_english_apart_from_the_chinese_words(client):
    with translation.override("zh-hans"):
        page = html(client.get(url("guide", "birth_registration"), HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "English空白表格" not in page
    assert "空白表格（PDF）：English" in page and "空白表格（PDF）：简体中文" in page
