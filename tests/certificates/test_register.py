"""The criminal-record register's imports, run as jobs: full and delta imports, every rule of a row, all or nothing,
cancellation, the sweep, the affected applications, and the admin's job page (progress, JSON, rejections CSV).

The worker's task function is called directly here (the core tier); tests/services runs it in a real worker.
"""

import csv
import datetime
import hashlib
import io
import random

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from stdnum.cn import ric

from accounts import idnumber
from accounts.models import Role
from certificates import register
from certificates.models import (
    CriminalRecord,
    ImportKind,
    ImportOutcome,
    ImportPhase,
    RegisterImport,
    Status,
)
from certificates.register import raw, register_import_cancel, register_import_restart, register_import_start
from certificates.tasks import register_import, sweep_register_imports
from portal.cases.models import Transition
from tests.factories import ApplicationFactory, StaffFactory, UserFactory, make_id_number

pytestmark = pytest.mark.django_db
HEADER = "record_id,id_number,name,offence,court,judgment_date,sentence,sentence_months,age_at_offence"
DELTA_HEADER = "action," + HEADER
NOW = datetime.datetime(2026, 11, 24, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
_ids = iter(range(1, 10**9))
# A judgment any factory-made holder (born 1960 to 2010) was old enough for, with a sentence that is never sealed.
RECENT = {"date": "2026-01-01", "months": "120"}


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def administrator(db):
    return StaffFactory(role=Role.ADMINISTRATOR, office=None)


def row(
    number=None,
    *,
    record_id=None,
    name="张三",
    offence="盗窃罪",
    court="郑州市金水区人民法院",
    date="2015-06-01",
    sentence="有期徒刑二年",
    months="24",
    age=None,
    action=None,
):
    """A row; the age at the offence is the holder's age on the judgment date unless given."""
    number = make_id_number(birth=datetime.date(1980, 1, 1)) if number is None else number
    if age is None:
        try:
            birth = idnumber.parse(number).birth_date
            age = str(idnumber.age_on(birth, datetime.date.fromisoformat(date)))
        except Exception:  # noqa: BLE001 - a deliberately bad number or date: any plausible age
            age = "30"
    record_id = f"R{next(_ids):07d}" if record_id is None else record_id
    cells = [record_id, number, name, offence, court, date, sentence, months, age]
    return ",".join(([action] if action else []) + cells)


def csv_bytes(*rows, bom=True, header=HEADER):
    text = "\r\n".join([header, *rows]) + "\r\n"
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


def start(data: bytes, by, kind=ImportKind.FULL) -> RegisterImport:
    return register_import_start(file=SimpleUploadedFile("register.csv", data, "text/csv"), kind=kind, by=by)


def run(job: RegisterImport) -> RegisterImport:
    register_import(job.pk)  # the Celery task, run here as the worker would
    job.refresh_from_db()
    return job


def import_full(by, *rows, **options) -> RegisterImport:
    return run(start(csv_bytes(*rows, **options), by))


def import_delta(by, *rows) -> RegisterImport:
    return run(start(csv_bytes(*rows, header=DELTA_HEADER), by, kind=ImportKind.DELTA))


def register_state():
    return sorted(
        CriminalRecord.objects.values_list(
            "record_id", "id_number", "offence", "sentence_months", "age_at_offence", "sealed_by_order"
        )
    )


def stage_tables():
    return [t for t in connection.introspection.table_names() if t.startswith(register.STAGE_PREFIX)]


# --- full imports ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("quoted", [False, True])
def test_a_stored_file_changed_after_upload_fails_and_changes_nothing(administrator, quoted):
    import_full(administrator, row(record_id="A1"))
    job = start(csv_bytes(row(record_id="B1"), row(record_id="B2")), administrator)
    changed = csv_bytes(row(record_id="C1"), row(record_id='"C2"' if quoted else "C2"))  # quoted: Python's reading
    with job.file.storage.open(job.file.name, "wb") as handle:
        handle.write(changed)
    job = run(job)
    assert (job.phase, job.outcome) == (ImportPhase.FAILED, ImportOutcome.FAILED)
    assert job.error == "The stored file does not match the SHA-256 recorded at upload; nothing was changed."
    assert list(CriminalRecord.objects.values_list("record_id", flat=True)) == ["A1"] and not stage_tables()


def test_a_full_import_is_stored_with_its_sha256_and_replaces_the_register(administrator):
    first = import_full(administrator, row(record_id="A1"), row(record_id="A2"), row(record_id="A3"))
    assert (first.phase, first.outcome, first.rows_read, first.rows_imported) == ("done", "imported", 3, 3)
    assert sorted(CriminalRecord.objects.values_list("record_id", flat=True)) == ["A1", "A2", "A3"]

    number = make_id_number(birth=datetime.date(1985, 5, 5))
    data = csv_bytes(row(number, record_id="A2", offence="诈骗罪"), row(record_id="B1"), bom=False)
    job = start(data, administrator)
    assert job.phase == ImportPhase.QUEUED and job.sha256 == hashlib.sha256(data).hexdigest()
    assert job.file.name.startswith("register/") and job.file.read() == data
    job = run(job)
    assert job.outcome == ImportOutcome.IMPORTED and job.counts == {"replaced": 3, "loaded": 2}
    assert job.started_at and job.finished_at and job.bytes_read == len(data)
    records = {r.record_id: r for r in CriminalRecord.objects.all()}
    assert sorted(records) == ["A2", "B1"]
    assert records["A2"].id_number == number and records["A2"].offence == "诈骗罪"
    assert {r.import_batch for r in records.values()} == {job.batch}
    assert stage_tables() == []
    assert register.register_matches(id_number=number) == [records["A2"]]


def test_numbers_are_normalised_and_juvenile_records_sealed(administrator):
    number = next(n for n in (make_id_number(birth=datetime.date(1980, 1, 1)) for _ in range(500)) if n.endswith("X"))
    juvenile = row(f" {number.lower()} ", age="16", months="36", sentence="有期徒刑三年", name='"李""小""四"')
    job = import_full(administrator, juvenile)
    assert job.outcome == ImportOutcome.IMPORTED
    record = CriminalRecord.objects.get()
    assert record.id_number == number and record.name == '李"小"四' and record.sealed and not record.sealed_by_order


def test_one_bad_row_in_the_middle_imports_nothing_and_the_report_lists_it(administrator, staff_client):
    import_full(administrator, row(record_id="OLD1"))
    before = register_state()
    bad_number = make_id_number()
    bad_number = bad_number[:-1] + ("0" if bad_number[-1] != "0" else "1")  # wrong check character
    job = import_full(administrator, row(), row(), row(bad_number), row(), row())
    assert (job.phase, job.outcome) == (ImportPhase.DONE, ImportOutcome.REJECTED)
    assert (job.rows_read, job.rows_rejected, job.rows_imported) == (5, 1, 0)
    assert [line for line, _ in job.rejections] == [4]  # the header is line 1
    assert "id_number" in job.rejections[0][1] and "last character" in job.rejections[0][1]
    assert register_state() == before and stage_tables() == []

    html = staff_client(administrator).get(reverse("admin:certificates_registerimport_change", args=[job.pk]))
    html = html.content.decode()
    assert 'data-testid="rejected-row"><td>4</td>' in html and "last character" in html


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
        ({"record_id": ""}, "record_id: required"),
        ({"record_id": "R 1"}, "record_id: only letters"),
        ({"record_id": "R" * 65}, "record_id: longer than 64"),
    ],
)
def test_each_kind_of_bad_value_is_rejected_with_a_reason(administrator, fields, expected):
    job = import_full(administrator, row(**fields))
    assert job.outcome == ImportOutcome.REJECTED and job.rows_imported == 0 and len(job.rejections) == 1
    assert expected in job.rejections[0][1]
    assert not CriminalRecord.objects.exists()


