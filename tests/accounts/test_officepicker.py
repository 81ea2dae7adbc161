"""Choosing an office by city, district or part of its name (accounts.officepicker), and the division table it reads
(accounts.divisions: python-stdnum's GB/T 2260 codes, English names of Henan's divisions kept in the repository)."""

import csv
import re

import pytest
from django.utils import translation

from accounts import divisions
from accounts.models import Office
from certificates.forms import DeliveryForm, StartForm
from tests.factories import OfficeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def city(code):
    return Office.objects.get(division_code=code, kind=Office.Kind.CITY)


@pytest.fixture
def stations():
    return {
        "jingba": OfficeFactory(name="经八路派出所", name_en="Jingba Road Station", division_code="410105"),
        "huayuan": OfficeFactory(name="花园路派出所", name_en="Huayuan Road Station", division_code="410105"),
        "erqi": OfficeFactory(name="建中街派出所", name_en="Jianzhong Street Station", division_code="410103"),
        "laocheng": OfficeFactory(
            name="老城派出所", name_en="Laocheng Station", division_code="410302", parent=city("410300")
        ),
    }


def notice(html: str) -> str:
    """The picker's notice after "Find" (no JavaScript), or "" without one."""
    found = re.search(r'<div class="alert alert-info[^"]*" role="status" id="id_\w+__found"[^>]*>([^<]*)</div>', html)
    return found.group(1) if found else ""


def office_options(html: str) -> list[str]:
    """The English names of the offices the office select offers."""
    select = html[html.index("data-picker-office") :]
    select = select[: select.index("</select>")]
    return re.findall(r'<option value="\d+"[^>]*>([^<(]+?)(?: \(|</option>)', select)


def test_the_division_table_offers_what_is_in_force_today():
    assert divisions.get("410308").name == "孟津区"  # since 2021
    assert divisions.get("410322") is None  # 孟津县, abolished in 2021
    assert [d.name for d in divisions.chain("410105")] == ["河南省", "郑州市", "金水区"]
    assert divisions.city_of("410105").code == "410100"
    assert "济源市" in [d.name for d in divisions.children("410000")]  # administered by the province itself
    assert len(divisions.children("410000")) == 18 and len(divisions.provinces()) >= 31


def test_the_english_names_kept_in_the_repository_agree_with_the_code_table():
    with divisions.HENAN_NAMES_FILE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    assert len(rows) == 175
    assert all(divisions.get(row["code"]) and divisions.get(row["code"]).name == row["name"] for row in rows)
    henan = {code for code in divisions.table() if code.startswith("41")}
    assert henan == {row["code"] for row in rows}
    with translation.override("en"):
        assert str(divisions.get("410621")) == "Xun County"
    with translation.override("zh-hans"):
        assert str(divisions.get("410621")) == "浚县"


def test_the_picker_lists_cities_and_their_districts_with_offices(stations):
    html = StartForm(user=UserFactory()).as_div()
    assert '<option value="410100">Zhengzhou</option>' in html and '<option value="410300">Luoyang</option>' in html
    assert '<option value="410105" data-city="410100">Jinshui District</option>' in html
    assert 'data-district="410105"' in html and "data-picker-find" in html
    assert set(office_options(html)) >= {"Jingba Road Station", "Laocheng Station", "Jianzhong Street Station"}


def test_find_without_javascript_keeps_the_answers_and_narrows_the_list_by_city(stations):
    data = {"applying_for": "agent", "office__city": "410300", "office__find": "1"}
    form = StartForm(data, user=UserFactory())
    assert not form.is_valid()
    assert form.errors == {}  # no "choose whether…" for the question not answered yet, and finding is no error
    html = form.as_div()
    assert notice(html) == "1 office found: choose it from the list."
    assert "is-invalid" not in html and "invalid-feedback" not in html
    # The list is focused, so that the page opens where "Find" was pressed, and described by the notice.
    assert re.search(r'<select name="office"[^>]*aria-describedby="id_office__found[ "][^>]*autofocus', html)
    assert office_options(html) == ["Laocheng Station"]
    assert re.search(r'value="agent"[^>]*checked', html)  # what was chosen is kept
    assert '<option value="410300" selected>' in html


def test_find_by_district_and_by_part_of_the_name(stations):
    form = StartForm({"office__district": "410105", "office__find": "1"}, user=UserFactory())
    assert not form.is_valid() and not form.errors
    assert notice(form.as_div()) == "2 offices found: choose one from the list."
    assert sorted(office_options(form.as_div())) == ["Huayuan Road Station", "Jingba Road Station"]
    form = StartForm({"office__q": "经八", "office__find": "1"}, user=UserFactory())
    form.is_valid()
    assert office_options(form.as_div()) == ["Jingba Road Station"]
    form = StartForm({"office__q": "jianzhong", "office__find": "1"}, user=UserFactory())
    form.is_valid()
    assert office_options(form.as_div()) == ["Jianzhong Street Station"]
    form = StartForm({"office__q": "无此", "office__find": "1"}, user=UserFactory())
    assert not form.is_valid() and not form.errors
    assert notice(form.as_div()).startswith("No office matches")


def test_a_chosen_office_stays_in_the_list_and_the_form_is_valid_without_find(stations):
    chosen = stations["jingba"]
    data = {"applying_for": "agent", "office": str(chosen.pk), "office__city": "410300"}
    form = StartForm(data, user=UserFactory())
    assert form.is_valid(), form.errors  # the narrowing inputs are no answer; the office chosen counts
    assert form.cleaned_data["office"] == chosen
    assert notice(form.as_div()) == "" and "autofocus" not in form.as_div()
    form = StartForm({**data, "office__find": "1"}, user=UserFactory())
    assert not form.is_valid()  # "Find" pressed: the page comes back, even with every answer given
    html = form.as_div()
    assert "Jingba Road Station" in office_options(html) and "Laocheng Station" in office_options(html)
    assert notice(html) == "1 office found: choose it from the list."  # the chosen office is kept, not counted


def test_the_collection_office_picker_shows_addresses(stations):
    collect = OfficeFactory(
        name="出入境服务大厅",
        name_en="Exit-Entry Hall",
        division_code="410105",
        accepts_paper_collection=True,
        address="郑州市金水区经三路",
    )
    html = DeliveryForm().as_div()
    assert "Exit-Entry Hall (郑州市金水区经三路)" in html
    form = DeliveryForm({"delivery": "collect", "collection_office__q": "经三路", "collection_office__find": "1"})
    assert not form.is_valid() and not form.errors
    assert str(collect.pk) in form.as_div() and notice(form.as_div()) == "1 office found: choose it from the list."


def test_the_picker_speaks_chinese(stations):
    with translation.override("zh-hans"):
        form = StartForm({"office__city": "410100", "office__find": "1"}, user=UserFactory())
        assert not form.errors
        html = form.as_div()
        assert notice(html) == "找到 3 个办事机构：请从列表中选择。"
    assert '<optgroup label="郑州市 · 金水区">' in html and "全部区县" in html and "查找" in html
