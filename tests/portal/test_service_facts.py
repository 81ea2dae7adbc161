"""The catalogue's short guides carry the fee, the statutory and the promised time limits, where and when, and the
legal basis (registry.service_guide, templates/portal/_service_facts.html)."""

import pytest
from django.utils import translation

from portal import registry

pytestmark = pytest.mark.django_db


def facts(key):
    return {str(term): str(text) for term, text in next(s for s in registry.services() if s.key == key).guide}


def test_the_certificate_guide_names_fee_both_limits_place_and_law():
    with translation.override("en"):
        guide = facts("certificates")
        assert guide["Fee"] == "Free of charge."
        assert guide["Statutory time limit"] == "3 working days from acceptance."
        assert guide["Promised time limit"].startswith("Accepted or refused within 1 working day(s)")
        assert "Criminal Record Inquiries" in guide["Legal basis"] and "Where and when" in guide


def test_the_catalogue_page_shows_them_in_chinese(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for words in (
        "收费标准",
        "免费。",
        "法定办结时限",
        "承诺办结时限",
        "办理地点和时间",
        "《公安机关办理犯罪记录查询工作规定》",
    ):
        assert words in page, words


def test_a_service_that_names_one_limit_keeps_one_row():
    guide = registry.service_guide(who="a", what="b", time_limit="c")
    with translation.override("en"):
        assert [str(term) for term, _text in guide] == ["Who may apply", "What you get", "Time limit"]


def test_the_hukou_guide_names_fee_both_limits_place_and_law():
    with translation.override("en"):
        guide = facts("hukou")
        assert guide["Fee"] == "Free of charge."
        assert guide["Statutory time limit"] == (
            "Approval within 20 working days, move-out within 5, settlement within 5 more."
        )
        assert guide["Promised time limit"].startswith("Accepted or refused within 2 working days of submission")
        assert "move-in police station" in guide["Where and when"]
        assert "Regulations of the People's Republic of China on Household Registration" in guide["Legal basis"]
    with translation.override("zh-hans"):
        guide = facts("hukou")
        assert guide["收费标准"] == "免费。"
        assert guide["承诺办结时限"].startswith("提交后2个工作日内")
        assert "《中华人民共和国户口登记条例》" in guide["法律依据"]
