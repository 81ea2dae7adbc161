"""Login throttling, password-reset links, sessions and the staff second factor under attack."""

import datetime
import re

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.http import urlsafe_base64_encode
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from certificates.models import Status
from portal.notify.models import OutboxMessage
from tests.factories import ApplicationFactory, StaffFactory, UserFactory, attach_documents

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
NEW_PASSWORD = "Luoyang-Peony-Garden-7"
NOW = datetime.datetime(2026, 11, 24, 2, 0, 7, tzinfo=datetime.UTC)


def login(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def authenticated(client):
    return client.get(reverse("accounts:profile")).status_code == 200


# --- throttling: per account and real address ---------------------------------------------------------


def test_rotating_forged_forwarded_for_behind_the_proxy_gains_nothing(settings):
    settings.TRUSTED_PROXY_COUNT = 1  # our proxy appends the real client address as the last entry
    UserFactory(username="lisi")
    for attempt in range(5):
        login(
            Client(),
            "lisi",
            "wrong",
            REMOTE_ADDR="10.0.0.254",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}, 203.0.113.7",
        )
    client = Client()
    response = login(client, "lisi", REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7")
    assert response.status_code == 429 and not authenticated(client)


def test_attacker_cannot_lock_out_the_victim_by_forging_the_victims_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="victim")
    for _ in range(10):  # the attacker claims to be the victim's address; the proxy appends the attacker's
        login(Client(), "victim", "wrong", REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="203.0.113.50, 198.51.100.66")
    client = Client()
    response = login(client, "victim", REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert response.status_code == 302 and authenticated(client)


def test_attacker_from_many_addresses_cannot_lock_the_account_globally():
    UserFactory(username="wangfang")
    for host in range(4):
        for _ in range(5):
            login(Client(), "wangfang", "wrong", REMOTE_ADDR=f"198.51.100.{host}")
    client = Client()
    assert login(client, "wangfang", REMOTE_ADDR="203.0.113.9").status_code == 302
    assert authenticated(client)


def test_other_spellings_of_the_username_count_against_the_same_limit():
    UserFactory(username="lisi")
    for spelling in ("LISI", " lisi ", "ＬＩＳＩ", "LiSi", "lisi"):
        login(Client(), spelling, "wrong", REMOTE_ADDR="10.1.0.1")
    client = Client()
    assert login(client, "Lisi", REMOTE_ADDR="10.1.0.1").status_code == 429
    assert not authenticated(client)


# --- password reset links ---------------------------------------------------------------------------------


def reset_link(client, user):
    client.post(reverse("accounts:password_reset"), {"email": user.email})
    message = OutboxMessage.objects.filter(user=user, template="accounts/password_reset").latest("pk")
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def open_link(client, path):
    return client.get(path, follow=True)


def set_password(client, page, password=NEW_PASSWORD):
    return client.post(page.request["PATH_INFO"], {"new_password1": password, "new_password2": password})


def test_reset_link_opened_in_two_browsers_works_once(citizen):
    path = reset_link(Client(), citizen)
    first, second = Client(), Client()
    page1, page2 = open_link(first, path), open_link(second, path)
    assert page1.context["validlink"] and page2.context["validlink"]
    assert set_password(first, page1)["Location"] == reverse("accounts:password_reset_complete")
    response = set_password(second, page2, "Attacker-Chose-This-9")
    assert response.status_code == 200 and not response.context["validlink"]
    citizen.refresh_from_db()
    assert citizen.check_password(NEW_PASSWORD) and not citizen.check_password("Attacker-Chose-This-9")


def test_old_reset_link_dies_once_the_holder_logs_in(client, citizen):
    path = reset_link(Client(), citizen)
    assert login(Client(), citizen.username).status_code == 302
    assert not open_link(client, path).context["validlink"]


def test_reset_token_of_one_account_does_not_work_for_another(client, citizen, other_citizen):
    path = reset_link(Client(), citizen)
    uidb64, token = path.rstrip("/").split("/")[-2:]
    forged = reverse(
        "accounts:password_reset_confirm",
        kwargs={"uidb64": urlsafe_base64_encode(str(other_citizen.pk).encode()), "token": token},
    )
    assert not open_link(client, forged).context["validlink"]
    assert uidb64 != urlsafe_base64_encode(str(other_citizen.pk).encode())


def test_reset_does_not_log_anybody_in(client, citizen):
    page = open_link(client, reset_link(client, citizen))
    set_password(client, page)
    assert not authenticated(client)
    assert "_auth_user_id" not in client.session


# --- sessions -----------------------------------------------------------------------------------------------


def test_a_captured_session_cookie_is_dead_after_logout(citizen):
    victim = Client()
    assert login(victim, citizen.username).status_code == 302
    stolen = victim.cookies["sessionid"].value
    victim.post(reverse("accounts:logout"))
    attacker = Client()
    attacker.cookies["sessionid"] = stolen
    assert not authenticated(attacker)
    assert not Session.objects.filter(session_key=stolen).exists()


def test_a_captured_session_cookie_is_dead_after_the_password_change(citizen):
    victim, attacker = Client(), Client()
    login(victim, citizen.username)
    login(attacker, citizen.username)  # the attacker knew the old password, or copied the cookie
    victim.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert authenticated(victim)
    assert not authenticated(attacker)


@pytest.fixture
def officer(station_a):
    user = StaffFactory(office=station_a)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user, device


def admin_login(client, user, token="", password=PASSWORD):
    return client.post(
        reverse("admin:login"),
        {"username": user.username, "password": password, "otp_token": token, "next": reverse("admin:index")},
    )


@override_settings(STAFF_MFA_REQUIRED=True)
def test_a_password_reset_ends_an_admin_session(officer):
    user, device = officer
    with time_machine.travel(NOW, tick=False):
        admin = Client()
        assert admin_login(admin, user, f"{totp(device.bin_key):06d}").status_code == 302
        assert admin.get(reverse("admin:index")).status_code == 200
        client = Client()
        set_password(client, open_link(client, reset_link(client, user)))
        assert admin.get(reverse("admin:index")).status_code == 302


# --- the staff second factor ----------------------------------------------------------------------------


@override_settings(STAFF_MFA_REQUIRED=True)
def test_password_reset_does_not_skip_the_second_factor(officer):
    user, device = officer
    with time_machine.travel(NOW, tick=False):
        client = Client()
        set_password(client, open_link(client, reset_link(client, user)))
        assert client.get(reverse("admin:index")).status_code == 302  # the reset logged nobody in
        response = admin_login(client, user, password=NEW_PASSWORD)
        assert response.status_code == 200 and client.get(reverse("admin:index")).status_code == 302
        assert admin_login(client, user, f"{totp(device.bin_key):06d}", NEW_PASSWORD).status_code == 302
        assert client.get(reverse("admin:index")).status_code == 200


@override_settings(STAFF_MFA_REQUIRED=True)
def test_staff_signed_in_on_the_citizen_page_reach_no_admin_and_no_citizen_file(officer, station_a, no_tasks):
    user, _ = officer
    application = ApplicationFactory(office=station_a, submitted=True)
    (document, *_) = attach_documents(application)
    client = Client()
    assert login(client, user.username).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 302
    assert client.get(reverse("admin:certificates_application_change", args=[application.pk])).status_code == 302
    assert client.get(document.get_absolute_url()).status_code == 404


@override_settings(STAFF_MFA_REQUIRED=True)
def test_a_used_one_time_code_cannot_be_replayed(officer):
    user, device = officer
    with time_machine.travel(NOW, tick=False):
        code = f"{totp(device.bin_key):06d}"
        first = Client()
        assert admin_login(first, user, code).status_code == 302
        replay = Client()
        assert admin_login(replay, user, code).status_code == 200
        assert replay.get(reverse("admin:index")).status_code == 302


@override_settings(STAFF_MFA_REQUIRED=True)
def test_guessing_one_time_codes_is_throttled(officer):
    user, device = officer
    with time_machine.travel(NOW, tick=False) as clock:
        code = f"{totp(device.bin_key):06d}"
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        client = Client()
        admin_login(client, user, wrong)
        admin_login(client, user, wrong)
        assert admin_login(client, user, code).status_code == 200  # right code, but still throttled
        clock.shift(datetime.timedelta(seconds=2.5))
        assert admin_login(client, user, f"{totp(device.bin_key):06d}").status_code == 302


# --- cross-site requests and redirects ------------------------------------------------------------------


@pytest.fixture
def csrf_client(citizen):
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)
    return client


