"""Policy information and openness of government affairs: public list, search, detail, languages, admin publishing."""

import datetime
import io
import itertools

import pytest
import time_machine
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.models import Role
from familyplanning.models import ArticleKind, PolicyArticle
from familyplanning.policy import services as policy
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 18, 2, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 18)
LIST = reverse("familyplanning:policy_list")
HOSTILE = "<script>alert('x')</script>{{ 7|add:7 }}{% now 'Y' %}\u202egnp.exe"

_seq = itertools.count(1)


def article(**fields):
    n = next(_seq)
    values = {
        "kind": ArticleKind.POLICY,
        "title_zh": f"政策文件第{n}号",
        "title_en": f"Policy document number {n}",
        "body_zh": f"正文第{n}段。",
        "body_en": f"Text of document {n}.",
        "published": True,
        "published_on": datetime.date(2026, 3, 1) + datetime.timedelta(days=n),
        **fields,
    }
    return PolicyArticle.objects.create(**values)


def detail(obj):
    return reverse("familyplanning:policy_detail", args=[obj.pk])


def shown(response) -> list[int]:
    """The primary keys of the articles a list page shows, in order."""
    html = response.content.decode()
    return [int(part.split('"', 1)[0]) for part in html.split('data-article="')[1:]]


@pytest.fixture
def chinese(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


@pytest.fixture
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- the public list -----------------------------------------------------------------------------------------


def test_list_shows_published_articles_newest_first_and_never_a_draft(english):
    older = article(published_on=datetime.date(2026, 1, 5))
    newer = article(published_on=datetime.date(2026, 6, 1))
    draft = article(published=False, title_en="Draft not yet public")
    response = english.get(LIST)
    assert response.status_code == 200
    assert shown(response) == [newer.pk, older.pk]
    assert "Draft not yet public" not in response.content.decode()
    assert draft.pk not in shown(response)


def test_tabs_filter_by_kind_and_mark_the_current_one(english):
    rule = article(kind=ArticleKind.POLICY)
    notice = article(kind=ArticleKind.NOTICE)
    question = article(kind=ArticleKind.FAQ)
    assert set(shown(english.get(LIST))) == {rule.pk, notice.pk, question.pk}
    response = english.get(LIST, {"kind": "notice"})
    assert shown(response) == [notice.pk]
    html = response.content.decode()
    assert f'href="{LIST}?kind=notice" aria-current="page"' in html
    assert shown(english.get(LIST, {"kind": "policy"})) == [rule.pk]


def test_common_questions_are_listed_with_their_answers(english):
    question = article(
        kind=ArticleKind.FAQ,
        title_en="Can I register where I live?",
        body_en="Yes, where either spouse's hukou is or where you live.\n\nChoose the office where you live.",
    )
    html = english.get(LIST, {"kind": "faq"}).content.decode()
    assert "Can I register where I live?" in html
    # The whole answer, paragraph by paragraph, on the list itself.
    assert "<p>Yes, where either spouse&#x27;s hukou is or where you live.</p>" in html
    assert "<p>Choose the office where you live.</p>" in html
    assert shown(english.get(LIST, {"kind": "faq"})) == [question.pk]


def test_an_unknown_kind_is_an_error_not_a_crash(english):
    article()
    response = english.get(LIST, {"kind": "secret"})
    assert response.status_code == 400
    assert "portal-error-summary" in response.content.decode()


def test_pagination_ten_a_page_keeps_the_search_and_the_kind(english):
    made = [article(kind=ArticleKind.NOTICE, title_en=f"Holiday notice {n}") for n in range(12)]
    article(kind=ArticleKind.POLICY, title_en="Holiday policy elsewhere")
    first = english.get(LIST, {"q": "holiday", "kind": "notice"})
    assert len(shown(first)) == 10
    html = first.content.decode()
    assert "12 results for “holiday”" in html
    assert "?q=holiday&amp;kind=notice&amp;page=2" in html
    second = english.get(LIST, {"q": "holiday", "kind": "notice", "page": 2})
    assert len(shown(second)) == 2
    assert set(shown(first)) | set(shown(second)) == {a.pk for a in made}
    # A page number out of range or not a number shows a real page, never an error.
    assert shown(english.get(LIST, {"q": "holiday", "kind": "notice", "page": 99})) == shown(second)
    assert shown(english.get(LIST, {"q": "holiday", "kind": "notice", "page": "x"})) == shown(first)


def test_the_list_needs_few_queries_whatever_the_number_of_articles(english, office, django_assert_max_num_queries):
    for _ in range(10):
        article(office=office)
    with django_assert_max_num_queries(6):
        english.get(LIST)


# --- search --------------------------------------------------------------------------------------------------


def test_search_finds_words_in_either_language_and_the_document_number(english):
    three = article(title_zh="三孩生育政策解读", body_en="A couple may have three children.")
    floating = article(
        kind=ArticleKind.FAQ, title_zh="流动人口婚育证明", body_zh="户籍地卫生健康部门办理。", title_en="Certificate"
    )
    numbered = article(document_number="金卫健〔2026〕12号")
    assert shown(english.get(LIST, {"q": "三孩"})) == [three.pk]
    assert shown(english.get(LIST, {"q": "THREE children"})) == [three.pk]
    assert shown(english.get(LIST, {"q": "卫生健康部门"})) == [floating.pk]
    assert shown(english.get(LIST, {"q": "〔2026〕12号"})) == [numbered.pk]
    # Every word must match: two words from different articles find nothing.
    response = english.get(LIST, {"q": "三孩 婚育"})
    assert shown(response) == []
    assert "Nothing matches your search" in response.content.decode()


def test_search_within_a_tab(english):
    policy_text = article(kind=ArticleKind.POLICY, title_en="Leave for parents")
    faq = article(kind=ArticleKind.FAQ, title_en="How long is the leave for parents?")
    assert set(shown(english.get(LIST, {"q": "leave"}))) == {policy_text.pk, faq.pk}
    assert shown(english.get(LIST, {"q": "leave", "kind": "faq"})) == [faq.pk]


def test_wildcards_and_quotes_in_a_search_are_plain_characters(english):
    article(title_en="Ordinary title")
    percent = article(title_en="A 100% online service")
    for query in ("%", "_", "'", '"', "\\", "' OR 1=1 --"):
        found = shown(english.get(LIST, {"q": query}))
        assert found == ([percent.pk] if query == "%" else []), query


def test_a_search_with_a_nul_byte_or_too_long_is_refused_with_a_message(english):
    article()
    for query in ("abc\x00def", "字" * 101):
        response = english.get(LIST, {"q": query})
        assert response.status_code == 400
        assert "portal-error-summary" in response.content.decode()


def test_search_words_are_split_on_any_space_and_capped():
    assert policy.search_words("  三孩\u3000政策  三孩 ") == ["三孩", "政策"]
    assert len(policy.search_words(" ".join(f"w{n}" for n in range(20)))) == policy.MAX_SEARCH_WORDS


# --- the detail page -----------------------------------------------------------------------------------------


def test_detail_shows_the_document_facts_and_paragraphs(english, office):
    obj = article(
        kind=ArticleKind.NOTICE,
        document_number="豫卫人口〔2026〕3号",
        issued_by="河南省卫生健康委员会",
        office=office,
        published_on=datetime.date(2026, 2, 10),
        body_en="First paragraph.\n\nSecond paragraph,\nwith a line break.",
    )
    response = english.get(detail(obj))
    assert response.status_code == 200
    html = response.content.decode()
    assert "豫卫人口〔2026〕3号" in html
    assert "河南省卫生健康委员会" in html
    assert "Jinshui Health Commission" in html
    assert 'datetime="2026-02-10"' in html
    assert "<p>First paragraph.</p>" in html
    assert "<p>Second paragraph,<br>with a line break.</p>" in html


def test_an_unpublished_or_unknown_article_is_404(english):
    draft = article(published=False)
    assert english.get(detail(draft)).status_code == 404
    assert english.get(reverse("familyplanning:policy_detail", args=[draft.pk + 1000])).status_code == 404


def test_a_withdrawn_article_disappears_from_the_public_pages(english):
    obj = article()
    assert english.get(detail(obj)).status_code == 200
    assert policy.article_unpublish(article=obj)
    assert english.get(detail(obj)).status_code == 404
    assert obj.pk not in shown(english.get(LIST))


# --- languages -----------------------------------------------------------------------------------------------


def test_the_language_switch_chooses_the_text(chinese):
    obj = article(title_zh="关于生育登记网上办理的通知", title_en="Notice on online birth registration")
    html = chinese.get(detail(obj)).content.decode()
    assert "关于生育登记网上办理的通知" in html
    assert "Notice on online birth registration" not in html
    switched = chinese.post(reverse("set_language"), {"language": "en", "next": detail(obj)}, follow=True)
    html = switched.content.decode()
    assert '<html lang="en"' in html
    assert "Notice on online birth registration" in html
    assert "关于生育登记网上办理的通知" not in html
    assert "Notice on online birth registration" in chinese.get(LIST).content.decode()


def test_missing_english_text_falls_back_to_chinese_marked_as_such(english):
    obj = article(title_zh="仅有中文的通知", title_en="", body_en="")
    html = english.get(detail(obj)).content.decode()
    assert '<h1 lang="zh-Hans">仅有中文的通知</h1>' in html
    assert "This text is available in Chinese only." in html
    assert 'lang="zh-Hans"><a' in english.get(LIST).content.decode()


def test_hostile_text_is_escaped_on_every_page(english, staff_client, office, officer):
    obj = article(kind=ArticleKind.FAQ, title_en=HOSTILE, body_en=HOSTILE, document_number=HOSTILE[:80], office=office)
    pages = [
        english.get(detail(obj)),
        english.get(LIST, {"kind": "faq"}),
        english.get(LIST, {"q": "alert"}),
        english.get(LIST, {"q": HOSTILE[:90]}),
        staff_client(officer).get(reverse("admin:familyplanning_policyarticle_changelist")),
    ]
    for response in pages:
        html = response.content.decode()
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
        # Template syntax in the text is shown, never evaluated.
        assert ">14<" not in html and "{{ 7|add:7 }}" in html


# --- where to ask, and the guide -----------------------------------------------------------------------------


def test_the_pages_link_to_the_consultation_form(english):
    obj = article()
    consult = reverse("feedback:consult")
    for response in (english.get(LIST), english.get(detail(obj))):
        assert f'href="{consult}"' in response.content.decode()


def test_the_service_guide_links_to_the_policies_and_common_questions(english):
    html = english.get(reverse("familyplanning:index")).content.decode()
    assert f'href="{LIST}"' in html
    assert f'href="{LIST}?kind=faq"' in html


# --- admin: writing and publishing ---------------------------------------------------------------------------


def admin_url(name, *args):
    return reverse(f"admin:familyplanning_policyarticle_{name}", args=args)


def form_data(**fields):
    return {
        "kind": "notice",
        "title_zh": "关于服务窗口调整的通知",
        "body_zh": "第一段。\n\n第二段。",
        "title_en": "Notice on the service counter",
        "body_en": "First.\n\nSecond.",
        "document_number": "金卫健〔2026〕60号",
        "issued_by": "郑州市金水区卫生健康委员会",
        **fields,
    }


@time_machine.travel(NOW, tick=False)
def test_an_officer_writes_and_publishes_an_article_dated_today(staff_client, english, office, officer):
    client = staff_client(officer)
    assert client.get(admin_url("add")).status_code == 200
    response = client.post(admin_url("add"), form_data(office=office.pk, published="on"))
    assert response.status_code == 302, response.content.decode()[:2000]
    obj = PolicyArticle.objects.get(title_zh="关于服务窗口调整的通知")
    assert (obj.published, obj.published_on, obj.created_by, obj.office) == (True, TODAY, officer, office)
    assert english.get(detail(obj)).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_a_draft_is_not_public_until_published_by_the_action(staff_client, english, office, officer):
    client = staff_client(officer)
    client.post(admin_url("add"), form_data(office=office.pk))
    obj = PolicyArticle.objects.get(title_zh="关于服务窗口调整的通知")
    assert (obj.published, obj.published_on) == (False, None)
    assert english.get(detail(obj)).status_code == 404

    response = client.post(admin_url("changelist"), {"action": "publish_selected", "_selected_action": [obj.pk]})
    assert response.status_code == 302
    obj.refresh_from_db()
    assert (obj.published, obj.published_on) == (True, TODAY)
    assert english.get(detail(obj)).status_code == 200
    entry = LogEntry.objects.get(object_id=str(obj.pk), action_flag=CHANGE)
    assert entry.user == officer and "published" in entry.get_change_message().lower()

    # Withdrawing keeps the date; publishing again later keeps the first date.
    client.post(admin_url("changelist"), {"action": "unpublish_selected", "_selected_action": [obj.pk]})
    obj.refresh_from_db()
    assert (obj.published, obj.published_on) == (False, TODAY)
    assert english.get(detail(obj)).status_code == 404
    with time_machine.travel(NOW + datetime.timedelta(days=3), tick=False):
        assert policy.article_publish(article=obj)
    obj.refresh_from_db()
    assert obj.published_on == TODAY
    assert not policy.article_publish(article=obj)  # already public: nothing to do, nothing logged twice


@time_machine.travel(NOW, tick=False)
def test_a_future_publication_date_and_a_missing_office_are_refused(staff_client, office, officer):
    client = staff_client(officer)
    future = client.post(admin_url("add"), form_data(office=office.pk, published="on", published_on="2026-12-01"))
    assert future.status_code == 200
    assert "cannot be in the future" in future.content.decode()
    no_office = client.post(admin_url("add"), form_data(published="on"))
    assert no_office.status_code == 200
    assert not PolicyArticle.objects.exists()


def test_an_officer_cannot_choose_or_reach_another_offices_articles(staff_client, office, other_office, officer):
    theirs = article(office=other_office, title_zh="别人的通知")
    client = staff_client(officer)
    assert "别人的通知" not in client.get(admin_url("changelist")).content.decode()
    assert client.get(admin_url("change", theirs.pk)).status_code == 404
    refused = client.post(admin_url("add"), form_data(office=other_office.pk))
    assert refused.status_code == 200
    assert not PolicyArticle.objects.filter(title_zh="关于服务窗口调整的通知").exists()
    # An action on a selection that names the other office's article does not reach it.
    client.post(admin_url("changelist"), {"action": "unpublish_selected", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.published


def test_a_supervisor_edits_the_offices_below(staff_client, office):
    supervisor = StaffFactory(office=office.parent, role=Role.SUPERVISOR)
    obj = article(office=office, published=False)
    client = staff_client(supervisor)
    assert client.get(admin_url("change", obj.pk)).status_code == 200
    client.post(admin_url("changelist"), {"action": "publish_selected", "_selected_action": [obj.pk]})
    obj.refresh_from_db()
    assert obj.published


def test_only_administrators_delete_and_other_staff_have_no_access(staff_client, office, officer):
    obj = article(office=office)
    assert staff_client(officer).get(admin_url("delete", obj.pk)).status_code == 403
    police = StaffFactory(office=office, role=Role.POLICE_OFFICER)
    assert staff_client(police).get(admin_url("changelist")).status_code == 403
    admin = StaffFactory(office=None, role=Role.ADMINISTRATOR)
    assert staff_client(admin).get(admin_url("delete", obj.pk)).status_code == 200


# --- demo content --------------------------------------------------------------------------------------------


def test_the_demo_articles_load_once_in_both_languages(settings, english):
    settings.DEBUG = True
    call_command("load_demo_policy", stdout=io.StringIO())
    count = PolicyArticle.objects.count()
    call_command("load_demo_policy", stdout=io.StringIO())
    assert PolicyArticle.objects.count() == count >= 6
    assert not PolicyArticle.objects.filter(title_en="").exists()
    assert set(PolicyArticle.objects.filter(published=True).values_list("kind", flat=True)) == set(ArticleKind)
    assert PolicyArticle.objects.filter(published=False).exists()
    assert shown(english.get(LIST, {"q": "three children"}))


def test_the_demo_loader_refuses_to_run_outside_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("load_demo_policy", stdout=io.StringIO())
