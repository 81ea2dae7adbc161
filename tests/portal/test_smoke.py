import pytest


@pytest.mark.django_db
def test_cities_loaded_by_migration():
    from accounts.models import Office

    assert Office.objects.filter(kind=Office.Kind.CITY).count() == 18
    jiyuan = Office.objects.get(division_code="419001", kind=Office.Kind.CITY)
    assert jiyuan.parent.division_code == "410000"
    assert jiyuan.path == f"{jiyuan.parent.path}{jiyuan.pk}/"


def test_factory_id_numbers_are_valid():
    from accounts.idnumber import parse
    from tests.factories import make_id_number

    for _ in range(200):
        parse(make_id_number())
