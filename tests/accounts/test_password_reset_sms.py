"""Password reset by a code sent by SMS to the confirmed mobile: one use, 10 minutes, 5 attempts, the send limits."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from accounts import services
from accounts.models import MobileCode
from tests.accounts.conftest import PASSWORD, last_message
from tests.factories import UserFactory

NEW = "Luoyang-Peony-2026"


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def reset_code(user):
    message = last_message(user, "accounts/password_reset_code")
    assert message is not None
    assert "密码重置验证码" in message.body  # in the holder's language, zh-hans by default
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def ask(client, username, mobile):
    return client.post(reverse("accounts:password_reset_sms"), {"username": username, "mobile": mobile})


def confirm(client, code, password=NEW):
    return client.post(
        reverse("accounts:password_reset_sms_confirm"),
        {"code": code, "new_password1": password, "new_password2": password},
    )


@pytest.mark.django_db
def test_reset_by_sms_code_sets_the_password_once(client):
    user = UserFactory(mobile="+8613800138123")
    response = ask(client, user.username.upper(), "138 0013 8123")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_sms_confirm")
    code = reset_code(user)
    assert MobileCode.objects.get(user=user).purpose == MobileCode.Purpose.PASSWORD_RESET
    done = confirm(client, code)
    assert done.status_code == 302 and done["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW)
    # The same code again, with the page reloaded: it has been used.
    ask(client, user.username, user.mobile)  # a second request in the interval: no new code is sent
    again = confirm(client, code, "Kaifeng-Tower-2027")
    assert again.status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW)


@pytest.mark.django_db
def test_the_same_answer_whether_or_not_the_details_match(client):
    user = UserFactory(mobile="+8613800138124")
    for username, mobile in [("nobody", "13800138124"), (user.username, "13800138999")]:
        response = ask(client, username, mobile)
        assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_sms_confirm")
        page = confirm(client, "123456")
        assert "No code is waiting for this number" in page.content.decode()
    assert not MobileCode.objects.exists()


@pytest.mark.django_db
def test_an_unconfirmed_mobile_or_a_suspended_account_gets_no_code(client):
    unconfirmed = UserFactory(mobile_confirmed_at=None)
    suspended = UserFactory(suspended=True)
    for user in (unconfirmed, suspended):
        ask(client, user.username, user.mobile)
    assert not MobileCode.objects.exists()


@pytest.mark.django_db
def test_a_confirmation_code_does_not_reset_and_a_reset_code_does_not_confirm(client):
    user = UserFactory(mobile_confirmed_at=None)
    services.mobile_code_send(user=user)
    confirmation = re.search(r"\b(\d{6})\b", last_message(user, "accounts/mobile_code").body).group(1)
    with pytest.raises(Exception, match="No code is waiting"):
        services.password_reset_sms_confirm(user=user, code=confirmation, password=NEW)
    user.mobile_confirmed_at = datetime.datetime.now(tz=datetime.UTC)
    user.save()
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=2)):
        services.password_reset_sms_request(username=user.username, mobile=user.mobile)
    code = reset_code(user)
    user.mobile_confirmed_at = None
    user.save()
    with pytest.raises(Exception, match="not correct"):
        services.mobile_code_check(user=user, code=code)
    assert user.mobile_confirmed_at is None


@pytest.mark.django_db
def test_expiry_and_attempts(client):
    user = UserFactory(mobile="+8613800138125")
    start = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        ask(client, user.username, user.mobile)
        code = reset_code(user)
        clock.shift(datetime.timedelta(minutes=10, seconds=1))
        assert "expired" in confirm(client, code).content.decode()
        clock.shift(datetime.timedelta(minutes=1))
        ask(client, user.username, user.mobile)
        code = reset_code(user)
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(services.MOBILE_CODE_MAX_ATTEMPTS):
            confirm(client, wrong)
        assert "Too many wrong attempts" in confirm(client, code).content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_sends_are_limited_like_every_sms_code(client):
    user = UserFactory(mobile="+8613800138126")
    start = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(services.MOBILE_CODE_SENDS_PER_HOUR + 2):
            services.password_reset_sms_request(username=user.username, mobile=user.mobile)
            clock.shift(datetime.timedelta(seconds=61))
    assert MobileCode.objects.filter(user=user).count() == services.MOBILE_CODE_SENDS_PER_HOUR


@pytest.mark.django_db
def test_the_email_reset_page_offers_the_sms_way(client):
    page = client.get(reverse("accounts:password_reset")).content.decode()
    assert reverse("accounts:password_reset_sms") in page
