"""An impostor registers with someone else's ID number and starts an application; the real holder registers with the
same number, passes the mobile operator's check (a real HTTP gateway on loopback) and keeps the number. On a 360 px
phone, in two browser contexts (docs/architecture.md#identity-assurance)."""

import pytest

from tests.e2e.conftest import horizontal_overflow, shot
from tests.identity_gateway import identity_gateway

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
PASSWORD = "Songshan-Shaolin-2026"


@pytest.fixture
def carrier(settings, monkeypatch):
    with identity_gateway(settings, monkeypatch, token="e2e-token") as server:
        yield server


def press(page, locator):
    with page.expect_navigation(wait_until="load"):
        locator.click()


def step(page, name):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
    assert horizontal_overflow(page) == 0, name
    shot(page, f"identity-{name}")


def register(page, *, name, id_number, mobile, email, username):
    page.goto("/accounts/register/")
    page.fill("#id_real_name", name)
    page.fill("#id_id_number", id_number)
    page.fill("#id_mobile", mobile)
    page.fill("#id_email", email)
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.check("#id_consent")
    press(page, page.locator("main form.portal-form button[type=submit]"))


def test_the_real_holder_verifies_and_the_impostor_is_suspended_with_the_draft_frozen(carrier, new_page, settings):
    from django.utils import timezone

    from accounts.models import Assurance, User
    from certificates.models import Application, Status
    from tests.factories import OfficeFactory, make_id_number

    station = OfficeFactory(name="嵩山路派出所", name_en="Songshan Road Police Station")
    number = make_id_number()

    # 1. The impostor registers with the victim's number and starts a no-criminal-record application.
    impostor_page = new_page(**PHONE)
    register(
        impostor_page,
        name="冒名人",
        id_number=number,
        mobile="13900139001",
        email="impostor@example.test",
        username="impostor",
    )
    assert impostor_page.url.endswith("/accounts/welcome/")
    impostor = User.objects.get(username="impostor")
    assert impostor.assurance_level == Assurance.DECLARED
    impostor_page.goto("/certificates/")
    press(impostor_page, impostor_page.get_by_test_id("start-application"))
    impostor_page.check("input[name=applying_for][value=self]")
    impostor_page.select_option("#id_office", str(station.pk))
    press(impostor_page, impostor_page.locator("main form.portal-form button[type=submit]"))
    draft = Application.objects.get(applicant=impostor)
    assert draft.status == Status.DRAFT
    step(impostor_page, "01-impostor-draft")

    # 2. The real holder registers with the same number: accepted, not locked out.
    victim_page = new_page(**PHONE)
    register(
        victim_page,
        name="真名人",
        id_number=number,
        mobile="13900139002",
        email="holder@example.test",
        username="holder",
    )
    assert victim_page.url.endswith("/accounts/welcome/")
    victim = User.objects.get(username="holder")
    # Contact confirmation is the accounts journey's subject (test_accounts_e2e.py): done directly here.
    User.objects.filter(pk=victim.pk).update(email_confirmed_at=timezone.now(), mobile_confirmed_at=timezone.now())

    # 3. From the profile: "Verify my identity", the operator's check, which matches.
    victim_page.goto("/accounts/profile/")
    assert victim_page.get_by_test_id("assurance-level").inner_text().strip()
    press(victim_page, victim_page.get_by_test_id("verify-identity"))
    assert victim_page.url.endswith("/accounts/verify-identity/")
    step(victim_page, "02-verify-page")
    press(victim_page, victim_page.get_by_test_id("verify-carrier"))
    assert victim_page.get_by_test_id("verified").is_visible()
    step(victim_page, "03-verified")
    assert carrier.received[0]["json"]["id_number"] == number
    assert carrier.received[0]["json"]["mobile"] == "+8613900139002"
    victim.refresh_from_db()
    assert victim.assurance_level == Assurance.VERIFIED

    # 4. The impostor is suspended at once: the next page finds them logged out, and the draft is frozen.
    impostor.refresh_from_db()
    assert impostor.is_suspended and not impostor.is_active
    draft.refresh_from_db()
    assert draft.frozen_at is not None and draft.status == Status.DRAFT
    impostor_page.goto("/me/")
    assert "/accounts/login/" in impostor_page.url
    impostor_page.fill("#id_username", "impostor")
    impostor_page.fill("#id_password", PASSWORD)
    press(impostor_page, impostor_page.locator("main form.portal-form button[type=submit]"))
    assert "/accounts/login/" in impostor_page.url
    assert impostor_page.locator(".portal-error-summary, .alert-danger").first.is_visible()
    step(impostor_page, "04-impostor-suspended")

    # 5. A third registration with the number is refused with the way to dispute it.
    third = new_page(**PHONE)
    register(third, name="第三人", id_number=number, mobile="13900139003", email="third@example.test", username="third")
    assert third.url.endswith("/accounts/register/")
    assert third.locator("#div_id_id_number .invalid-feedback").is_visible()
    step(third, "05-number-held")
    assert not User.objects.filter(username="third").exists()
