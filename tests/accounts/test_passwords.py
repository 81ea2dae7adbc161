"""Password change and reset: sessions, links that work once, die after use, e-mail change or expiry."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import User
from portal.notify.models import Channel, OutboxMessage
from tests.factories import UserFactory

from .conftest import PASSWORD, last_message, link_path

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Luoyang-Peony-Garden-7"


def request_reset(client, email):
    return client.post(reverse("accounts:password_reset"), {"email": email})


def open_link(client, path):
    """Follow the link as Django does: the token moves into the session, then the set-password page."""
    return client.get(path, follow=True)


def set_password(client, response):
    return client.post(response.request["PATH_INFO"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})


# --- change ---------------------------------------------------------------------------------------------


def test_password_change_keeps_this_session_and_ends_the_others(citizen):
    here, elsewhere = Client(), Client()
    for c in (here, elsewhere):
        assert (
            c.post(reverse("accounts:login"), {"username": citizen.username, "password": PASSWORD}).status_code == 302
        )
        assert c.get(reverse("accounts:profile")).status_code == 200
    response = here.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == reverse("accounts:password_change_done")
    assert here.get(reverse("accounts:profile")).status_code == 200
    assert elsewhere.get(reverse("accounts:profile")).status_code == 302
    citizen.refresh_from_db()
    assert citizen.check_password(NEW_PASSWORD)


def test_password_change_needs_the_old_password(client, citizen):
    client.force_login(citizen)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200 and "old_password" in response.context["form"].errors
    html = response.content.decode()
    assert 'autocomplete="current-password"' in html and 'autocomplete="new-password"' in html


# --- reset ----------------------------------------------------------------------------------------------


def test_same_answer_whether_or_not_the_address_exists(client, citizen):
    known = request_reset(client, citizen.email.upper())
    unknown = request_reset(client, "nobody@example.test")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("accounts:password_reset_done")
    assert OutboxMessage.objects.filter(template="accounts/password_reset").count() == 1
    message = last_message(citizen, "accounts/password_reset")
    assert message.channel == Channel.EMAIL and message.to == citizen.email
    assert message.status == "pending"  # queued in the outbox, not sent during the request


def test_reset_link_works_once(client, citizen):
    request_reset(client, citizen.email)
    path = link_path(last_message(citizen, "accounts/password_reset"))
    page = open_link(client, path)
    assert page.context["validlink"]
    response = set_password(client, page)
    assert response["Location"] == reverse("accounts:password_reset_complete")
    citizen.refresh_from_db()
    assert citizen.check_password(NEW_PASSWORD)
    again = open_link(Client(), path)
    assert not again.context["validlink"]


def test_reset_link_dies_after_an_email_change(client, citizen):
    request_reset(client, citizen.email)
    path = link_path(last_message(citizen, "accounts/password_reset"))
    User.objects.filter(pk=citizen.pk).update(email="moved@example.test")
    assert not open_link(client, path).context["validlink"]


def test_reset_link_dies_after_an_hour(client):
    start = datetime.datetime(2026, 11, 24, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        user = UserFactory()
        request_reset(client, user.email)
        path = link_path(last_message(user, "accounts/password_reset"))
    with time_machine.travel(start + datetime.timedelta(minutes=59), tick=False):
        assert open_link(Client(), path).context["validlink"]
    with time_machine.travel(start + datetime.timedelta(minutes=61), tick=False):
        assert not open_link(Client(), path).context["validlink"]


def test_reset_link_dies_when_the_account_is_suspended(client, citizen):
    request_reset(client, citizen.email)
    path = link_path(last_message(citizen, "accounts/password_reset"))
    citizen.suspend("test")
    assert not open_link(client, path).context["validlink"]


def test_reset_ends_every_session(client, citizen):
    other = Client()
    other.force_login(citizen)
    request_reset(client, citizen.email)
    set_password(client, open_link(client, link_path(last_message(citizen, "accounts/password_reset"))))
    assert other.get(reverse("accounts:profile")).status_code == 302


def test_suspended_account_gets_no_reset_mail(client):
    user = UserFactory(suspended=True)
    assert request_reset(client, user.email).status_code == 302
    assert not OutboxMessage.objects.filter(user=user).exists()


# --- forced change --------------------------------------------------------------------------------------


def test_forced_change_comes_before_anything_else(client, citizen):
    services.user_force_password_reset(user=citizen, by=citizen)
    client.force_login(citizen)
    for url in (reverse("accounts:profile"), reverse("me"), reverse("home")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("accounts:password_change")
    page = client.get(reverse("accounts:password_change"))
    assert page.status_code == 200 and "asked you to choose a new password" in page.content.decode()
    client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    citizen.refresh_from_db()
    assert not citizen.must_change_password
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_forced_change_can_also_be_done_by_the_emailed_link(client, citizen):
    services.user_force_password_reset(user=citizen, by=citizen)
    path = link_path(last_message(citizen, "accounts/password_reset"))
    set_password(client, open_link(client, path))
    citizen.refresh_from_db()
    assert citizen.check_password(NEW_PASSWORD) and not citizen.must_change_password


def test_forced_user_can_still_log_out(client, citizen):
    citizen.must_change_password = True
    citizen.save()
    client.force_login(citizen)
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session
