"""Login: case-insensitive usernames, suspension, sessions, and django-axes throttling per account and address."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def login(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def logged_in_as(client):
    return client.session.get("_auth_user_id")


def test_login_urls_are_the_stable_ones():
    assert reverse("accounts:login") == LOGIN
    assert reverse("accounts:logout") == "/accounts/logout/"
    assert reverse("accounts:register") == "/accounts/register/"


def test_login_with_any_letter_case_gets_a_new_session(client):
    user = UserFactory(username="ZhangSan")
    client.get(LOGIN)
    client.cookies["sessionid"] = "attacker-chosen"
    response = login(client, "zhangsan")
    assert response.status_code == 302
    assert response["Location"] == reverse("me")
    assert int(logged_in_as(client)) == user.pk
    assert client.session.session_key != "attacker-chosen"


def test_wrong_password_gives_one_plain_message(client, citizen):
    response = login(client, citizen.username, "wrong-password")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["The username or the password is not correct."]


def test_suspended_user_cannot_log_in_and_is_told_why(client):
    user = UserFactory(suspended=True)
    response = login(client, user.username)
    assert logged_in_as(client) is None
    error = response.context["form"].non_field_errors()[0]
    assert "This account is suspended" in error and "contact" in error


def test_suspension_is_not_revealed_without_the_right_password(client):
    user = UserFactory(suspended=True)
    response = login(client, user.username, "wrong-password")
    assert "suspended" not in response.content.decode()


def test_suspension_ends_an_existing_session_at_the_next_request(client, citizen):
    client.force_login(citizen)
    assert client.get(reverse("accounts:profile")).status_code == 200
    citizen.suspend("test")
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert not response.wsgi_request.user.is_authenticated


def test_logout_is_post_only_and_ends_the_session(client, citizen):
    login(client, citizen.username)
    old_key = client.session.session_key
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert logged_in_as(client)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert logged_in_as(client) is None
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=old_key).exists()


def test_lockout_after_five_failures_for_username_and_address(client):
    user = UserFactory(username="lisi")
    for attempt in range(5):
        # A forged X-Forwarded-For on every try: it must not change the throttled address.
        response = login(
            client, "lisi", "wrong-password", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}"
        )
    assert response.status_code == 429
    # The right password, a fresh forged header, another letter case: still locked from this address.
    for name in ("lisi", "LiSi"):
        response = login(Client(), name, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9")
        assert response.status_code == 429
        assert "Too many failed logins" in response.content.decode()
    # The same account from another address is not locked out: an attacker cannot lock a citizen out.
    elsewhere = Client()
    response = login(elsewhere, "lisi", REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 302
    assert int(logged_in_as(elsewhere)) == user.pk


def test_four_failures_do_not_lock(client):
    UserFactory(username="wangwu")
    for _ in range(4):
        login(client, "wangwu", "wrong-password", REMOTE_ADDR="10.0.0.3")
    assert login(client, "wangwu", REMOTE_ADDR="10.0.0.3").status_code == 302


def test_other_accounts_from_the_same_address_are_not_locked(client):
    UserFactory(username="victim")
    UserFactory(username="neighbour")
    for _ in range(5):
        login(client, "victim", "wrong-password", REMOTE_ADDR="10.0.0.4")
    assert login(Client(), "neighbour", REMOTE_ADDR="10.0.0.4").status_code == 302
