"""/me/ says what to do next: needs your action, in progress, finished; each case with its next step and its date."""

import datetime
import re
from dataclasses import replace

import pytest
from django.urls import reverse

from portal import registry
from tests.factories import ApplicationFactory, FeedbackFactory, MigrationApplicationFactory, hukou_offices

pytestmark = pytest.mark.django_db


def groups(html):
    """{group: [case numbers]} in page order, from the sections' data-group and the cards' data-case."""
    found = {}
    for group, body in re.findall(r'<section aria-labelledby="[^"]+" data-group="([^"]+)">(.*?)</section>', html, re.S):
        found[group] = re.findall(r'data-case="([^"]+)"', body)
    return found


def card(html, number):
    return re.search(rf'<article class="portal-case[^"]*" data-case="{number}".*?</article>', html, re.S).group(0)


@pytest.fixture
def en(client):
    client.cookies["portal_language"] = "en"
    return client


def test_cases_are_grouped_with_their_next_step_and_its_date(en, citizen, station_a):
    draft = ApplicationFactory(applicant=citizen, office=station_a, draft=True)
    asked = ApplicationFactory(applicant=citizen, office=station_a, info_requested=True)
    accepted = ApplicationFactory(applicant=citizen, office=station_a, accepted=True)
    issued = ApplicationFactory(applicant=citizen, office=station_a, issued=True)
    refused = ApplicationFactory(applicant=citizen, office=station_a, refused=True)
    en.force_login(citizen)
    html = en.get(reverse("me")).content.decode()

    found = groups(html)
    assert sorted(found["action"]) == sorted([draft.case_number, asked.case_number])
    assert found["in_progress"] == [accepted.case_number]
    assert sorted(found["finished"]) == sorted([issued.case_number, refused.case_number])
    assert "(2)" in re.search(r'id="action-heading">(.*?)</h2>', html).group(1)

    assert "Finish your application and submit it" in card(html, draft.case_number)
    assert "Last saved" in card(html, draft.case_number)
    info = card(html, asked.case_number)
    assert "Send the information the police station asked for" in info and "Asked on" in info
    assert ">Continue<" in info  # a card that needs the citizen has the strong button
    review = card(html, accepted.case_number)
    assert "The police station reviews your application" in review
    assert f'Due by: <time datetime="{accepted.due_date:%Y-%m-%d}"' in review
    done = card(html, issued.case_number)
    assert "Download your certificate from the application&#x27;s page" in done and "Finished on" in done
    assert "Read the reason on the application&#x27;s page" in card(html, refused.case_number)
    # A finished case never reads "no deadline running" (未在计时).
    assert "No deadline running" not in html


def test_a_closed_case_in_chinese_has_its_finishing_date_not_a_deadline(client, citizen, station_a):
    issued = ApplicationFactory(applicant=citizen, office=station_a, issued=True)
    client.force_login(citizen)
    html = client.get(reverse("me")).content.decode()
    text = card(html, issued.case_number)
    assert "未在计时" not in text
    assert "办结日期" in text and "下一步" in text and "已办结" in html


def test_hukou_and_feedback_say_who_acts_next(en, citizen, station_a):
    offices = hukou_offices()
    settled = MigrationApplicationFactory(applicant=citizen, offices=offices, settled=True)
    forwarded = MigrationApplicationFactory(applicant=citizen, offices=offices, forwarded=True)
    question = FeedbackFactory(applicant=citizen)
    en.force_login(citizen)
    html = en.get(reverse("me")).content.decode()
    found = groups(html)
    assert settled.case_number in found["finished"]
    assert "print the Permanent Resident Registration Form" in card(html, settled.case_number)
    assert forwarded.case_number in found["in_progress"]
    assert "The municipal household administration decides" in card(html, forwarded.case_number)
    assert question.case_number in found["in_progress"]
    assert "The office answers you within its time limit" in card(html, question.case_number)


def test_a_service_can_ask_for_something_beyond_a_case(en, citizen, station_a, monkeypatch):
    """The place for what a service asks per citizen (a visit to book): listed first under "needs your action"."""
    accepted = ApplicationFactory(applicant=citizen, office=station_a, accepted=True)
    service = registry._services["certificates"]
    item = registry.ActionItem(
        service="certificates",
        title="Book a visit",
        text="Choose a time to collect your paper copy",
        url="/certificates/",
        date=datetime.date(2026, 12, 24),
        date_label="Book by",
        case_number=accepted.case_number,
    )
    monkeypatch.setitem(registry._services, "certificates", replace(service, actions_for_user=lambda user: [item]))
    en.force_login(citizen)
    html = en.get(reverse("me")).content.decode()
    action = re.search(r'data-group="action">(.*?)</section>', html, re.S).group(1)
    assert "Book a visit" in action and "Choose a time to collect your paper copy" in action
    assert 'datetime="2026-12-24"' in action and "Nothing needs your action now." not in action


def test_nothing_to_do_is_said_plainly(en, citizen, station_a):
    ApplicationFactory(applicant=citizen, office=station_a, accepted=True)
    en.force_login(citizen)
    html = en.get(reverse("me")).content.decode()
    assert "Nothing needs your action now." in html
    assert 'data-group="finished"' not in html  # an empty group is left out


def test_the_status_pages_of_finished_cases_give_the_day_they_finished(client, citizen, station_a):
    """Each service's status page dates a finished case as /me/ does ("办结日期"), never "未在计时"."""
    import time_machine
    from django.utils import timezone

    from tests.factories import FamilyPlanningApplicationFactory

    finished_day = datetime.datetime(2026, 10, 14, 15, tzinfo=timezone.get_default_timezone())
    with time_machine.travel(finished_day, tick=False):
        cases = {
            "certificates:detail": ApplicationFactory(applicant=citizen, office=station_a, issued=True),
            "familyplanning:detail": FamilyPlanningApplicationFactory(applicant=citizen, issued=True),
            "hukou:detail": MigrationApplicationFactory(applicant=citizen, offices=hukou_offices(), settled=True),
        }
    open_case = ApplicationFactory(applicant=citizen, office=station_a, accepted=True)
    client.force_login(citizen)
    for url_name, case in cases.items():
        html = client.get(reverse(url_name, args=[case.case_number])).content.decode()
        finished = html.split('data-testid="finished-on"')[1].split("</dd>")[0]
        assert "办结日期" in html and '<time datetime="2026-10-14">2026年10月14日</time>' in finished, url_name
        assert "未在计时" not in html and 'data-testid="due-date"' not in html, url_name
    # A case still open keeps its due date.
    html = client.get(reverse("certificates:detail", args=[open_case.case_number])).content.decode()
    assert 'data-testid="due-date"' in html and 'data-testid="finished-on"' not in html