def test_wrong_column_count_header_encoding_and_empty_file_are_reported(administrator):
    job = import_full(administrator, row() + ",extra")
    assert job.rejections == [[2, "wrong number of columns"]]
    job = import_full(administrator, row(), header="id,name")
    assert "first line must name the columns" in job.error and job.rows_read == 0
    old_header = HEADER.removeprefix("record_id,")  # the columns before record ids: record_id is now required
    job = import_full(administrator, row().split(",", 1)[1], header=old_header)
    assert "record_id" in job.error and job.outcome == ImportOutcome.REJECTED
    job = run(start((HEADER + "\r\n" + row()).encode("gbk"), administrator))
    assert "not UTF-8" in job.error
    job = import_full(administrator)
    assert "no rows" in job.error
    assert not CriminalRecord.objects.exists()


def test_a_record_id_twice_in_a_file_is_rejected_with_both_lines(administrator):
    job = import_full(administrator, row(record_id="X1"), row(record_id="X2"), row(record_id="X1"))
    assert job.outcome == ImportOutcome.REJECTED
    assert job.rejections == [[4, "record_id: X1 is already on line 2 of this file"]]
    assert not CriminalRecord.objects.exists()


def test_many_bad_rows_are_counted_not_all_listed(administrator):
    rows = [row(date="bad")] * (register.MAX_REJECTIONS_LISTED + 7)
    job = import_full(administrator, *rows)
    assert len(job.rejections) == register.MAX_REJECTIONS_LISTED and job.more_rejected == 7
    assert job.rows_rejected == len(rows)


