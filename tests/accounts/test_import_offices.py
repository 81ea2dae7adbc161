"""manage.py import_offices: the office tree from a CSV or JSON file, matched by code, all or nothing."""

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts.models import Office
from accounts.office_import import COLUMNS, ImportFailed, import_offices

pytestmark = pytest.mark.django_db
SAMPLE = Path(settings.BASE_DIR) / "accounts" / "data" / "henan_offices.csv"


def write_csv(path, rows, columns=COLUMNS):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in columns})
    return path


def snapshot():
    return sorted(Office.objects.values_list("code", "parent__code", "agency", "kind", "division_code", "name", "path"))


def station(code="station-410105", parent="ps-410100", **extra):
    return {
        "code": code,
        "parent_code": parent,
        "kind": "police_station",
        "division_code": "410105",
        "name": "经八路派出所",
        "name_en": "Jingba Road Police Station",
        **extra,
    }


def run(path, *args):
    out = StringIO()
    call_command("import_offices", str(path), *args, stdout=out)
    return out.getvalue()


def test_the_migrations_give_the_sample_codes():
    assert Office.objects.get(code="ps-410000").name == "河南省公安厅"
    assert Office.objects.get(code="hc-410000").agency == Office.Agency.HEALTH_COMMISSION
    assert Office.objects.get(code="ps-419001").name == "济源市公安局"
    assert Office.objects.get(code="hc-411700").kind == Office.Kind.CITY_HEALTH_COMMISSION


def test_the_henan_sample_onto_a_migrated_database_adds_the_household_administrations_only():
    before = Office.objects.count()
    assert run(SAMPLE) == "offices created 18, updated 0, unchanged 38\n"
    assert Office.objects.count() == before + 18
    hukou = Office.objects.get(code="hukou-410300")
    assert (hukou.kind, hukou.parent.code, hukou.name) == ("household_admin", "ps-410300", "洛阳市公安局户政管理处")
    assert hukou.path == f"{hukou.parent.path}{hukou.pk}/"
    assert run(SAMPLE) == "offices created 0, updated 0, unchanged 56\n"


def test_the_henan_sample_builds_the_whole_tree_in_an_empty_database():
    for office in sorted(Office.objects.all(), key=lambda o: -len(o.path)):
        office.delete()
    assert run(SAMPLE) == "offices created 56, updated 0, unchanged 0\n"
    police = Office.objects.get(code="ps-410000")
    health = Office.objects.get(code="hc-410000")
    assert police.subtree().count() == 1 + 18 * 2
    assert health.subtree().count() == 1 + 18
    assert not police.subtree().exclude(agency=Office.Agency.PUBLIC_SECURITY).exists()
    assert Office.objects.get(code="hukou-411000").ancestors().filter(pk=police.pk).exists()
    assert Office.objects.get(code="hc-410500").parent == health


def test_create_update_and_idempotence(tmp_path):
    # The child comes before its parent in the file.
    rows = [
        station(parent="county-410105"),
        {"code": "county-410105", "parent_code": "ps-410100", "kind": "county", "division_code": "410105",
         "name": "郑州市公安局金水分局", "hours": "9:00-17:00", "phone": "0371-12345678"},
    ]  # fmt: skip
    path = write_csv(tmp_path / "offices.csv", rows)
    assert run(path) == "offices created 2, updated 0, unchanged 0\n"
    county = Office.objects.get(code="county-410105")
    assert (county.agency, county.opening_hours, county.phone) == ("public_security", "9:00-17:00", "0371-12345678")
    stop = Office.objects.get(code="station-410105")
    assert stop.parent == county and stop.path == f"{county.path}{stop.pk}/"
    assert run(path) == "offices created 0, updated 0, unchanged 2\n"

    # Renaming the station and hanging the county elsewhere updates them (and the station's path follows).
    rows[0]["name"] = "经八路派出所（新址）"
    rows[1]["parent_code"] = "ps-410000"
    write_csv(path, rows)
    assert run(path) == "offices created 0, updated 2, unchanged 0\n"
    stop.refresh_from_db()
    county.refresh_from_db()
    assert stop.name == "经八路派出所（新址）"
    assert county.parent.code == "ps-410000" and stop.path == f"{county.path}{stop.pk}/"


def test_json_files(tmp_path):
    path = tmp_path / "offices.json"
    path.write_text(json.dumps([{**station(), "agency": None}], ensure_ascii=False), encoding="utf-8")
    assert run(path) == "offices created 1, updated 0, unchanged 0\n"
    assert Office.objects.get(code="station-410105").agency == Office.Agency.PUBLIC_SECURITY


def test_dry_run_counts_and_writes_nothing(tmp_path):
    path = write_csv(tmp_path / "offices.csv", [station()])
    before = snapshot()
    assert run(path, "--dry-run") == "dry run, nothing written: offices created 1, updated 0, unchanged 0\n"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([station(parent="ps-999999")], "line 3: unknown parent office ps-999999"),
        (
            [station(code="a", parent="b"), station(code="b", parent="a")],
            "line 3: the parent offices form a cycle: a → b → a",
        ),
        ([station(parent="hc-410100")], "line 3: an office of public_security cannot be below hc-410100"),
        ([station(agency="health_commission")], "line 3: an office of kind police_station belongs to public_security"),
        ([station(division_code="41010")], "line 3: the division code '41010' is not six digits"),
        ([station(division_code="410205")], "line 3: the division code 410205 does not lie within 410100 of ps-410100"),
        ([station(kind="precinct")], "line 3: unknown kind 'precinct'"),
        ([station(parent="")], "line 3: only a provincial office may be without a parent_code"),
        ([station(), station()], "line 4: the code station-410105 is already used on line 3"),
        ([station(name="")], "line 3: name: "),
    ],
)
def test_bad_rows_are_reported_and_nothing_is_written(tmp_path, rows, message):
    good = {"code": "county-410105", "parent_code": "ps-410100", "kind": "county", "division_code": "410105",
            "name": "金水分局"}  # fmt: skip
    path = write_csv(tmp_path / "offices.csv", [good, *rows])
    before = snapshot()
    with pytest.raises(ImportFailed) as failed:
        import_offices(path=path)
    assert any(error.startswith(message) for error in failed.value.errors), failed.value.errors
    assert snapshot() == before
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_offices", str(path), stdout=StringIO(), stderr=err)
    assert message in err.getvalue()


def test_a_move_below_its_own_descendant_is_a_cycle(tmp_path):
    write_csv(tmp_path / "first.csv", [station(code="county-410105", kind="county")])
    run(tmp_path / "first.csv")
    path = write_csv(tmp_path / "second.csv", [{**station(code="ps-410100", kind="city", parent="county-410105"),
                                               "division_code": "410100"}])  # fmt: skip
    with pytest.raises(ImportFailed, match="cycle: ps-410100 → county-410105 → ps-410100"):
        import_offices(path=path)


def test_missing_columns_and_unknown_files(tmp_path):
    path = write_csv(tmp_path / "offices.csv", [station()], columns=("code", "kind", "division_code", "name"))
    with pytest.raises(ImportFailed, match="line 1: missing columns: parent_code, agency"):
        import_offices(path=path)
    json_path = tmp_path / "offices.json"
    json_path.write_text(json.dumps([{"code": "x", "kind": "county"}]), encoding="utf-8")
    with pytest.raises(ImportFailed, match="record 1: missing columns: parent_code, agency, division_code, name"):
        import_offices(path=json_path)
    with pytest.raises(ImportFailed, match="must end in .csv or .json"):
        import_offices(path=tmp_path / "offices.xlsx")
