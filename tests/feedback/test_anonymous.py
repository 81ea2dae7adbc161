"""Consultations without an account: a name, an e-mail address and the question; a CAPTCHA-free throttle per client
address and per e-mail address; the answer comes by e-mail (the outbox) with a link that reads it without signing in."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.models import Role
from portal.feedback import services as feedback
from portal.feedback.anonymous import PER_ADDRESS_PER_HOUR, PER_EMAIL_PER_DAY
from portal.feedback.models import Feedback, FeedbackKind
from portal.notify.models import OutboxMessage
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_counters(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    settings.REDIS_URL = ""  # the throttle counts in the cache here (the Redis path is portal.ratelimit's own test)
    cache.clear()
    yield
    cache.clear()


def question(office, n=0, email="wang.fang@example.com"):
    return {"name": "王芳", "email": email, "office": office.pk, "subject": f"二孩政策 {n}", "body": "请问如何登记？"}


def test_a_question_without_an_account_is_answered_by_e_mail_with_a_reading_link(client, office):
    response = client.post(reverse("feedback:ask"), question(office))
    assert response.status_code == 200
    item = Feedback.objects.get()
    assert item.applicant is None and item.kind == FeedbackKind.CONSULTATION and item.office == office
    assert item.case_number in response.content.decode() and item.due_date is not None
    received = OutboxMessage.objects.get(to="wang.fang@example.com")
    assert item.case_number in received.body and "/feedback/answer/" not in received.body
    assert client.get(reverse("feedback:detail", args=[item.case_number])).status_code == 302  # needs an account

    officer = StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER)
    feedback.answer(feedback=item, by=officer, text="请携带户口簿到社区登记。")
    answered = OutboxMessage.objects.filter(to="wang.fang@example.com").latest("pk")
    assert "请携带户口簿到社区登记" in answered.body
    link = re.search(r"https?://\S+/feedback/answer/(\S+)/", answered.body)
    assert link is not None
    page = client.get(reverse("feedback:read_answer", args=[link.group(1)]))
    assert page.status_code == 200 and "请携带户口簿到社区登记" in page.content.decode()
    item.refresh_from_db()
    assert link.group(1) not in item.access_hash  # only its hash is stored
    assert client.get(reverse("feedback:read_answer", args=["not-the-code"])).status_code == 404


def test_the_throttle_refuses_the_next_question_with_a_clear_message_and_keeps_what_was_typed(client, office, settings):
    assert PER_EMAIL_PER_DAY == PER_ADDRESS_PER_HOUR == 3
    for n in range(3):
        assert client.post(reverse("feedback:ask"), question(office, n)).status_code == 200
    refused = client.post(reverse("feedback:ask"), question(office, 3))
    html = refused.content.decode()
    assert refused.status_code == 429 and Feedback.objects.count() == 3
    assert "You have asked 3 questions without an account recently" in html
    assert 'value="二孩政策 3"' in html and "请问如何登记？" in html and 'value="wang.fang@example.com"' in html

    # Another e-mail address from the same connection is refused too; the same address from another one as well.
    assert client.post(reverse("feedback:ask"), question(office, 4, email="li@example.com")).status_code == 429
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"  # the Chinese default says the same
    assert (
        "您最近已在未登录状态下提交了3个咨询"
        in client.post(reverse("feedback:ask"), question(office, 6)).content.decode()
    )
    other = client.post(reverse("feedback:ask"), question(office, 5), REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 429 and Feedback.objects.count() == 3


def test_a_question_needs_a_name_a_valid_address_and_an_office(client, office):
    response = client.post(reverse("feedback:ask"), {**question(office), "name": "", "email": "not-an-address"})
    html = response.content.decode()
    assert response.status_code == 400 and not Feedback.objects.exists()
    assert "Enter your name" in html and "like name@example.com" in html
