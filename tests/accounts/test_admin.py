"""Admin: only administrators manage users; suspension and forced resets; offices scoped; misuse reports."""

import base64
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import MisuseReport, Office, Role, User
from portal.notify.models import OutboxMessage
from tests.factories import OfficeFactory, StaffFactory, UserFactory

from .conftest import PASSWORD, last_message

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"


@pytest.fixture
def superuser(db):
    return UserFactory(is_superuser=True, is_staff=True, id_number=None)


@pytest.fixture
def administrator(db):
    return StaffFactory(role=Role.ADMINISTRATOR, office=None)


def act(client, url, action, objects):
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objects]})


def test_user_list_masks_id_and_mobile_and_searches_id_exactly(staff_client, superuser):
    citizen = UserFactory(id_number="41140219840721363X", mobile="+8613812345678")
    UserFactory()
    client = staff_client(superuser)
    html = client.get(USERS).content.decode()
    assert "4114**********363X" in html and "41140219840721363X" not in html
    assert "138****5678" in html and "13812345678" not in html
    found = client.get(USERS, {"q": "41140219840721363x"})
    assert list(found.context["cl"].result_list) == [citizen]
    assert not list(client.get(USERS, {"q": "411402198407"}).context["cl"].result_list)


def test_filters_on_suspended_staff_and_office_kind(staff_client, superuser, officer_a):
    suspended = UserFactory(suspended=True)
    client = staff_client(superuser)
    assert list(client.get(USERS, {"suspended": "yes"}).context["cl"].result_list) == [suspended]
    staff = client.get(USERS, {"is_staff__exact": "1", "office__kind": Office.Kind.POLICE_STATION})
    assert list(staff.context["cl"].result_list) == [officer_a]


def test_lift_suspension(staff_client, administrator):
    suspended, active = UserFactory(suspended=True), UserFactory()
    client = staff_client(administrator)
    response = act(client, USERS, "lift_suspension", [suspended, active])
    assert response.status_code == 302
    suspended.refresh_from_db()
    assert not suspended.is_suspended and suspended.is_active and suspended.suspension_reason == ""
    again = Client().post(reverse("accounts:login"), {"username": suspended.username, "password": PASSWORD})
    assert again.status_code == 302


def test_force_password_reset(staff_client, superuser, citizen):
    client = staff_client(superuser)
    act(client, USERS, "force_password_reset", [citizen])
    citizen.refresh_from_db()
    assert citizen.must_change_password
    message = last_message(citizen, "accounts/password_reset")
    assert message.to == citizen.email and "/accounts/password/reset/confirm/" in message.body


def test_only_administrators_manage_users(staff_client, officer_a):
    supervisor = StaffFactory(role=Role.SUPERVISOR, office=officer_a.office.parent)
    for person in (officer_a, supervisor):
        client = staff_client(person)
        assert client.get(USERS).status_code == 403
        assert client.get(f"{USERS}{person.pk}/change/").status_code == 403
        act(client, USERS, "force_password_reset", [person])
        person.refresh_from_db()
        assert not person.must_change_password


def test_administrator_cannot_edit_a_superuser_or_grant_superuser(staff_client, administrator, superuser):
    client = staff_client(administrator)
    page = client.get(f"{USERS}{superuser.pk}/change/")
    assert page.status_code == 200 and not page.context["has_change_permission"]
    response = client.post(
        f"{USERS}{superuser.pk}/change/", {"username": "renamed", "real_name": "x", "email": "x@y.z"}
    )
    assert response.status_code == 403
    target = UserFactory()
    form = client.get(f"{USERS}{target.pk}/change/").context["adminform"].form
    assert "is_superuser" not in form.fields


