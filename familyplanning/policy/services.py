"""Policy information and openness of government affairs (政务公开): what the public sees, search, and publishing."""

from django.db.models import Q
from django.utils import timezone

from .models import PolicyArticle

# A search is a handful of words; more only makes the query slower without narrowing it usefully.
MAX_SEARCH_WORDS = 8
SEARCHED_FIELDS = ("title_zh", "title_en", "body_zh", "body_en", "document_number")


def published_articles(*, kind: str = ""):
    """The articles the public may read, newest first; an unpublished article is not there at all."""
    articles = PolicyArticle.objects.filter(published=True)
    if kind:
        articles = articles.filter(kind=kind)
    return articles.order_by("-published_on", "-pk")


def search_words(query: str) -> list[str]:
    """The words of a search: split on any white space (full-width spaces too), duplicates dropped, capped."""
    words = []
    for word in (query or "").split():
        if word.casefold() not in (w.casefold() for w in words):
            words.append(word)
    return words[:MAX_SEARCH_WORDS]


def articles_search(articles, query: str):
    """Articles containing every word of `query` in either language's title or text, or in the document number.

    Plain parameterised `icontains` lookups: the same on SQLite and PostgreSQL, and nothing in the query (%, _,
    quotes, backslashes) has a special meaning. Chinese has no spaces between words, so a phrase is matched as typed.
    """
    for word in search_words(query):
        match = Q()
        for field in SEARCHED_FIELDS:
            match |= Q(**{f"{field}__icontains": word})
        articles = articles.filter(match)
    return articles


def article_save(*, article: PolicyArticle, by) -> PolicyArticle:
    """Save an article edited in the admin: its author on creation, and a publication date once it is published."""
    if article.pk is None and by is not None:
        article.created_by = by
    if article.published and not article.published_on:
        article.published_on = timezone.localdate()
    article.save()
    return article


def article_publish(*, article: PolicyArticle) -> bool:
    """Publish `article`, dated today unless it already has a date (a re-publication keeps the first). False if it was
    already public: the conditional update lets exactly one of two concurrent publishers record it."""
    on = article.published_on or timezone.localdate()
    done = PolicyArticle.objects.filter(pk=article.pk, published=False).update(
        published=True, published_on=on, updated_at=timezone.now()
    )
    if done:
        article.published, article.published_on = True, on
    return bool(done)


def article_unpublish(*, article: PolicyArticle) -> bool:
    """Withdraw `article` from the public pages; it is kept, with its date, for the record. False if it was not public."""
    done = PolicyArticle.objects.filter(pk=article.pk, published=True).update(
        published=False, updated_at=timezone.now()
    )
    if done:
        article.published = False
    return bool(done)