def test_the_check_character_is_python_stdnum_s():
    rng = random.Random(7)
    for _ in range(20000):
        body = "".join(rng.choice("0123456789") for _ in range(17))
        assert idnumber.check_character(body) == ric.calc_check_digit(body + "0")


# --- delta imports -----------------------------------------------------------------------------------------------


def test_a_delta_import_adds_corrects_seals_and_removes_by_record_id(administrator):
    import_full(administrator, *(row(record_id=f"D{i}") for i in range(1, 5)))
    untouched = CriminalRecord.objects.get(record_id="D4")
    number = make_id_number(birth=datetime.date(1980, 2, 2))
    job = import_delta(
        administrator,
        row(number, record_id="D5", action="add", offence="抢劫罪"),
        row(number, record_id="D1", action="correct", offence="诈骗罪", months="12"),
        "seal,D2,,,,,,,,",
        "REMOVE,D3,,,,,,,,",
    )
    assert job.outcome == ImportOutcome.IMPORTED, (job.error, job.rejections)
    assert job.counts == {"add": 1, "correct": 1, "seal": 1, "remove": 1}
    records = {r.record_id: r for r in CriminalRecord.objects.all()}
    assert sorted(records) == ["D1", "D2", "D4", "D5"]
    assert (records["D5"].offence, records["D5"].id_number) == ("抢劫罪", number)
    assert (records["D1"].offence, records["D1"].sentence_months, records["D1"].id_number) == ("诈骗罪", 12, number)
    assert records["D2"].sealed_by_order and records["D2"].sealed  # an adult's 2-year sentence: sealed by order only
    assert not records["D1"].sealed_by_order and not records["D1"].sealed
    assert records["D4"].import_batch == untouched.import_batch and records["D4"].imported_at == untouched.imported_at
    assert records["D1"].import_batch == job.batch


def test_a_delta_that_does_not_fit_the_register_changes_nothing(administrator):
    import_full(administrator, row(record_id="E1"), row(record_id="E2"))
    before = register_state()
    job = import_delta(
        administrator,
        row(record_id="E9", action="add"),
        row(record_id="E1", action="add"),  # already there
        row(record_id="E7", action="correct"),  # not there
        "seal,E2,,,,,,,,",
        "remove,E8,,,,,,,,",  # not there
        "remove,E9,,,,,,,,",  # added on line 2: one change per record and file
    )
    assert job.outcome == ImportOutcome.REJECTED
    assert job.rejections == [[7, "record_id: E9 is already on line 2 of this file"]]
    job = import_delta(
        administrator,
        row(record_id="E1", action="add"),
        row(record_id="E7", action="correct"),
        "seal,E2,,,,,,,,",
        "remove,E8,,,,,,,,",
        "archive,E2,,,,,,,,",
    )
    assert job.rejections == [[6, "action: “archive” is not one of add, correct, seal, remove"]]
    job = import_delta(
        administrator, row(record_id="E1", action="add"), row(record_id="E7", action="correct"), "remove,E8,,,,,,,,"
    )
    assert job.outcome == ImportOutcome.REJECTED
    assert job.rejections == [
        [2, "record_id: E1 is already in the register (use “correct”)"],
        [3, "record_id: E7 is not in the register"],
        [4, "record_id: E8 is not in the register"],
    ]
    assert register_state() == before


