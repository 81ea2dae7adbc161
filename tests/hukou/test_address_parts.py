"""Hukou's addresses in parts (accounts.address): province → city → district from the GB/T 2260 codes, then the street
and the rest; validated; "Update the lists" without JavaScript; the one-line text kept for every page; drafts keep the
parts typed, valid or not; an address typed before the parts opens as the detail part."""

import re

import pytest
from django.urls import reverse

from accounts.address import UPDATE
from hukou.models import MigrationApplication
from tests.hukou.pages import address_data, citizen_offices, destination, errors_of, post, start, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def offices(db):
    return citizen_offices()


def options(page, name):
    """The codes the select `name` offers (its empty choice left out)."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.findall(r'<option value="(\d+)"', select)


def selected(page, name):
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    found = re.search(r'<option value="(\d*)" selected', select)
    return found.group(1) if found else ""


def test_the_address_is_saved_in_parts_and_as_one_line(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    data = destination(offices, destination_address=None)
    data.update(
        address_data("destination_address", "经八路12号院3号楼", ("410000", "410100", "410105"), street="花园路街道")
    )
    assert post(client, url("", application, "destination"), data).status_code == 302
    application.refresh_from_db()
    assert application.destination_address == "河南省郑州市金水区花园路街道经八路12号院3号楼"
    assert (application.destination_province, application.destination_city, application.destination_district) == (
        "410000",
        "410100",
        "410105",
    )
    assert (application.destination_street, application.destination_detail) == ("花园路街道", "经八路12号院3号楼")
    # The page opens on the parts saved: Henan's cities and Zhengzhou's districts, each chosen.
    page = client.get(url("", application, "destination")).content.decode()
    assert selected(page, "destination_address_city") == "410100" and "410300" in options(
        page, "destination_address_city"
    )
    assert selected(page, "destination_address_district") == "410105"
    assert "410302" not in options(page, "destination_address_district")  # Luoyang's 老城区 is not in Zhengzhou


def test_any_province_is_valid_and_a_city_outside_its_province_is_refused(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    beijing = address_data(
        "destination_address", "东华门大街1号", ("110000", "110101", "")
    )  # a municipality's district
    assert post(client, url("", application, "destination"), destination(offices, **beijing)).status_code == 302
    application.refresh_from_db()
    assert application.destination_address == "北京市东城区东华门大街1号"
    page = client.get(url("", application, "destination")).content.decode()
    assert re.search(r"data-address-district-row hidden", page)  # 东城区 has no districts below it: no list shown

    for parts in (("110000", "410100", "410105"), ("410000", "410100", "410302")):
        wrong = address_data("destination_address", "经八路12号", parts)
        response = post(client, url("", application, "destination"), destination(offices, **wrong))
        assert response.status_code == 400
        assert "The city or district chosen does not lie in the province or city chosen" in errors_of(response)
    missing = address_data("destination_address", "经八路12号", ("410000", "410100", ""))
    response = post(client, url("", application, "destination"), destination(offices, **missing))
    assert "Choose the district or county." in errors_of(response)


def test_update_the_lists_without_javascript_keeps_everything_and_reports_nothing_missing(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    data = {"category": "part_household", "office": offices["move_in"].pk, "destination_address_province": "410000"}
    data["destination_address_city"] = "410300"
    data["destination_address_detail"] = "西关街8号"
    response = client.post(url("", application, "destination"), {**data, UPDATE: "destination_address"})
    page = response.content.decode()
    assert errors_of(response) == "" and "is-invalid" not in page
    assert options(page, "destination_address_district")[:2] == ["410302", "410303"]  # Luoyang's districts now
    assert 'value="西关街8号"' in page
    assert re.search(r'<select name="destination_address_district"[^>]*autofocus', page)
    application.refresh_from_db()
    assert application.destination_address == ""  # nothing saved: the citizen goes on choosing


def test_a_draft_keeps_a_wrong_address_as_typed(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    wrong = address_data("destination_address", "大学路8号", ("410000", "410100", "410302"))
    response = post(client, url("", application, "destination"), destination(offices, **wrong), action="leave")
    assert response.status_code == 302
    application.refresh_from_db()
    kept = application.kept_inputs["destination"]["data"]
    assert kept["destination_address_district"] == ["410302"] and kept["destination_address_detail"] == ["大学路8号"]
    assert UPDATE not in kept
    page = client.get(url("", application, "destination")).content.decode()
    assert 'value="大学路8号"' in page and selected(page, "destination_address_city") == "410100"


def test_an_address_typed_before_the_parts_opens_as_the_detail(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    MigrationApplication.objects.filter(pk=application.pk).update(destination_address="郑州市二七路9号")
    page = client.get(url("", application, "destination")).content.decode()
    assert 'value="郑州市二七路9号"' in page
    assert selected(page, "destination_address_province") == "410000"  # Henan first


def test_the_divisions_below_a_code(client):
    answer = client.get(reverse("accounts:divisions", args=["410300"])).json()["children"]
    assert {
        "code": "410302",
        "name": "Laocheng District",
    } in answer  # the page's language and all(c["code"].startswith("4103") for c in answer)
    assert client.get(reverse("accounts:divisions", args=["999999"])).status_code == 404


def test_the_data_migration_keeps_old_addresses_as_the_detail_part(offices):
    import importlib

    from django.apps import apps

    from tests.factories import MigrationApplicationFactory

    migration = importlib.import_module("hukou.migrations.0008_address_in_parts")
    old = MigrationApplicationFactory(offices=offices)
    MigrationApplication.objects.filter(pk=old.pk).update(
        origin_address="洛阳市老城区西大街1号", destination_address="郑州市金水区金水路2号", destination_detail=""
    )
    blank = MigrationApplicationFactory(offices=offices, origin_address="", destination_address="")

    migration.old_text_as_detail(apps, None)

    old.refresh_from_db()
    blank.refresh_from_db()
    assert (old.origin_detail, old.destination_detail) == ("洛阳市老城区西大街1号", "郑州市金水区金水路2号")
    assert old.destination_address == "郑州市金水区金水路2号"  # the one-line text unchanged
    assert (blank.origin_detail, blank.destination_detail) == ("", "")


def test_submission_waits_for_every_part_of_the_address(client, offices, applicant):
    from hukou import drafts

    client.force_login(applicant)
    application = start(client, offices)
    partial = address_data("destination_address", "二七路8号", ("410000", "410100", ""))
    post(client, url("", application, "destination"), destination(offices, **partial), action="leave")
    application.refresh_from_db()
    missing = [
        message for section, message in drafts.hukou_missing(application=application) if section == "destination"
    ]
    assert "Complete the address you move to: its city, district or county and road." in missing
    full = address_data("destination_address", "二七路8号", ("410000", "410100", "410103"))
    post(client, url("", application, "destination"), destination(offices, **full), action="leave")
    application.refresh_from_db()
    missing = [
        message for section, message in drafts.hukou_missing(application=application) if section == "destination"
    ]
    assert not any("address" in message for message in missing)
