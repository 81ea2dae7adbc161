"""The portal as a weapon: an attacker rotating addresses must not make it flood one mailbox or one phone.

The per-address rate limits stop one client; these caps stop many clients aimed at one victim.
"""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from portal.notify.models import Channel, OutboxMessage
from tests.factories import UserFactory, make_id_number

pytestmark = pytest.mark.django_db

VICTIM_MOBILE = "+8613912345678"


def test_reset_emails_to_one_account_are_capped_whoever_asks(citizen):
    for i in range(12):
        response = Client().post(
            reverse("accounts:password_reset"), {"email": citizen.email}, REMOTE_ADDR=f"198.51.100.{i}"
        )
        assert response["Location"] == reverse("accounts:password_reset_done")  # the same answer every time
    sent = OutboxMessage.objects.filter(template="accounts/password_reset", to=citizen.email).count()
    assert 1 <= sent <= 5


def test_sms_codes_to_one_number_through_registrations_are_capped():
    for i in range(10):
        response = Client().post(
            reverse("accounts:register"),
            {
                "real_name": "王芳",
                "id_number": make_id_number(),
                "mobile": VICTIM_MOBILE,
                "email": f"bomber{i}@example.test",
                "username": f"bomber{i}",
                "password1": "Zhengzhou-Spring-2026",
                "password2": "Zhengzhou-Spring-2026",
                "consent": "on",
            },
            REMOTE_ADDR=f"198.51.100.{i}",
        )
        assert response.status_code == 302  # registering still works; only the SMS is held back
    assert User.objects.filter(username__startswith="bomber").count() == 10
    sms = OutboxMessage.objects.filter(channel=Channel.SMS, to=VICTIM_MOBILE).count()
    assert 1 <= sms <= 5


def test_sms_codes_to_one_number_through_profile_changes_are_capped():
    for _ in range(8):
        user = UserFactory()
        client = Client()
        client.force_login(user)
        client.post(
            reverse("accounts:profile"),
            {"email": user.email, "mobile": VICTIM_MOBILE, "language": "en", "current_password": "Correct-Horse-42"},
        )
    assert 1 <= OutboxMessage.objects.filter(channel=Channel.SMS, to=VICTIM_MOBILE).count() <= 5
