"""Helpers of the citizen's family-planning pages: their URLs, what a citizen types into an online form, page text."""

import re

from django.urls import reverse

from familyplanning import catalogue
from familyplanning.fields import form_data_from_answers
from tests.factories import sample_answers


def url(name, *args):
    return reverse(f"familyplanning:{name}", args=args)


def form_data(key, answers=None, **overrides) -> dict:
    """What a citizen types into the online form of `key` for `answers` (complete sample answers by default)."""
    data = form_data_from_answers(catalogue.get_service(key).form, answers or sample_answers(key))
    data.update(overrides)
    return data


def html(response) -> str:
    return response.content.decode()


def text(response) -> str:
    """The page's main content as text: tags out, whitespace folded, entities of quotes decoded."""
    main = re.search(r"<main[^>]*>(.*)</main>", html(response), re.S).group(1)
    plain = re.sub(r"<[^>]+>", " ", main).replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&")
    return " ".join(plain.split())
