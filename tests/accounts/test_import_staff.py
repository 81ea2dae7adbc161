"""manage.py import_staff: staff by office code and role, all or nothing, with one-time authenticator links."""

import base64
import csv
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import totp_enrol
from accounts.models import User
from accounts.office_import import ImportFailed
from accounts.staff_import import COLUMNS, import_staff
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LINK = re.compile(r"^enrol (\S+): http://testserver(/admin/totp-enrol/[^/\s]+/)$", re.M)


def member(**extra):
    return {
        "office_code": "ps-410100",
        "role": "police_officer",
        "username": "li_jing",
        "real_name": "李静",
        "email": "li.jing@police.example.test",
        "mobile": "13912345678",
        **extra,
    }


def write_csv(path, rows, columns=COLUMNS):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in columns})
    return path


def run(path, *args):
    out = StringIO()
    call_command("import_staff", str(path), *args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "http://testserver"


def staff_rows():
    return [
        member(),
        member(office_code="hc-410300", role="family_planning_officer", username="zhao_min", real_name="赵敏",
               email="zhao.min@health.example.test", mobile="+8613912345679"),
    ]  # fmt: skip


def enrol(client, path):
    """Scan the page's QR code (read the device it names) and enter the current code."""
    page = client.get(path)
    assert page.status_code == 200 and 'src="data:image/svg+xml' in page.content.decode()
    device = TOTPDevice.objects.get(user__username=LINK_USER[path])
    return client.post(path, {"otp_token": f"{totp(device.bin_key):06d}"})


LINK_USER: dict[str, str] = {}


def links(output):
    found = dict(LINK.findall(output))
    LINK_USER.update({path: username for username, path in found.items()})
    return found


def test_create_enrol_and_idempotence(tmp_path, client):
    path = write_csv(tmp_path / "staff.csv", staff_rows())
    output = run(path)
    assert output.startswith("staff created 2, updated 0, unchanged 0\n")
    li = User.objects.get(username="li_jing")
    assert li.is_staff and not li.has_usable_password() and li.office.code == "ps-410100"
    assert list(li.groups.values_list("name", flat=True)) == ["police_officer"]
    assert li.mobile == "+8613912345678"
    assert User.objects.get(username="zhao_min").has_role("family_planning_officer")
    found = links(output)
    assert set(found) == {"li_jing", "zhao_min"}
    # The secret never reaches the terminal.
    for device in TOTPDevice.objects.all():
        assert not device.confirmed
        assert base64.b32encode(device.bin_key).decode().rstrip("=") not in output
        assert device.key not in output

    # A wrong code keeps the device unconfirmed and the page open; the right one confirms it and kills the link.
    right = totp(TOTPDevice.objects.get(user=li).bin_key)
    wrong = client.post(found["li_jing"], {"otp_token": f"{(right + 1) % 1000000:06d}"})
    assert "That code is not right" in wrong.content.decode()
    assert "Too many wrong codes" in client.post(found["li_jing"], {"otp_token": f"{right:06d}"}).content.decode()
    assert not TOTPDevice.objects.get(user=li).confirmed
    TOTPDevice.objects.filter(user=li).update(throttling_failure_count=0)  # the wait is over
    assert enrol(client, found["li_jing"]).status_code == 200
    assert TOTPDevice.objects.get(user=li).confirmed
    assert client.get(found["li_jing"]).status_code == 404

    # Second run: nothing changes, and only the member who has not enrolled yet gets a (new) link.
    output = run(path)
    assert output.startswith("staff created 0, updated 0, unchanged 2\n")
    assert set(links(output)) == {"zhao_min"}
    assert client.get(found["zhao_min"]).status_code == 404  # the earlier link died with the earlier key


def test_update_moves_office_and_role(tmp_path):
    path = write_csv(tmp_path / "staff.csv", [member()])
    run(path)
    write_csv(path, [member(office_code="ps-410300", role="supervisor", real_name="李静怡")])
    assert run(path).startswith("staff created 0, updated 1, unchanged 0\n")
    li = User.objects.get(username="li_jing")
    assert (li.office.code, li.real_name) == ("ps-410300", "李静怡")
    assert list(li.groups.values_list("name", flat=True)) == ["supervisor"]


def test_reenrol_replaces_a_confirmed_device(tmp_path):
    path = write_csv(tmp_path / "staff.csv", [member()])
    run(path)
    TOTPDevice.objects.filter(user__username="li_jing").update(confirmed=True)
    assert not links(run(path))
    assert set(links(run(path, "--reenrol"))) == {"li_jing"}
    assert not TOTPDevice.objects.get(user__username="li_jing").confirmed


def test_dry_run_writes_nothing(tmp_path):
    path = write_csv(tmp_path / "staff.csv", staff_rows())
    assert run(path, "--dry-run") == "dry run, nothing written: staff created 2, updated 0, unchanged 0\n"
    assert not User.objects.filter(username__in=["li_jing", "zhao_min"]).exists()
    assert not TOTPDevice.objects.exists()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (member(office_code="ps-999999"), "line 3: unknown office 'ps-999999'"),
        (member(role="chief"), "line 3: unknown role 'chief'"),
        (member(office_code="hc-410100"), "line 3: a member with the role police_officer must belong to an office"),
        (member(email="not-an-address"), "line 3: email: "),
        (member(email=""), "line 3: email: an e-mail address is required"),
        (member(mobile="0371-12345678"), "line 3: mobile: "),
        (member(real_name=""), "line 3: real_name: "),
        (member(username="zhao_min"), "line 3: the username zhao_min is already on line 2"),
        (member(username="citizen1"), "line 3: citizen1 is a citizen's account"),
    ],
)
def test_bad_rows_are_reported_and_nothing_is_written(tmp_path, row, message):
    UserFactory(username="citizen1")
    path = write_csv(tmp_path / "staff.csv", [staff_rows()[1], row])
    with pytest.raises(ImportFailed) as failed:
        import_staff(path=path)
    assert any(error.startswith(message) for error in failed.value.errors), failed.value.errors
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_staff", str(path), stdout=StringIO(), stderr=err)
    assert message in err.getvalue()
    assert not User.objects.filter(is_staff=True).exists()
    assert not TOTPDevice.objects.exists()


def test_missing_columns(tmp_path):
    path = write_csv(tmp_path / "staff.csv", [member()], columns=("office_code", "role", "username"))
    with pytest.raises(ImportFailed, match="line 1: missing columns: real_name, email, mobile"):
        import_staff(path=path)


def test_expired_forged_and_non_staff_links_do_not_work(tmp_path, client, monkeypatch):
    path = write_csv(tmp_path / "staff.csv", [member()])
    link = links(run(path))["li_jing"]
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert client.get(link).status_code == 200
    assert client.get(link.replace(token, token[:-2] + "xx")).status_code == 404
    monkeypatch.setattr(totp_enrol, "MAX_AGE_SECONDS", -1)
    assert client.get(link).status_code == 404
    monkeypatch.undo()
    User.objects.filter(username="li_jing").update(is_staff=False)
    response = client.get(link)
    assert response.status_code == 404 and "does not work" in response.content.decode()