def test_an_open_application_whose_check_changes_gets_a_timeline_entry(administrator, station_a):
    waiting = ApplicationFactory(office=station_a, accepted=True)
    decided = ApplicationFactory(office=station_a, issued=True)
    other = ApplicationFactory(office=station_a, submitted=True)
    number = waiting.holder_id_number
    # The issued application's holder is someone else; give them a record too: decided cases are not noted.
    import_full(administrator, row(other.holder_id_number, record_id="F0", **RECENT))
    assert Transition.objects.filter(note__contains="register changed").count() == 1  # the other's, from 0 to 1

    job = import_delta(
        administrator,
        row(number, record_id="F1", action="add", **RECENT),
        row(decided.holder_id_number, action="add", **RECENT),
    )
    assert job.changed_cases_count == 1
    assert job.changed_cases == [{"pk": waiting.pk, "case_number": waiting.case_number, "before": 0, "after": 1}]
    [entry] = waiting.timeline().filter(note__contains="register changed")
    assert (
        entry.note == f"The criminal-record register changed (import {job.pk}): 1 record now blocks this certificate."
    )
    assert entry.from_status == entry.to_status == Status.ACCEPTED and entry.actor == administrator
    assert not decided.timeline().filter(note__contains="register changed").exists()
    waiting.refresh_from_db()
    assert waiting.status == Status.ACCEPTED

    job = import_delta(administrator, "seal,F1,,,,,,,,")
    assert [c["case_number"] for c in job.changed_cases] == [waiting.case_number]
    assert waiting.timeline().filter(note__contains="1 record no longer blocks this certificate").exists()
    job = import_delta(
        administrator, row(number, record_id="F2", action="add", age="15", date="2026-01-01", months="12")
    )
    assert job.changed_cases == [] and job.counts["add"] == 1


# --- cancellation and the sweep -----------------------------------------------------------------------------------


def cancel_when_rows_read_reach(count):
    """A second writer sets the cancel flag once the job's progress shows `count` rows: a database trigger, so the
    worker code runs unchanged and sees the flag between chunks exactly as it would see an administrator's click."""
    table = RegisterImport._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_cancel_import() RETURNS trigger AS $$ BEGIN NEW.cancel_requested := true; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER test_cancel_import BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN (NEW.rows_read >= {count}) EXECUTE FUNCTION test_cancel_import()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER test_cancel_import AFTER UPDATE OF rows_read ON {table} "  # noqa: S608
                f"WHEN NEW.rows_read >= {count} BEGIN UPDATE {table} SET cancel_requested = 1 WHERE id = NEW.id; END"
            )


def test_cancelled_between_chunks_the_register_stays_as_it_was(administrator, settings):
    import_full(administrator, row(record_id="C1"))
    before = register_state()
    settings.REGISTER_IMPORT_CHUNK_ROWS = 2
    cancel_when_rows_read_reach(4)
    job = import_full(administrator, *(row() for _ in range(10)))
    assert (job.phase, job.outcome) == (ImportPhase.CANCELLED, ImportOutcome.CANCELLED)
    assert job.rows_read == 4  # stopped at the chunk boundary where it saw the flag
    assert register_state() == before and stage_tables() == []


def test_cancelled_before_it_starts_it_never_runs(administrator):
    job = start(csv_bytes(row()), administrator)
    assert register_import_cancel(job=job, by=administrator)
    assert (job.phase, job.outcome, job.cancelled_by) == (ImportPhase.CANCELLED, ImportOutcome.CANCELLED, administrator)
    job = run(job)
    assert job.started_at is None and job.rows_read == 0 and not CriminalRecord.objects.exists()
    assert not register_import_cancel(job=job, by=administrator)  # over: nothing to cancel
    done = import_full(administrator, row())
    assert not register_import_cancel(job=done, by=administrator)
    assert CriminalRecord.objects.count() == 1


def test_the_sweep_fails_a_job_whose_worker_died_and_it_can_run_again(administrator, settings):
    job = start(csv_bytes(row(record_id="S1"), row(record_id="S2")), administrator)
    # What a worker killed half-way leaves: the job says "loading", its staging table holds some rows.
    RegisterImport.objects.filter(pk=job.pk).update(
        phase=ImportPhase.LOADING, started_at=timezone.now(), heartbeat_at=timezone.now(), rows_read=1
    )
    register.Stage(job).create()
    assert stage_tables() == [register.stage_table_name(job.pk)]
    if connection.vendor != "postgresql":  # PostgreSQL knows from the import lock; SQLite from the heartbeat
        assert sweep_register_imports() == {"failed": [], "dropped": [], "requeued": []}
        RegisterImport.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
    result = sweep_register_imports()
    assert result["failed"] == [job.pk] and result["dropped"] == [register.stage_table_name(job.pk)]
    job.refresh_from_db()
    assert (job.phase, job.outcome) == (ImportPhase.FAILED, ImportOutcome.FAILED) and "stopped" in job.error
    assert stage_tables() == [] and not CriminalRecord.objects.exists()

    again = run(register_import_restart(job=job, by=administrator))
    assert again.retry_of == job and again.sha256 == job.sha256 and again.outcome == ImportOutcome.IMPORTED
    assert sorted(CriminalRecord.objects.values_list("record_id", flat=True)) == ["S1", "S2"]
    with pytest.raises(ValueError):
        register_import_restart(job=again, by=administrator)