def test_administrator_creates_staff(staff_client, administrator, station_a):
    client = staff_client(administrator)
    response = client.post(
        f"{USERS}add/",
        {
            "username": "newofficer",
            "real_name": "新警官",
            "email": "new.officer@example.test",
            "usable_password": "true",
            "password1": "Officer-Password-2026",
            "password2": "Officer-Password-2026",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(username="newofficer").id_number is None


def test_offices_scoped_supervisor_views_subtree(staff_client, station_a):
    zhengzhou = station_a.parent
    luoyang = Office.objects.get(division_code="410300", kind=Office.Kind.CITY)
    station_b = OfficeFactory(parent=luoyang, name="老城派出所", division_code="410302")
    supervisor = StaffFactory(role=Role.SUPERVISOR, office=zhengzhou)
    below = OfficeFactory(parent=station_a, name="下属警务室")
    client = staff_client(supervisor)
    listed = set(client.get("/admin/accounts/office/").context["cl"].result_list)
    assert {zhengzhou, station_a, below} <= listed
    assert station_b not in listed and zhengzhou.parent not in listed
    assert client.get(f"/admin/accounts/office/{station_b.pk}/change/").status_code == 404
    page = client.get(f"/admin/accounts/office/{station_a.pk}/change/")
    assert page.status_code == 200 and not page.context["has_change_permission"]
    client.post(f"/admin/accounts/office/{station_a.pk}/change/", {"name": "renamed"})
    station_a.refresh_from_db()
    assert station_a.name == "金水路派出所"


def test_offices_administrator_sees_tree(staff_client, administrator, station_a):
    html = staff_client(administrator).get("/admin/accounts/office/", {"q": "410105"}).content.decode()
    assert "— — Jinshui Road Police Station" in html


def test_misuse_report_mark_handled(staff_client, administrator, citizen):
    report = MisuseReport.objects.create(user=citizen, description="not me")
    client = staff_client(administrator)
    act(client, "/admin/accounts/misusereport/", "mark_handled", [report])
    report.refresh_from_db()
    assert report.handled_by == administrator and report.handled_at is not None
    first = report.handled_at
    act(
        staff_client(UserFactory(is_superuser=True, is_staff=True)),
        "/admin/accounts/misusereport/",
        "mark_handled",
        [report],
    )
    report.refresh_from_db()
    assert report.handled_at == first and report.handled_by == administrator


def test_administrators_can_enrol_totp_devices(staff_client, administrator, officer_a):
    client = staff_client(administrator)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 200
    assert client.get("/admin/otp_totp/totpdevice/add/").status_code == 200
    assert staff_client(officer_a).get("/admin/otp_totp/totpdevice/").status_code == 403


def test_create_staff_totp_command_prints_a_one_time_link_and_never_the_secret(officer_a, client):
    out = io.StringIO()
    call_command("create_staff_totp", officer_a.username.upper(), stdout=out)
    text = out.getvalue()
    device = TOTPDevice.objects.get(user=officer_a)
    assert not device.confirmed  # usable only once the member has proved the app shows the right codes
    assert "otpauth://" not in text and device.key not in text
    assert base64.b32encode(device.bin_key).decode().rstrip("=") not in text
    link = re.search(rf"^enrol {officer_a.username}: https?://[^/\s]+(/admin/totp-enrol/[^/\s]+/)$", text, re.M)
    path = link.group(1)
    page = client.get(path)
    assert page.status_code == 200 and 'src="data:image/svg+xml' in page.content.decode()
    assert client.post(path, {"otp_token": f"{totp(device.bin_key):06d}"}).status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(path).status_code == 404  # used once, dead

    # A confirmed authenticator is kept unless --replace says the phone is lost; an unused link is simply renewed.
    with pytest.raises(CommandError, match="already has an authenticator"):
        call_command("create_staff_totp", officer_a.username, stdout=io.StringIO())
    call_command("create_staff_totp", officer_a.username, "--replace", stdout=io.StringIO())
    first = TOTPDevice.objects.get(user=officer_a)
    assert not first.confirmed
    out = io.StringIO()
    call_command("create_staff_totp", officer_a.username, stdout=out)
    assert TOTPDevice.objects.filter(user=officer_a).get().pk != first.pk  # the earlier link died with its device
    assert "enrol " in out.getvalue()


def test_create_staff_totp_refuses_citizens(citizen):
    with pytest.raises(CommandError):
        call_command("create_staff_totp", citizen.username, stdout=io.StringIO())
    assert not OutboxMessage.objects.exists() and not TOTPDevice.objects.exists()


def test_user_list_query_count_does_not_grow_with_rows(
    staff_client, superuser, station_a, django_assert_max_num_queries
):
    client = staff_client(superuser)
    for _ in range(3):
        StaffFactory(office=station_a)
    client.get(USERS)
    with django_assert_max_num_queries(12) as small:
        client.get(USERS)
    for _ in range(20):
        StaffFactory(office=OfficeFactory())
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(USERS)
