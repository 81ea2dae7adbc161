"""Every account page renders, with a heading, labelled fields and nothing CSP would block."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PUBLIC = ["register", "login", "password_reset", "password_reset_done", "password_reset_complete"]
PRIVATE = ["profile", "welcome", "confirm_mobile", "password_change", "password_change_done", "my_data"]


def check(html):
    assert "<h1" in html
    assert " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    for field_id in re.findall(r'<input[^>]+type="(?:text|email|tel|password)"[^>]*id="([^"]+)"', html):
        assert f'for="{field_id}"' in html, field_id


@pytest.mark.parametrize("name", PUBLIC)
def test_public_pages(client, name):
    response = client.get(reverse(f"accounts:{name}"))
    assert response.status_code == 200
    check(response.content.decode())


@pytest.mark.parametrize("name", PRIVATE)
def test_private_pages(client, citizen, name):
    client.force_login(citizen)
    response = client.get(reverse(f"accounts:{name}"))
    assert response.status_code == 200
    check(response.content.decode())


def test_pages_render_in_chinese_too(client, citizen, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(citizen)
    for name in PRIVATE:
        assert client.get(reverse(f"accounts:{name}"), HTTP_ACCEPT_LANGUAGE="zh-hans").status_code == 200


def test_locked_out_page_renders():
    from datetime import timedelta

    from django.template.loader import render_to_string

    html = render_to_string(
        "accounts/locked_out.html", {"failure_limit": 5, "username": "x", "cooloff_timedelta": timedelta(minutes=15)}
    )
    assert "5 times" in html and "15 minutes" in html
