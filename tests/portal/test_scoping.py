"""Staff see only their office's objects through every admin path (docs/architecture.md#security-and-privacy)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import Office
from accounts.scoping import safe_csv_cell, scoped_office_ids
from portal.cases import services
from tests.factories import OfficeFactory, StaffFactory, UserFactory
from tests.testapp.models import SampleCase

pytestmark = pytest.mark.django_db


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="testapp", codename__in=codenames))


@pytest.fixture
def cases(station_a, station_b):
    def make(office):
        return SampleCase.objects.create(
            case_number=services.next_case_number("TST"), applicant=UserFactory(), office=office, status="submitted"
        )

    return make(station_a), make(station_b)


@pytest.fixture
def client_a(client, officer_a, no_mfa):
    grant(officer_a, "view_samplecase", "change_samplecase", "delete_samplecase")
    client.force_login(officer_a)
    return client


def url(name, *args):
    return reverse(f"admin:testapp_samplecase_{name}", args=args)


def test_changelist_lists_only_own_office(client_a, cases):
    mine, theirs = cases
    html = client_a.get(url("changelist")).content.decode()
    assert mine.case_number in html and theirs.case_number not in html


@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_other_office_object_pages_are_404(client_a, cases, view):
    mine, theirs = cases
    assert client_a.get(url(view, mine.pk)).status_code == 200
    assert client_a.get(url(view, theirs.pk)).status_code == 404
    assert client_a.get(url(view, 999999)).status_code == 404  # nonexistent looks the same


def test_post_to_other_office_change_page_is_404_and_changes_nothing(client_a, cases):
    _, theirs = cases
    response = client_a.post(url("change", theirs.pk), {"reason": "hacked", "office": theirs.office_id})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.reason == ""


def test_actions_never_reach_other_offices(client_a, cases):
    mine, theirs = cases
    client_a.post(url("changelist"), {"action": "approve", "_selected_action": [mine.pk, theirs.pk]})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == "approved"
    assert theirs.status == "submitted"


def test_export_contains_only_own_office_and_is_formula_safe(client_a, cases):
    mine, theirs = cases
    SampleCase.objects.filter(pk=mine.pk).update(reason='=HYPERLINK("http://evil")')
    response = client_a.post(url("changelist"), {"action": "export_csv", "_selected_action": [mine.pk, theirs.pk]})
    body = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert mine.case_number in body and theirs.case_number not in body
    assert "'=HYPERLINK" in body


def test_raw_id_popup_is_scoped(client_a, cases):
    mine, theirs = cases
    html = client_a.get(url("changelist") + "?_popup=1&_to_field=id").content.decode()
    assert mine.case_number in html and theirs.case_number not in html


def test_autocomplete_of_offices_is_scoped(client_a, officer_a, station_a, station_b):
    officer_a.user_permissions.add(Permission.objects.get(content_type__app_label="accounts", codename="view_office"))
    response = client_a.get(
        reverse("admin:autocomplete"),
        {"app_label": "testapp", "model_name": "samplecase", "field_name": "office", "term": ""},
    )
    assert response.status_code == 200
    ids = {int(r["id"]) for r in response.json()["results"]}
    assert station_a.pk in ids and station_b.pk not in ids


def test_supervisor_sees_offices_below_and_not_beside(station_a, station_b):
    zhengzhou = station_a.parent
    supervisor = StaffFactory(office=zhengzhou, role="supervisor")
    ids = scoped_office_ids(supervisor, service=SampleCase)
    assert station_a.pk in ids and zhengzhou.pk in ids
    luoyang_station = OfficeFactory(parent=Office.objects.get(division_code="410300", kind="city"))
    assert luoyang_station.pk not in ids


def test_moving_an_officer_takes_effect_on_the_next_request(client_a, officer_a, station_b, cases):
    mine, theirs = cases
    officer_a.office = station_b
    officer_a.save()
    assert client_a.get(url("change", theirs.pk)).status_code == 200
    assert client_a.get(url("change", mine.pk)).status_code == 404


def test_deactivated_staff_loses_admin_on_the_next_request(client_a, officer_a, cases):
    officer_a.is_active = False
    officer_a.save()
    response = client_a.get(url("changelist"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_staff_without_office_sees_nothing(client, no_mfa, cases):
    nobody = StaffFactory(office=None)
    grant(nobody, "view_samplecase")
    client.force_login(nobody)
    html = client.get(url("changelist")).content.decode()
    assert all(c.case_number not in html for c in cases)


@pytest.mark.parametrize(
    "raw,expected", [("=1+1", "'=1+1"), ("+86", "'+86"), ("-2", "'-2"), ("@SUM", "'@SUM"), ("张三", "张三"), (None, "")]
)
def test_safe_csv_cell(raw, expected):
    assert safe_csv_cell(raw) == expected
