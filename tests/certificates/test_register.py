"""The criminal-record register: CSV import (whole file or nothing, each bad row reported) and the admin page."""

import datetime
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from accounts.models import Role
from certificates.models import CriminalRecord
from certificates.register import register_import_csv
from tests.factories import StaffFactory, UserFactory, make_id_number

pytestmark = pytest.mark.django_db
HEADER = "id_number,name,offence,court,judgment_date,sentence,sentence_months,age_at_offence"
NOW = datetime.datetime(2026, 11, 24, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


def row(
    number=None,
    *,
    name="张三",
    offence="盗窃罪",
    court="郑州市金水区人民法院",
    date="2015-06-01",
    sentence="有期徒刑二年",
    months="24",
    age="30",
):
    number = number or make_id_number(birth=datetime.date(1980, 1, 1))
    return ",".join([number, name, offence, court, date, sentence, months, age])


def csv_file(*rows, bom=True, header=HEADER):
    text = "\r\n".join([header, *rows]) + "\r\n"
    return io.BytesIO(("\ufeff" if bom else "").encode() + text.encode("utf-8"))


def test_a_good_file_is_imported_with_or_without_bom():
    admin = UserFactory()
    numbers = [make_id_number(birth=datetime.date(1985, 5, 5)) for _ in range(3)]
    report = register_import_csv(file=csv_file(*(row(n) for n in numbers)), by=admin)
    assert report.ok and (report.rows_read, report.imported, report.rejected) == (3, 3, [])
    assert sorted(CriminalRecord.objects.values_list("id_number", flat=True)) == sorted(numbers)
    assert set(CriminalRecord.objects.values_list("import_batch", flat=True)) == {report.batch}

    juvenile = row(age="16", months="36", sentence="有期徒刑三年", name='李"小"四')
    report = register_import_csv(file=csv_file(juvenile, bom=False), by=admin)
    assert report.ok and report.imported == 1
    record = CriminalRecord.objects.get(import_batch=report.batch)
    assert record.sealed and record.judgment_date == datetime.date(2015, 6, 1)


def test_lower_case_x_and_spaces_in_the_number_are_normalised():
    number = next(n for n in (make_id_number(birth=datetime.date(1980, 1, 1)) for _ in range(500)) if n.endswith("X"))
    report = register_import_csv(file=csv_file(row(f" {number.lower()} ")), by=None)
    assert report.ok
    assert CriminalRecord.objects.get().id_number == number


def test_one_bad_row_imports_nothing_and_reports_its_line():
    good = [row() for _ in range(3)]
    bad_number = make_id_number()
    bad_number = bad_number[:-1] + ("0" if bad_number[-1] != "0" else "1")  # wrong check character
    report = register_import_csv(file=csv_file(good[0], row(bad_number), good[1], good[2]), by=None)
    assert not report.ok
    assert (report.rows_read, report.imported) == (4, 0)
    assert [line for line, _ in report.rejected] == [3]  # the header is line 1
    assert "id_number" in report.rejected[0][1] and "last character" in report.rejected[0][1]
    assert not CriminalRecord.objects.exists()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"date": "2027-01-01"}, "in the future"),
        ({"date": "01/06/2015"}, "YYYY-MM-DD"),
        ({"months": "-3"}, "whole number"),
        ({"months": "1500"}, "outside 0 to 1200"),
        ({"age": "8"}, "outside 12 to 120"),
        ({"age": "50"}, "older than the person was"),  # born 1980, judged 2015
        ({"months": "２４"}, "whole number"),  # full-width digits are not silently accepted
        ({"name": ""}, "name: required"),
        ({"court": "法" * 201}, "longer than 200"),
    ],
)
def test_each_kind_of_bad_value_is_rejected_with_a_reason(fields, expected):
    report = register_import_csv(file=csv_file(row(**fields)), by=None)
    assert report.imported == 0 and len(report.rejected) == 1
    assert expected in report.rejected[0][1]
    assert not CriminalRecord.objects.exists()


def test_wrong_column_count_header_and_encoding_are_reported():
    report = register_import_csv(file=csv_file(row() + ",extra"), by=None)
    assert report.rejected == [(2, "wrong number of columns")]
    report = register_import_csv(file=csv_file(row(), header="id,name"), by=None)
    assert "first line must name the columns" in report.error and report.rows_read == 0
    gbk = (HEADER + "\r\n" + row()).encode("gbk")
    report = register_import_csv(file=io.BytesIO(gbk), by=None)
    assert "not UTF-8" in report.error
    report = register_import_csv(file=csv_file(), by=None)
    assert "no rows" in report.error
    assert not CriminalRecord.objects.exists()


def test_many_bad_rows_are_counted_not_all_listed():
    from certificates import register

    rows = [row(date="bad")] * (register.MAX_REJECTIONS_LISTED + 7)
    report = register_import_csv(file=csv_file(*rows), by=None)
    assert len(report.rejected) == register.MAX_REJECTIONS_LISTED and report.more_rejected == 7
    assert report.rejected_count == len(rows)


# --- the admin page ----------------------------------------------------------------------------------------


def import_url():
    return reverse("admin:certificates_criminalrecord_import")


def test_administrator_imports_and_sees_the_report(staff_client):
    admin = StaffFactory(role=Role.ADMINISTRATOR, office=None)
    client = staff_client(admin)
    changelist = client.get(reverse("admin:certificates_criminalrecord_changelist"))
    assert changelist.status_code == 200 and import_url() in changelist.content.decode()
    assert client.get(import_url()).status_code == 200

    bad = SimpleUploadedFile("register.csv", csv_file(row(), row(date="2030-01-01")).getvalue(), "text/csv")
    response = client.post(import_url(), {"file": bad})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="rows-rejected">1<' in html and "in the future" in html
    assert not CriminalRecord.objects.exists()

    good = SimpleUploadedFile("register.csv", csv_file(row(), row()).getvalue(), "text/csv")
    response = client.post(import_url(), {"file": good})
    assert response.status_code == 200
    assert 'data-testid="rows-imported">2<' in response.content.decode()
    assert CriminalRecord.objects.count() == 2


def test_the_register_search_is_by_exact_id_number(staff_client):
    admin = StaffFactory(role=Role.ADMINISTRATOR, office=None)
    number = make_id_number(birth=datetime.date(1980, 3, 3))
    report = register_import_csv(file=csv_file(row(number, offence="诈骗罪"), row(offence="抢劫罪")), by=admin)
    assert report.ok
    client = staff_client(admin)
    url = reverse("admin:certificates_criminalrecord_changelist")
    html = client.get(url, {"q": number}).content.decode()
    assert "诈骗罪" in html and "抢劫罪" not in html
    html = client.get(url, {"q": number[:10]}).content.decode()
    assert "诈骗罪" not in html


@pytest.mark.parametrize("role", [Role.POLICE_OFFICER, Role.SUPERVISOR])
def test_officers_never_reach_the_register_or_the_import(staff_client, station_a, role):
    client = staff_client(StaffFactory(office=station_a, role=role))
    assert client.get(import_url()).status_code == 403
    good = SimpleUploadedFile("register.csv", csv_file(row()).getvalue(), "text/csv")
    assert client.post(import_url(), {"file": good}).status_code == 403
    assert client.get(reverse("admin:certificates_criminalrecord_changelist")).status_code == 403
    assert not CriminalRecord.objects.exists()