def test_cross_site_posts_are_refused(csrf_client, citizen, station_a):
    application = ApplicationFactory(office=station_a, applicant=citizen, submitted=True)
    targets = {
        reverse("accounts:logout"): {},
        reverse("accounts:report_misuse"): {"description": "forged"},
        reverse("accounts:profile"): {"email": "attacker@example.test", "language": "en"},
        reverse("accounts:password_change"): {"old_password": PASSWORD, "new_password1": "x", "new_password2": "x"},
        reverse("certificates:withdraw", kwargs={"case_number": application.case_number}): {},
    }
    for url, data in targets.items():
        assert csrf_client.post(url, data).status_code == 403, url
    citizen.refresh_from_db()
    application.refresh_from_db()
    assert citizen.is_active and citizen.email != "attacker@example.test" and application.status == Status.SUBMITTED


def test_cross_site_post_of_an_admin_decision_is_refused(officer_a, station_a, no_mfa, no_tasks):
    application = ApplicationFactory(office=station_a, submitted=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer_a)
    url = reverse("admin:certificates_application_act", args=[application.pk, "accept"])
    assert client.post(url, {"seen_status": "submitted"}).status_code == 403
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]
)
def test_login_never_redirects_off_site(client, citizen, target):
    response = client.post(f"{LOGIN}?next={target}", {"username": citizen.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("me")


def test_unknown_user_and_wrong_password_look_the_same(client, citizen):
    unknown = login(Client(), "nobody-here", "wrong")
    wrong = login(Client(), citizen.username, "wrong")
    assert unknown.status_code == wrong.status_code == 200
    assert unknown.context["form"].non_field_errors() == wrong.context["form"].non_field_errors()
