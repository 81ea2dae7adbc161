"""E-mail confirmation links and SMS codes: once, expiry, attempts, send limits."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import MobileCode, User
from tests.factories import UserFactory

from .conftest import last_message, link_path, registration_data, sms_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer(client):
    client.post(reverse("accounts:register"), registration_data())
    return User.objects.get(username="wangfang")


# --- e-mail -------------------------------------------------------------------------------------------


def test_email_link_confirms_once(client, newcomer):
    path = link_path(last_message(newcomer, "accounts/confirm_email"))
    anonymous = client.__class__()  # the link works in any browser, logged in or not
    page = anonymous.get(path)
    assert page.status_code == 200 and "citizen00@example.test" in page.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.email_confirmed_at is None  # a GET (a link scanner) does not confirm
    assert anonymous.post(path).status_code == 200
    newcomer.refresh_from_db()
    assert newcomer.email_confirmed_at is not None
    assert anonymous.get(path).status_code == 400
    assert anonymous.post(path).status_code == 400


def test_email_link_dies_when_the_address_changes(client, newcomer, password):
    path = link_path(last_message(newcomer, "accounts/confirm_email"))
    newcomer.email = "another@example.test"
    newcomer.save()
    assert client.post(path).status_code == 400
    newcomer.refresh_from_db()
    assert newcomer.email_confirmed_at is None


def test_email_link_expires_after_three_days(client):
    with time_machine.travel(datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC), tick=False):
        user = UserFactory(unconfirmed=True)
        services.email_confirmation_send(user=user)
        path = link_path(last_message(user, "accounts/confirm_email"))
    with time_machine.travel(datetime.datetime(2026, 11, 5, 8, 59, tzinfo=datetime.UTC), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(datetime.datetime(2026, 11, 5, 9, 1, tzinfo=datetime.UTC), tick=False):
        assert client.post(path).status_code == 400
    user.refresh_from_db()
    assert user.email_confirmed_at is None


@pytest.mark.parametrize("token", ["garbage", "MQ.abc-def", "MQ", "%%%.1-2"])
def test_forged_email_links_are_refused(client, newcomer, token):
    assert client.post(reverse("accounts:confirm_email", args=[token])).status_code == 400


def test_resend_email_is_limited(client, newcomer):
    client.force_login(newcomer)
    for _ in range(4):
        client.post(reverse("accounts:resend_email"))
    with pytest.raises(ValidationError):
        services.email_confirmation_send(user=newcomer)


# --- SMS code -----------------------------------------------------------------------------------------


def test_correct_code_confirms(client, newcomer):
    code = sms_code(newcomer)
    response = client.post(reverse("accounts:confirm_mobile"), {"code": code})
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.mobile_confirmed_at is not None
    assert MobileCode.objects.get(user=newcomer).code_hash != code  # only a hash is stored
    # Used: it cannot be used again.
    with pytest.raises(ValidationError):
        services.mobile_code_check(user=newcomer, code=code)


def test_full_width_code_is_accepted(client, newcomer):
    code = sms_code(newcomer)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in code)
    client.post(reverse("accounts:confirm_mobile"), {"code": wide})
    newcomer.refresh_from_db()
    assert newcomer.mobile_confirmed_at is not None


def test_wrong_code_counts_attempts_and_the_sixth_is_refused(client, newcomer):
    code = sms_code(newcomer)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for attempt in range(1, 6):
        response = client.post(reverse("accounts:confirm_mobile"), {"code": wrong})
        assert response.status_code == 200
        assert MobileCode.objects.get(user=newcomer).attempts == attempt
        assert "not correct" in response.context["form"].errors["code"][0]
    # The sixth attempt is refused even with the right code.
    response = client.post(reverse("accounts:confirm_mobile"), {"code": code})
    assert "Too many wrong attempts" in response.context["form"].errors["code"][0]
    newcomer.refresh_from_db()
    assert newcomer.mobile_confirmed_at is None


def test_expired_code_is_refused(client, newcomer):
    code = sms_code(newcomer)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=10, seconds=1)):
        response = client.post(reverse("accounts:confirm_mobile"), {"code": code})
        assert "expired" in response.context["form"].errors["code"][0]
    newcomer.refresh_from_db()
    assert newcomer.mobile_confirmed_at is None


def test_code_just_inside_ten_minutes_works(client, newcomer):
    code = sms_code(newcomer)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=9, seconds=50)):
        client.post(reverse("accounts:confirm_mobile"), {"code": code})
    newcomer.refresh_from_db()
    assert newcomer.mobile_confirmed_at is not None


def test_a_new_code_replaces_the_old_one(client, newcomer):
    old = sms_code(newcomer)
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)):
        client.post(reverse("accounts:resend_sms"))
        new = sms_code(newcomer)
        if new == old:  # one chance in a million
            pytest.skip("same code drawn twice")
        with pytest.raises(ValidationError):
            services.mobile_code_check(user=newcomer, code=old)
        services.mobile_code_check(user=newcomer, code=new)
    newcomer.refresh_from_db()
    assert newcomer.mobile_confirmed_at is not None


def test_send_limits_interval_and_hourly(newcomer):
    with pytest.raises(ValidationError) as too_soon:
        services.mobile_code_send(user=newcomer)  # registration sent one a moment ago
    assert too_soon.value.code == "sms_interval"
    start = timezone.now()
    for n in range(1, 5):
        with time_machine.travel(start + datetime.timedelta(seconds=61 * n)):
            services.mobile_code_send(user=newcomer)
    with time_machine.travel(start + datetime.timedelta(seconds=61 * 5)):
        with pytest.raises(ValidationError) as hourly:
            services.mobile_code_send(user=newcomer)
    assert hourly.value.code == "sms_send_limit"
    with time_machine.travel(start + datetime.timedelta(minutes=61)):
        services.mobile_code_send(user=newcomer)
    assert MobileCode.objects.filter(user=newcomer).count() == 6


def test_confirm_mobile_needs_login(client):
    response = client.get(reverse("accounts:confirm_mobile"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_code_for_a_previous_number_does_not_confirm_the_new_one(client, newcomer):
    code = sms_code(newcomer)
    User.objects.filter(pk=newcomer.pk).update(mobile="+8613800001111")
    newcomer.refresh_from_db()
    with pytest.raises(ValidationError):
        services.mobile_code_check(user=newcomer, code=code)


def test_profile_shows_confirmation_state(client, newcomer):
    html = client.get(reverse("accounts:profile")).content.decode()
    assert html.count("not confirmed yet") == 2
    client.post(reverse("accounts:confirm_mobile"), {"code": sms_code(newcomer)})
    client.post(link_path(last_message(newcomer, "accounts/confirm_email")))
    newcomer.refresh_from_db()
    assert newcomer.contact_confirmed
    html = client.get(reverse("accounts:profile")).content.decode()
    assert "not confirmed yet" not in html
