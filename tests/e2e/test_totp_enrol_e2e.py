"""A staff member's one-time authenticator enrolment link (manage.py create_staff_totp, import_staff) in a real browser:
the page on a phone, a wrong code, the right code, and the link dead afterwards."""

import io
import re

import pytest
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.e2e.conftest import horizontal_overflow, shot
from tests.factories import StaffFactory

pytestmark = pytest.mark.e2e


def test_a_member_enrols_from_the_link_on_a_phone(phone_page, site, settings):
    settings.SITE_URL = site
    member = StaffFactory(role="police_officer", username="li_jing", real_name="李静")
    out = io.StringIO()
    call_command("create_staff_totp", member.username, stdout=out)
    link = re.search(r"^enrol li_jing: (\S+)$", out.getvalue(), re.M).group(1)
    device = TOTPDevice.objects.get(user=member)

    page = phone_page
    response = page.goto(link)
    assert response.status == 200 and response.headers["referrer-policy"] == "same-origin"
    assert page.locator("h1").count() == 1 and "李静" in page.content() and "li_jing" in page.content()
    qr = page.locator("main img[src^='data:image/svg+xml']")
    assert qr.bounding_box()["width"] <= 360
    assert horizontal_overflow(page) == 0
    shot(page, "totp-enrol-phone")

    # A real browser's POST carries an Origin header; the page's referrer policy must let the CSRF check accept it.
    page.fill("input[name=otp_token]", f"{(totp(device.bin_key) + 1) % 1_000_000:06d}")
    with page.expect_navigation():  # the answer is a new page: wait for it, not for the old one to be checked
        page.locator("main button[type=submit]").click()
    expect(page.locator("#otp_error")).to_be_visible()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)  # the wait after a wrong code is over
    page.fill("input[name=otp_token]", f"{totp(device.bin_key):06d}")
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    device.refresh_from_db()
    assert device.confirmed
    shot(page, "totp-enrol-done-phone")
    assert page.goto(link).status == 404
