"""Helpers for the account tests: registration data and reading links and codes from the outbox."""

import re

import pytest

from portal.notify.models import OutboxMessage

PASSWORD = "Correct-Horse-42"


def registration_data(**overrides):
    data = {
        "real_name": "王芳",
        "id_number": "410105196507196913",
        "mobile": "+8616692816317",
        "email": "citizen00@example.test",
        "username": "wangfang",
        "password1": "Zhengzhou-Spring-2026",
        "password2": "Zhengzhou-Spring-2026",
        "consent": "on",
    }
    data.update(overrides)
    return data


def last_message(user, template):
    return OutboxMessage.objects.filter(user=user, template=template).order_by("-created_at", "-pk").first()


def link_path(message):
    """The path of the first portal link in a queued e-mail."""
    match = re.search(r"https?://[^/\s]+(/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def sms_code(user):
    message = last_message(user, "accounts/mobile_code")
    return re.search(r"\b(\d{6})\b", message.body).group(1)


@pytest.fixture(autouse=True)
def _english(settings):
    """Assertions read the English messages; the zh-hans catalogue must not change them."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def password():
    return PASSWORD