def test_a_stored_file_that_changed_after_upload_is_not_imported(administrator):
    job = start(csv_bytes(row()), administrator)
    with job.file.storage.open(job.file.name, "wb") as handle:
        handle.write(csv_bytes(row(), row()))
    job = run(job)
    assert job.outcome == ImportOutcome.FAILED and "SHA-256" in job.error
    assert not CriminalRecord.objects.exists()


# --- the admin pages ---------------------------------------------------------------------------------------------


def job_url(job, name="change"):
    return reverse(f"admin:certificates_registerimport_{name}", args=[job.pk])


def test_the_form_queues_a_job_and_its_page_shows_progress_until_done(administrator, staff_client):
    client = staff_client(administrator)
    changelist = client.get(reverse("admin:certificates_criminalrecord_changelist")).content.decode()
    assert reverse("admin:certificates_criminalrecord_import") in changelist
    upload = SimpleUploadedFile("register.csv", csv_bytes(row(), row()), "text/csv")
    response = client.post(reverse("admin:certificates_criminalrecord_import"), {"file": upload, "kind": "full"})
    job = RegisterImport.objects.get()
    assert response.status_code == 302 and response["Location"] == job_url(job)
    assert job.started_by == administrator and not CriminalRecord.objects.exists()  # nothing in the request

    html = client.get(job_url(job)).content.decode()
    assert '<meta http-equiv="refresh"' in html and "js/register_import.js" in html
    assert "<script>" not in html  # the strict CSP: no inline script
    assert 'data-testid="cancel-import"' in html
    data = client.get(job_url(job, "progress")).json()
    assert data["running"] is True and data["phase"] == "queued" and data["cancellable"] is True
    assert set(data) >= {"rows_read", "rows_rejected", "rows_imported", "percent", "phase_label", "outcome"}

    run(job)
    html = client.get(job_url(job)).content.decode()
    assert 'http-equiv="refresh"' not in html and 'data-testid="cancel-import"' not in html
    assert 'data-testid="rows-imported">2<' in html and job.sha256 in html
    data = client.get(job_url(job, "progress")).json()
    assert (data["running"], data["phase"], data["outcome"], data["rows_read"], data["rows_imported"]) == (
        False,
        "done",
        "imported",
        2,
        2,
    )
    assert data["percent"] == 100
    listing = client.get(reverse("admin:certificates_registerimport_changelist")).content.decode()
    assert job.sha256[:16] in listing and str(administrator) in listing


def test_the_job_page_lists_the_affected_applications_with_links(administrator, staff_client, station_a):
    application = ApplicationFactory(office=station_a, submitted=True)
    job = import_delta(administrator, row(application.holder_id_number, action="add", **RECENT))
    html = staff_client(administrator).get(job_url(job)).content.decode()
    review = reverse("admin:certificates_application_change", args=[application.pk])
    assert f'<a href="{review}">{application.case_number}</a>' in html


def test_cancel_from_the_job_page(administrator, staff_client):
    client = staff_client(administrator)
    job = start(csv_bytes(row()), administrator)
    assert client.get(job_url(job, "cancel")).status_code == 405
    response = client.post(job_url(job, "cancel"))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.phase == ImportPhase.CANCELLED
    response = client.post(job_url(job, "restart"))
    new = RegisterImport.objects.exclude(pk=job.pk).get()
    assert response["Location"] == job_url(new) and new.retry_of == job


