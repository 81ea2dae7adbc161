"""The public pages of /familyplanning/policy/: policies, notices and common questions, searchable, in both languages."""

from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import services
from .models import ArticleKind

PER_PAGE = 10
TABS = (
    ("", _("All")),
    (ArticleKind.POLICY, _("Policies")),
    (ArticleKind.NOTICE, _("Notices")),
    (ArticleKind.FAQ, _("Common questions")),
)

MORE_OF_KIND = {
    ArticleKind.POLICY: _("All policies"),
    ArticleKind.NOTICE: _("All notices"),
    ArticleKind.FAQ: _("All common questions"),
}


class PolicySearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search policies, notices and questions"),
        max_length=100,
        required=False,
        help_text=_("Words from the title or the text, in Chinese or English, or a document number."),
        widget=forms.TextInput(attrs={"type": "search", "enterkeyhint": "search"}),
    )
    kind = forms.ChoiceField(choices=TABS, required=False, widget=forms.HiddenInput)

    def clean_q(self):
        return " ".join(self.cleaned_data["q"].split())


def _mark_language(article):
    """The text falls back to Chinese where an English one is missing: tell screen readers which language it is in."""
    english = (get_language() or "").startswith("en")
    article.text_lang = "zh-Hans" if english and not (article.title_en and article.body_en) else ""
    return article


def _query(**params) -> str:
    return urlencode({key: value for key, value in params.items() if value})


def policy_list(request):
    """Published articles by kind, newest first, ten a page, with a search over both languages."""
    form = PolicySearchForm(request.GET or None)
    query, kind = "", ""
    if form.is_bound and form.is_valid():
        query, kind = form.cleaned_data["q"], form.cleaned_data["kind"]
    articles = services.published_articles(kind=kind).select_related("office")
    if query:
        articles = services.articles_search(articles, query)
    page = Paginator(articles, PER_PAGE).get_page(request.GET.get("page"))
    for article in page:
        _mark_language(article)
    here = reverse("familyplanning:policy_list")
    context = {
        "form": form,
        "query": query,
        "kind": kind,
        "kind_label": dict(TABS)[kind],
        "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        # Each tab keeps the search; each page link keeps both.
        "tabs": [
            {"label": label, "url": f"{here}?{_query(q=query, kind=value)}".rstrip("?"), "current": value == kind}
            for value, label in TABS
        ],
        "page_query": _query(q=query, kind=kind),
        "faq": kind == ArticleKind.FAQ,
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "familyplanning/policy/list.html", context, status=status)


def policy_detail(request, pk):
    """One published article; an unpublished or unknown one is a plain 404."""
    article = get_object_or_404(services.published_articles().select_related("office"), pk=pk)
    _mark_language(article)
    return render(
        request, "familyplanning/policy/detail.html", {"article": article, "more_label": MORE_OF_KIND[article.kind]}
    )
