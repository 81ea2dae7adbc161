"""Helpers of the citizen's family-planning pages: their URLs, what a citizen types into an online form, page text."""

import re

from django.urls import reverse

from familyplanning import catalogue, services, tasks
from familyplanning.fields import form_data_from_answers
from familyplanning.models import FamilyPlanningApplication
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


def browser(client, user=None, language="en"):
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def apply_online(client, key, office, **answers) -> FamilyPlanningApplication:
    """The citizen fills in the online form of `key` and submits it; returns the application."""
    response = client.post(url("apply", key), {**form_data(key, **answers), "office": office.pk, "action": "continue"})
    assert response.status_code == 302, text(response)
    number = response.url.split("/")[-3]
    assert client.post(url("check", number), {"declaration": "on"}).status_code == 302
    return FamilyPlanningApplication.objects.get(case_number=number)


def decide(application, officer):
    """The office accepts and approves; the worker makes the document (if the service issues one)."""
    services.fp_accept(application=application, by=officer)
    services.fp_approve(application=application, by=officer)
    if application.issues_document:
        assert tasks.generate_document(application.pk, services.DOCUMENT_GENERATION) == "issued"
    application.refresh_from_db()
    return services.current_document(application=application)