def test_the_rejections_csv_is_formula_safe(administrator, staff_client):
    client = staff_client(administrator)
    job = import_full(administrator, row(name="=HYPERLINK(1)", months="+1"), row(date="@SUM(1)"))
    response = client.get(job_url(job, "rejections"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Line", "Reason"]
    assert [r[0] for r in rows[1:]] == ["2", "3"] and "whole number" in rows[1][1] and "YYYY-MM-DD" in rows[2][1]
    # A reason that itself starts a formula (a crafted value in an error message) leaves as text, not a formula.
    RegisterImport.objects.filter(pk=job.pk).update(
        rejections=[[5, "=cmd|' /C calc'!A0"], [6, "-2+3"], [7, "@A1"], [8, "+1"]], more_rejected=3
    )
    rows = list(csv.reader(io.StringIO(client.get(job_url(job, "rejections")).content.decode("utf-8-sig"))))
    assert rows[1:] == [
        ["5", "'=cmd|' /C calc'!A0"],
        ["6", "'-2+3"],
        ["7", "'@A1"],
        ["8", "'+1"],
        ["", "and 3 more rejected rows"],
    ]
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


@pytest.mark.parametrize("role", [Role.POLICE_OFFICER, Role.SUPERVISOR])
def test_officers_never_reach_the_register_the_import_or_the_jobs(staff_client, station_a, administrator, role):
    job = start(csv_bytes(row()), administrator)
    client = staff_client(StaffFactory(office=station_a, role=role))
    import_url = reverse("admin:certificates_criminalrecord_import")
    assert client.get(import_url).status_code == 403
    upload = SimpleUploadedFile("register.csv", csv_bytes(row()), "text/csv")
    assert client.post(import_url, {"file": upload, "kind": "full"}).status_code == 403
    assert client.get(reverse("admin:certificates_criminalrecord_changelist")).status_code == 403
    assert client.get(reverse("admin:certificates_registerimport_changelist")).status_code == 403
    for name in ("change", "progress", "rejections"):
        assert client.get(job_url(job, name)).status_code == 403, name
    assert client.post(job_url(job, "cancel")).status_code == 403
    job.refresh_from_db()
    assert job.phase == ImportPhase.QUEUED and RegisterImport.objects.count() == 1


def test_the_register_search_is_by_exact_id_number(administrator, staff_client):
    number = make_id_number(birth=datetime.date(1980, 3, 3))
    assert import_full(administrator, row(number, offence="诈骗罪"), row(offence="抢劫罪")).outcome == "imported"
    client = staff_client(administrator)
    url = reverse("admin:certificates_criminalrecord_changelist")
    html = client.get(url, {"q": number}).content.decode()
    assert "诈骗罪" in html and "抢劫罪" not in html
    html = client.get(url, {"q": number[:10]}).content.decode()
    assert "诈骗罪" not in html


def test_a_job_is_queued_on_the_default_queue_after_commit(administrator, django_capture_on_commit_callbacks):
    from portal import celery_app

    router = celery_app.amqp.router
    assert router.route({}, register_import.name)["queue"].name == "default"
    sent = []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = start(csv_bytes(row()), UserFactory())
    assert len(callbacks) == 1 and not sent
    assert job.phase == ImportPhase.QUEUED


@pytest.mark.parametrize(
    "data",
    [
        b"a,b\r\nc,d\r\n",
        b"a,b\nc,d\n",
        b"a,b\nc,d",
        b"a,b\r\nc,d\r",
        b"a,b\r\n\r\nc,d\r\n",
        b"a,b\n\nc,d\n",
        b"a,b\r\nc,d\n\ne,f\r\n",
        b"a,b\nc,d\r\n\r\n",
        b"a,b\r\nc\rd\r\n",
        b'a,"b"\r\n',
        b"a,b\\.\r\n",
        b"a,b\\c\r\n",
        b"a,\x00\r\n",
        b"a,b\n\r\nc,d\n",
        b"\r\n\r\n",
        b"\n\n",
    ],
)
def test_a_file_is_plain_for_the_scan_read_in_any_pieces_exactly_when_it_is_plain_as_a_whole(data):
    """raw.FileScan, fed the file in reads of any size, finds it plain exactly when the whole file holds none of
    raw._NOT_PLAIN and its every carriage return begins a CRLF."""
    expected = not any(pattern in data for pattern in raw._NOT_PLAIN) and data.count(b"\r") == data.count(b"\r\n")
    for size in range(1, len(data) + 1):
        scan = raw.FileScan()
        for start in range(0, len(data), size):
            scan.update(data[start : start + size])
        assert scan.result()[2] is expected, (data, size)
