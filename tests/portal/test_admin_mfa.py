"""Staff sign in to the admin with a TOTP second factor when STAFF_MFA_REQUIRED is on."""

import pytest
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "Correct-Horse-42"


@pytest.fixture
def officer(station_a):
    user = StaffFactory(office=station_a)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user, device


def login(client, user, token=""):
    return client.post(
        reverse("admin:login"),
        {"username": user.username, "password": PASSWORD, "otp_token": token, "next": reverse("admin:index")},
    )


@override_settings(STAFF_MFA_REQUIRED=True)
def test_password_alone_is_not_enough(client, officer):
    user, _ = officer
    response = login(client, user)
    assert response.status_code == 200
    assert "otp_token" in response.context["form"].errors or response.context["form"].non_field_errors()
    assert client.get(reverse("admin:index")).status_code == 302


@override_settings(STAFF_MFA_REQUIRED=True)
def test_a_wrong_code_is_refused(client, officer):
    user, device = officer
    wrong = f"{(int(totp(device.bin_key)) + 1) % 1_000_000:06d}"
    assert login(client, user, wrong).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302


@override_settings(STAFF_MFA_REQUIRED=True)
def test_password_and_current_code_open_the_admin(client, officer):
    user, device = officer
    response = login(client, user, f"{totp(device.bin_key):06d}")
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


@override_settings(STAFF_MFA_REQUIRED=True)
def test_a_session_without_the_second_factor_is_not_admitted(client, officer):
    user, _ = officer
    client.force_login(user)  # e.g. logged in through the citizen login form
    assert client.get(reverse("admin:index")).status_code == 302


@override_settings(STAFF_MFA_REQUIRED=False)
def test_without_mfa_required_the_password_suffices(client, officer):
    user, _ = officer
    assert login(client, user).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_citizens_never_reach_the_admin(client):
    citizen = UserFactory()
    client.force_login(citizen)
    assert client.get(reverse("admin:index")).status_code == 302
