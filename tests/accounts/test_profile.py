"""The profile: masked identity, contact changes with the password, misuse reports, the data download."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import MisuseReport, Role, User
from portal.notify.models import OutboxMessage
from portal.notify.services import queue_message
from tests.factories import SampleCaseFactory, StaffFactory, UserFactory

from .conftest import PASSWORD, last_message, link_path, sms_code

pytestmark = pytest.mark.django_db


def contact(user, **changes):
    data = {"email": user.email, "mobile": "", "language": user.language, "current_password": ""}
    data.update(changes)
    return data


def test_profile_shows_masked_identity_and_derived_data(client):
    user = UserFactory(id_number="41140219840721363X", mobile="+8613812345678", real_name="张明")
    client.force_login(user)
    html = client.get(reverse("accounts:profile")).content.decode()
    assert "4114**********363X" in html and "41140219840721363X" not in html
    assert "138****5678" in html and "13812345678" not in html
    assert "张明" in html and "Male" in html and "1984-07-21" in html


def test_changing_email_needs_the_password_and_restarts_confirmation(client, citizen):
    client.force_login(citizen)
    old_email = citizen.email
    response = client.post(reverse("accounts:profile"), contact(citizen, email="new@example.test"))
    assert response.status_code == 200 and "current_password" in response.context["form"].errors
    assert 'value="new@example.test"' in response.content.decode()
    response = client.post(
        reverse("accounts:profile"), contact(citizen, email="new@example.test", current_password="wrong")
    )
    assert "current_password" in response.context["form"].errors
    citizen.refresh_from_db()
    assert citizen.email == old_email and citizen.email_confirmed_at is not None

    response = client.post(
        reverse("accounts:profile"), contact(citizen, email="new@example.test", current_password=PASSWORD)
    )
    assert response.status_code == 302
    citizen.refresh_from_db()
    assert citizen.email == "new@example.test" and citizen.email_confirmed_at is None
    assert citizen.mobile_confirmed_at is not None and not citizen.contact_confirmed
    link = last_message(citizen, "accounts/confirm_email")
    assert link.to == "new@example.test"
    assert last_message(citizen, "accounts/email_changed").to == old_email
    assert client.post(link_path(link)).status_code == 200
    citizen.refresh_from_db()
    assert citizen.email_confirmed_at is not None


def test_changing_mobile_needs_the_password_and_sends_a_code(client, citizen):
    client.force_login(citizen)
    response = client.post(
        reverse("accounts:profile"), contact(citizen, mobile="139 0000 1234", current_password=PASSWORD)
    )
    assert response["Location"] == reverse("accounts:confirm_mobile")
    citizen.refresh_from_db()
    assert citizen.mobile == "+8613900001234" and citizen.mobile_confirmed_at is None
    assert last_message(citizen, "accounts/mobile_code").to == "+8613900001234"
    client.post(reverse("accounts:confirm_mobile"), {"code": sms_code(citizen)})
    citizen.refresh_from_db()
    assert citizen.mobile_confirmed_at is not None


def test_language_alone_needs_no_password(client, citizen):
    client.force_login(citizen)
    response = client.post(reverse("accounts:profile"), contact(citizen, language="en"))
    assert response.status_code == 302
    citizen.refresh_from_db()
    assert citizen.language == "en" and citizen.contact_confirmed


def test_email_of_another_account_is_refused_case_insensitively(client, citizen):
    UserFactory(email="taken@example.test")
    client.force_login(citizen)
    response = client.post(
        reverse("accounts:profile"), contact(citizen, email="TAKEN@example.test", current_password=PASSWORD)
    )
    assert "email" in response.context["form"].errors


def test_report_misuse_suspends_logs_out_records_and_tells_administrators(client, citizen):
    administrator = StaffFactory(role=Role.ADMINISTRATOR, office=None)
    superuser = UserFactory(is_superuser=True, is_staff=True)
    officer = StaffFactory()
    elsewhere = Client()
    elsewhere.force_login(citizen)
    client.force_login(citizen)
    response = client.post(reverse("accounts:report_misuse"), {"description": "A case I never filed."})
    assert response.status_code == 200 and "suspended" in response.content.decode()
    assert "_auth_user_id" not in client.session
    citizen.refresh_from_db()
    assert citizen.is_suspended and not citizen.is_active
    report = MisuseReport.objects.get(user=citizen)
    assert report.description == "A case I never filed." and report.handled_at is None
    alerted = set(OutboxMessage.objects.filter(template="accounts/misuse_reported").values_list("to", flat=True))
    assert alerted == {administrator.email, superuser.email}
    assert officer.email not in alerted
    assert last_message(citizen, "accounts/account_suspended").to == citizen.email
    # Every other session ends too, and stays ended when the suspension is lifted (the password was replaced).
    assert elsewhere.get(reverse("accounts:profile")).status_code == 302
    citizen.lift_suspension()
    assert elsewhere.get(reverse("accounts:profile")).status_code == 302
    assert (
        Client().post(reverse("accounts:login"), {"username": citizen.username, "password": PASSWORD}).status_code
        == 200
    )


def test_empty_misuse_report_is_refused(client, citizen):
    client.force_login(citizen)
    response = client.post(reverse("accounts:report_misuse"), {"description": ""})
    assert response.status_code == 400
    citizen.refresh_from_db()
    assert citizen.is_active and not MisuseReport.objects.exists()


# --- my data --------------------------------------------------------------------------------------------


def test_my_data_needs_the_password_and_post(client, citizen):
    client.force_login(citizen)
    page = client.get(reverse("accounts:my_data"))
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert citizen.id_number not in page.content.decode()
    wrong = client.post(reverse("accounts:my_data"), {"password": "wrong"})
    assert wrong["Content-Type"].startswith("text/html") and "password" in wrong.context["form"].errors


def test_my_data_contains_mine_and_nobody_elses(client, citizen, other_citizen, station_a):
    mine = SampleCaseFactory(applicant=citizen, office=station_a)
    theirs = SampleCaseFactory(applicant=other_citizen, office=station_a, status="draft")
    queue_message(channel="email", to=citizen.email, subject="Your case", body="Hello me", user=citizen)
    queue_message(channel="email", to=other_citizen.email, subject="Their case", body="Hello them", user=other_citizen)
    MisuseReport.objects.create(user=other_citizen, description="their report")
    MisuseReport.objects.create(user=citizen, description="my old report")
    client.force_login(citizen)
    response = client.post(reverse("accounts:my_data"), {"password": PASSWORD})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    raw = response.content.decode()
    data = json.loads(raw)
    assert data["profile"]["id_number"] == citizen.id_number  # in full: it is their own data
    assert data["profile"]["mobile"] == citizen.mobile and data["profile"]["email"] == citizen.email
    assert data["confirmations"]["email_confirmed_at"]
    assert [m["subject"] for m in data["messages"]] == ["Your case"]
    assert [r["description"] for r in data["misuse_reports"]] == ["my old report"]
    assert [c["case_number"] for c in data["cases"]] == [mine.case_number]
    for foreign in (
        other_citizen.id_number,
        other_citizen.email,
        other_citizen.mobile,
        theirs.case_number,
        "their report",
        "Hello them",
    ):
        assert foreign not in raw


def test_my_data_withholds_live_one_time_links(client):
    user = UserFactory(unconfirmed=True)
    from accounts import services

    services.email_confirmation_send(user=user)
    link = link_path(last_message(user, "accounts/confirm_email"))
    client.force_login(user)
    raw = client.post(reverse("accounts:my_data"), {"password": PASSWORD}).content.decode()
    assert link not in raw and "withheld" in raw


def test_my_data_needs_login(client):
    assert client.post(reverse("accounts:my_data"), {"password": PASSWORD}).status_code == 302


def test_profile_pages_need_login(client):
    for name in ("profile", "my_data", "confirm_mobile", "password_change"):
        response = client.get(reverse(f"accounts:{name}"))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert User.objects.count() == 0
