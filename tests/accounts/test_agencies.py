"""Every office belongs to an agency and every service names the agency that handles it; the two trees mirror
reality and never mix (docs/architecture.md#security-and-privacy)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from accounts.models import Office, User
from portal import registry

POLICE, HEALTH = Office.Agency.PUBLIC_SECURITY, Office.Agency.HEALTH_COMMISSION


def test_every_service_names_the_agency_that_handles_it():
    agencies = {service.key: service.agency for service in registry.services() if service.key != "testapp"}
    assert agencies == {"certificates": POLICE, "hukou": POLICE, "familyplanning": HEALTH}


@pytest.mark.django_db
def test_each_agency_has_its_own_tree_from_the_province_down():
    police_province = Office.objects.get(kind=Office.Kind.PROVINCE, agency=POLICE)
    health_province = Office.objects.get(kind=Office.Kind.PROVINCE, agency=HEALTH)
    assert (police_province.name, health_province.name) == ("河南省公安厅", "河南省卫生健康委员会")
    assert police_province.parent is None and health_province.parent is None
    commissions = Office.objects.filter(kind=Office.Kind.CITY_HEALTH_COMMISSION)
    assert commissions.count() == Office.objects.filter(kind=Office.Kind.CITY).count() == 18
    zhengzhou = commissions.get(division_code="410100")
    assert zhengzhou.name == "郑州市卫生健康委员会" and zhengzhou.parent == health_province
    assert zhengzhou.path == f"{health_province.path}{zhengzhou.pk}/"
    for office in Office.objects.select_related("parent"):
        assert office.parent is None or office.parent.agency == office.agency, office


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_family_planning_offices_out_of_the_police_tree():
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0008_administrators_read_the_outbox")])
    apps = executor.loader.project_state([("accounts", "0008_administrators_read_the_outbox")]).apps
    OldOffice = apps.get_model("accounts", "Office")
    zhengzhou = OldOffice.objects.get(kind="city", division_code="410100")
    branch = OldOffice.objects.create(
        name="郑州市公安局金水分局", kind="county", division_code="410105", parent=zhengzhou
    )
    branch.path = f"{zhengzhou.path}{branch.pk}/"
    branch.save()
    # As the demo had it: the district health commission under a police branch, and one in Jiyuan under the city.
    jinshui = OldOffice.objects.create(name="金水区卫生健康委员会", kind="family_planning", division_code="410105")
    jinshui.parent, jinshui.path = branch, f"{branch.path}{jinshui.pk}/"
    jinshui.save()
    jiyuan_city = OldOffice.objects.get(kind="city", division_code="419001")
    jiyuan = OldOffice.objects.create(name="济源示范区卫生健康委员会", kind="family_planning", division_code="419001")
    jiyuan.parent, jiyuan.path = jiyuan_city, f"{jiyuan_city.path}{jiyuan.pk}/"
    jiyuan.save()

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = Office.objects.get(pk=jinshui.pk)
    commission = Office.objects.get(kind=Office.Kind.CITY_HEALTH_COMMISSION, division_code="410100")
    assert (moved.agency, moved.parent) == (HEALTH, commission)
    assert moved.path == f"{commission.path}{moved.pk}/"
    assert Office.objects.get(pk=jiyuan.pk).parent.name == "济源市卫生健康委员会"
    assert Office.objects.get(pk=branch.pk).agency == POLICE
    assert not Office.objects.filter(agency=HEALTH, path__startswith=Office.objects.get(pk=zhengzhou.pk).path).exists()


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_the_demo_tree_mirrors_reality_and_repairs_an_old_demo_database():
    call_command("load_demo", stdout=io.StringIO())
    district = Office.objects.get(name="金水区卫生健康委员会")
    assert district.parent.name == "郑州市卫生健康委员会" and district.parent.parent.name == "河南省卫生健康委员会"
    station = Office.objects.get(name="经八路派出所")
    assert [station.parent.name, station.parent.parent.name, station.parent.parent.parent.name] == [
        "郑州市公安局金水分局",
        "郑州市公安局",
        "河南省公安厅",
    ]
    assert User.objects.get(username="supervisor_zz").office.agency == POLICE
    assert User.objects.get(username="supervisor_hc").office == district.parent
    assert User.objects.get(username="fp_officer").office == district

    # A demo database from before: the district commission under the police branch. Loading again repairs it.
    branch = station.parent
    Office.objects.filter(pk=district.pk).update(parent=branch, path=f"{branch.path}{district.pk}/")
    call_command("load_demo", stdout=io.StringIO())
    district.refresh_from_db()
    assert district.parent.name == "郑州市卫生健康委员会"
    assert district.path == f"{district.parent.path}{district.pk}/"
