"""The register import's two implementations of the rules of a row give the same verdicts: _clean_row (Python, what
SQLite runs) and certificates/sql.py (set-based SQL, what PostgreSQL runs), fed the same few thousand rows
made to hit every rule at and beside its limits, through both ways the SQL path loads a file (COPY of the raw bytes,
and Python's csv reading for files with quotes)."""

import datetime
import io
import random
import re

import pytest
from django.db import connection
from django.utils import translation

from accounts import idnumber
from certificates import register
from certificates.models import ImportKind
from certificates.register import raw, rules, sql
from certificates.register.simple import SimpleRows

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
TODAY = datetime.date(2026, 11, 24)
TOMORROW = TODAY + datetime.timedelta(days=1)
RAW, STAGE = register.raw_table_name(990001), register.stage_table_name(990001)


def number(birth: datetime.date | str, area="410105", seq=123, check=True) -> str:
    body = f"{area}{birth:%Y%m%d}{seq:03d}" if isinstance(birth, datetime.date) else f"{area}{birth}{seq:03d}"
    return body + (idnumber.check_character(body) if check else "0")


def wrong_check(value: str) -> str:
    return value[:-1] + ("1" if value[-1] != "1" else "2")


def good(rng: random.Random, i: int) -> dict:
    birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(0, 60 * 365))
    judged = birth + datetime.timedelta(days=rng.randrange(13 * 366, max(13 * 366 + 1, (TODAY - birth).days)))
    judged = min(judged, TODAY)
    oldest = idnumber.age_on(birth, judged)
    return {
        "record_id": f"R{i:06d}",
        "id_number": number(birth, seq=rng.randrange(1000)),
        "name": rng.choice(["张三", "李四", "王五", "赵 六"]),
        "offence": rng.choice(["盗窃罪", "诈骗罪"]),
        "court": "郑州市金水区人民法院",
        "judgment_date": judged.isoformat(),
        "sentence": "有期徒刑二年",
        "sentence_months": str(rng.randrange(0, 1201)),
        "age_at_offence": str(rng.randrange(12, max(13, oldest + 1))),
    }


def variants() -> list[dict]:
    """One change each, at every rule's edges: (column, value) pairs applied to a good row (several at once too)."""
    born = datetime.date(1980, 3, 15)
    on_birthday = "2020-03-15"  # 40 that day
    fullwidth = number(born).translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    arabic = number(born).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    x_number = next(n for n in (number(born, seq=s) for s in range(1000)) if n.endswith("X"))
    out = [
        # ID numbers
        {"id_number": wrong_check(number(born))},
        {"id_number": number("19900230")},  # 30 February
        {"id_number": number("19990229")},  # 29 February, not a leap year
        {"id_number": number("20000229")},  # a leap year: good
        {"id_number": number("19000229")},  # 1900 is not a leap year
        {"id_number": number("19901301")},
        {"id_number": number("19900100")},
        {"id_number": number("00000101")},
        {"id_number": number(TOMORROW)},  # born tomorrow
        {"id_number": number(TODAY), "judgment_date": TODAY.isoformat(), "age_at_offence": "12"},
        {"id_number": number("18791231")},
        {"id_number": number("18800101"), "judgment_date": "1990-01-01", "age_at_offence": "110"},
        {"id_number": number(born)[:17]},
        {"id_number": number(born)[:15]},
        {"id_number": number(born)[:6] + number(born)[8:17]},  # 15 digits: an old number
        {"id_number": number(born) + "1"},
        {"id_number": x_number.lower()},
        {"id_number": " " + x_number[:6] + " " + x_number[6:] + " "},
        {"id_number": x_number[:6] + "-" + x_number[6:14] + "-" + x_number[14:]},
        {"id_number": x_number[:6] + "\u200b" + x_number[6:]},
        {"id_number": fullwidth},
        {"id_number": arabic},
        {"id_number": number(born, area="810000")},
        {"id_number": number(born, area="990105")},
        {"id_number": number(born)[:10] + "A" + number(born)[11:]},
        {"id_number": number(born)[:17] + "Y"},
        {"id_number": ""},
        {"id_number": "   "},
        {"id_number": "ß" * 15},
        # lengths
        {"name": "名" * 60},
        {"name": "名" * 61},
        {"name": " " + "名" * 60 + "\u3000"},
        {"offence": "罪" * 200},
        {"offence": "罪" * 201},
        {"court": "a" * 200},
        {"court": "a" * 201},
        {"sentence": "刑" * 200},
        {"sentence": "刑" * 201},
        {"name": ""},
        {"name": " \t "},
        {"offence": "\u3000"},
        {"name": "\u00a0张三\u2003"},
        {"name": "\ufeff张三"},
        {"record_id": ""},
        {"record_id": "R" * 64},
        {"record_id": "R" * 65},
        {"record_id": " R-1.a:b/c_d "},
        {"record_id": "R 1"},
        {"record_id": "R#1"},
        {"record_id": "记录1"},
        # dates of judgment
        {"judgment_date": TODAY.isoformat()},
        {"judgment_date": TOMORROW.isoformat()},
        {"judgment_date": "2015-6-01"},
        {"judgment_date": "20150601"},
        {"judgment_date": "2015-W23-1"},
        {"judgment_date": "2015-02-29"},
        {"judgment_date": "2016-02-29"},
        {"judgment_date": "2015-04-31"},
        {"judgment_date": " 2015-06-01 "},
        {"judgment_date": "２０１５-06-01"},
        {"judgment_date": "0000-06-01"},
        {"judgment_date": "2015/06/01"},
        {"judgment_date": ""},
        {"judgment_date": "2015-06-01T00:00"},
        # sentences
        {"sentence_months": "0"},
        {"sentence_months": "1200"},
        {"sentence_months": "1201"},
        {"sentence_months": "-1"},
        {"sentence_months": "+1"},
        {"sentence_months": "1.5"},
        {"sentence_months": ""},
        {"sentence_months": " 12 "},
        {"sentence_months": "0012"},
        {"sentence_months": "abc"},
        {"sentence_months": "２４"},
        {"sentence_months": "9" * 30},
        {"sentence_months": "0" * 30 + "7"},
        # ages
        {"id_number": number(born), "judgment_date": on_birthday, "age_at_offence": "11"},
        {"id_number": number(born), "judgment_date": on_birthday, "age_at_offence": "12"},
        {"id_number": number(born), "judgment_date": on_birthday, "age_at_offence": "40"},  # the age that day
        {"id_number": number(born), "judgment_date": on_birthday, "age_at_offence": "41"},
        {"id_number": number(born), "judgment_date": "2020-03-14", "age_at_offence": "40"},  # 39 the day before
        {"id_number": number(born), "judgment_date": "2020-03-14", "age_at_offence": "39"},
        {"id_number": number("20000229"), "judgment_date": "2021-02-28", "age_at_offence": "21"},  # not yet 21
        {"id_number": number("20000229"), "judgment_date": "2021-03-01", "age_at_offence": "21"},
        {"id_number": number("19000101"), "judgment_date": "2020-06-01", "age_at_offence": "120"},
        {"id_number": number("19000101"), "judgment_date": "2020-06-01", "age_at_offence": "121"},
        {"id_number": number("18990101"), "judgment_date": "2020-06-01", "age_at_offence": "121"},
        {"id_number": number(born), "judgment_date": "1990-01-01", "age_at_offence": "12"},  # 9 then
        {"age_at_offence": ""},
        {"age_at_offence": "x"},
        {"age_at_offence": "9" * 12},
        {"id_number": wrong_check(number(born)), "age_at_offence": "130"},  # no age check without a birth date
        {"judgment_date": "bad", "age_at_offence": "130"},
        # several problems at once, and an empty row
        {"record_id": "", "id_number": "1", "name": "", "judgment_date": "x", "sentence_months": "y"},
        dict.fromkeys(register.CSV_COLUMNS + ("record_id",), ""),
    ]
    return out


def sealed_variants() -> list[dict]:
    return [{"sealed_by_order": value} for value in ("", "0", "1", "true", "YES", " no ", "False", "maybe", "2")]


def delta_variants() -> list[dict]:
    return [
        {"action": "add"},
        {"action": " Correct "},
        {"action": "seal", "id_number": "", "name": ""},
        {"action": "REMOVE", "id_number": "junk", "sentence_months": "x"},
        {"action": "remove", "record_id": ""},
        {"action": "archive"},
        {"action": "archive", "id_number": "junk"},
        {"action": ""},
        {"action": "add", "id_number": "junk"},
    ]


def make_rows(kind: str, count: int, seed: int) -> tuple[list[str], list[list[str]]]:
    rng = random.Random(seed)
    columns = list(register.DELTA_COLUMNS if kind == ImportKind.DELTA else register.FULL_COLUMNS)
    changes = variants()
    if kind == ImportKind.DELTA:
        changes += delta_variants()
    else:
        columns.append("sealed_by_order")
        changes += sealed_variants()
    rows = []
    for i in range(count):
        row = good(rng, i)
        if kind == ImportKind.DELTA:
            row["action"] = rng.choice(["add", "correct"])
        if i % 3 == 0:  # every third row changed; the rest good
            change = changes[(i // 3) % len(changes)]
            row.update(change)
        rows.append([row.get(name, "") for name in columns])
    return columns, rows


def plain_csv(columns, rows) -> bytes:
    # BOM and Windows line endings; no cell holds a comma, quote or line break, so the file is "plain".
    lines = [",".join(columns), *(",".join(row) for row in rows)]
    assert not any(ch in line for line in lines for ch in '"\r\n')
    return "\ufeff".encode() + ("\r\n".join(lines) + "\r\n").encode()


def quoted_csv(columns, rows, rng: random.Random) -> bytes:
    """The same kind of rows with quoted cells holding commas, quotes and line breaks, blank lines and rows of the
    wrong width: what only Python's csv reading loads."""
    out = io.StringIO()
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for i, row in enumerate(rows):
        row = list(row)
        if i % 7 == 0:
            row[columns.index("name")] = rng.choice(["张,三", '李"小"四', "王\n五", "赵\r\n六", '"'])
        if i % 11 == 0:
            row[columns.index("offence")] = "盗窃罪,诈骗罪"
        if i % 53 == 0:
            out.write("\n")  # a blank line: skipped, but counted
        if i % 97 == 0:
            row = row[:-1]
        writer.writerow(row)
    return out.getvalue().encode()


def python_verdicts(data: bytes, kind: str):
    accepted, rejected = {}, {}
    for line, row in register.iter_rows(io.BytesIO(data), kind):
        if row is None:
            rejected[line] = "wrong number of columns"
            continue
        try:
            clean = rules._clean_row(row, TODAY, kind=kind)
        except Exception as exc:  # noqa: BLE001 - ValidationError: its messages are the reason
            rejected[line] = " ".join(exc.messages)
        else:
            accepted[line] = rules._stage_row(line, clean)[1:]
    return accepted, rejected


def sql_verdicts(data: bytes, kind: str, *, plain: bool):
    binary = io.BytesIO(data)
    structural = {}
    if plain:
        header = raw.read_plain_header(binary, kind)
        assert header is not None
        raw.create_raw(RAW, len(header))
        raw.copy_plain(binary, RAW, len(header), 500, lambda rows: None)
    else:
        header, records = register.iter_records(binary, kind)
        raw.create_raw(RAW, len(header))

        def on_record(line, fits):
            if not fits:
                structural[line] = "wrong number of columns"

        raw.copy_records(records, RAW, len(header), 500, on_record, lambda: None)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
    job = type("Job", (), {"pk": 990001, "kind": ImportKind.DELTA, "batch": "x"})()
    register.Stage(job).create()  # the plain staging table (the SQL fills the register-shaped one the same way)
    sql.insert_checked(header, kind, RAW, STAGE, TODAY)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(register.STAGE_COLUMNS)} FROM {STAGE}")  # noqa: S608
        accepted = {row[0]: tuple(row[1:]) for row in cursor.fetchall()}
    listed, overlong = sql.rejected_rows(header, kind, RAW, TODAY, 10**6)
    assert not overlong
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {RAW}")
        cursor.execute(f"DROP TABLE {STAGE}")
    return accepted, structural | dict(listed)


def columns_named(reason: str) -> set[str]:
    return set(re.findall(r"(?:^|[;；] ?)([a-z_]+)[:：]", reason))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(("kind", "plain"), [("full", True), ("full", False), ("delta", True), ("delta", False)])
def test_python_and_sql_rules_accept_and_refuse_the_same_rows(kind, plain, language):
    assert connection.vendor == "postgresql"
    columns, rows = make_rows(kind, 3000, seed=11)
    data = plain_csv(columns, rows) if plain else quoted_csv(columns, rows, random.Random(5))
    assert raw.scan_file(io.BytesIO(data))[2] is plain  # the loading the job would choose
    with translation.override(language):
        py_accepted, py_rejected = python_verdicts(data, kind)
        sql_accepted, sql_rejected = sql_verdicts(data, kind, plain=plain)
    assert len(py_accepted) > 1500 and len(py_rejected) > 400  # the rows really exercise both sides
    assert sql_accepted == py_accepted  # the same rows, with the same cleaned values
    assert sorted(sql_rejected) == sorted(py_rejected)  # the same lines refused
    differ = {
        line: (py_rejected[line], sql_rejected[line]) for line in py_rejected if py_rejected[line] != sql_rejected[line]
    }
    # The wording is the same (the SQL names problems; Python words them with _clean_row's and idnumber's messages);
    # where it legitimately differs (upper-casing outside ASCII), the rows refused and the columns named agree.
    assert all(columns_named(a) == columns_named(b) == {"id_number"} for a, b in differ.values()), differ
    # Only "ß" (upper-cased to "SS" by Python, left by PostgreSQL) changes a count in the message.
    assert len(differ) == sum(row[columns.index("id_number")] == "ß" * 15 for row in rows), differ


def test_the_sql_check_character_is_idnumber_s():
    rng = random.Random(3)
    bodies = ["".join(rng.choice("0123456789") for _ in range(17)) for _ in range(5000)]
    weighted = " + ".join(f"(b / {10 ** (16 - i)} %% 10) * {w}" for i, w in enumerate(sql.ID_WEIGHTS))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT substr('{sql.ID_CHECK_BY_SUM}', (({weighted}) %% 11)::integer + 1, 1) "  # noqa: S608
            "FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(b, n) ORDER BY n",
            [[int(body) for body in bodies]],
        )
        found = [row[0] for row in cursor.fetchall()]
    assert found == [idnumber.check_character(body) for body in bodies]


@pytest.mark.parametrize("kind", ["full", "delta"])
def test_a_simple_row_is_one_python_accepts_with_the_same_values(kind):
    """The fast way (every row simple: loaded as it is) only ever takes rows the rules accept, with their values."""
    columns, rows = make_rows(kind, 3000, seed=13)
    data = plain_csv(columns, rows)
    py_accepted, py_rejected = python_verdicts(data, kind)
    binary = io.BytesIO(data)
    header = raw.read_plain_header(binary, kind)
    raw.create_raw(RAW, len(header))
    raw.copy_plain(binary, RAW, len(header), 500, lambda rows: None)
    query = sql.simple_rows_sql(header, kind).replace("%(raw)s", RAW)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT line FROM ({query}) AS s WHERE simple", {"today_num": int(TODAY.strftime("%Y%m%d"))})  # noqa: S608
        simple = {row[0] for row in cursor.fetchall()}
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        job = type("Job", (), {"pk": 990001, "kind": ImportKind.DELTA, "batch": "x"})()
        register.Stage(job).create()
        cursor.execute(f"DELETE FROM {RAW} WHERE line <> ALL(%s)", [sorted(simple)])  # noqa: S608
        assert sql.all_simple(header, kind, RAW, TODAY)
        sql.insert_simple(header, kind, RAW, STAGE)
        cursor.execute(f"SELECT {', '.join(register.STAGE_COLUMNS)} FROM {STAGE}")  # noqa: S608
        loaded = {row[0]: tuple(row[1:]) for row in cursor.fetchall()}
        cursor.execute(f"DROP TABLE {RAW}")
        cursor.execute(f"DROP TABLE {STAGE}")
    assert not simple & set(py_rejected), sorted(simple & set(py_rejected))
    assert len(simple) > 1500  # the good rows
    # Accepted rows that need cleaning (spaces, a small x, full-width digits) are not simple.
    assert len(simple) < len(py_accepted)
    assert loaded == {line: py_accepted[line] for line in simple}


def test_a_file_of_simple_rows_is_loaded_the_fast_way_with_the_same_result(monkeypatch):
    columns, rows = make_rows("full", 400, seed=17)
    rows = [row for i, row in enumerate(rows) if i % 3]  # the unchanged (good) rows only
    data = plain_csv(columns, rows)
    py_accepted, py_rejected = python_verdicts(data, "full")
    assert not py_rejected
    judged = []
    monkeypatch.setattr(sql, "insert_judged", lambda *args: judged.append(args))
    sql_accepted, sql_rejected = sql_verdicts(data, "full", plain=True)
    assert not judged  # the fast way
    assert sql_accepted == py_accepted and not sql_rejected


def test_a_row_simple_to_the_worker_is_one_python_accepts_and_copy_stores_with_the_same_values():
    """The direct way (a full import of a plain file whose rows simple.SimpleRows passes, COPYed straight into the
    register-shaped staging table) only ever takes rows the rules accept, and COPY stores the values they give."""
    columns, rows = make_rows("full", 3000, seed=19)
    sealed = columns.index("sealed_by_order")
    for i, row in enumerate(rows):  # the good rows' sealed flags mostly written out (COPY reads an empty one as NULL)
        if row[sealed] == "" and i % 4:
            row[sealed] = random.Random(i).choice(["0", "1", "true", "false", "yes", "no"])
    py_accepted, py_rejected = python_verdicts(plain_csv(columns, rows), "full")
    check = SimpleRows(columns, TODAY)
    simple = {i + 2 for i, row in enumerate(rows) if check.row(row)}
    assert not simple & set(py_rejected), sorted(simple & set(py_rejected))
    assert 1500 < len(simple) < len(py_accepted)  # accepted rows that need cleaning are not simple
    # Every simple row (among them every row simple_rows_sql calls simple, but for an empty sealed flag), then
    # loaded the direct way: stored as _clean_row cleans it.
    kept = [row for i, row in enumerate(rows) if i + 2 in simple]
    data = plain_csv(columns, kept)
    expected, refused = python_verdicts(data, "full")
    assert not refused and len(expected) == len(kept)
    assert check.chunk(data.split(b"\r\n", 1)[1])
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
    stage = register.Stage(type("Job", (), {"pk": 990001, "kind": ImportKind.FULL, "batch": "x"})())
    stage.create()
    stage.direct = True
    binary, scan = io.BytesIO(data), raw.FileScan()
    header = raw.read_plain_header(binary, "full")
    assert raw.copy_direct(binary, scan, STAGE, header, 500, check.chunk, lambda rows: None) == len(kept)
    stored = ", ".join(["'add'", *register.STAGE_COLUMNS[2:]])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {stage.line_sql()}, {stored} FROM {STAGE}")  # noqa: S608
        loaded = {row[0]: tuple(row[1:]) for row in cursor.fetchall()}
        cursor.execute(f"DROP TABLE {STAGE}")
    assert loaded == expected


def test_the_worker_s_check_of_a_chunk_says_what_its_check_of_each_row_says():
    """SimpleRows.chunk (a column at a time, what the direct way runs) passes a line exactly when SimpleRows.row passes
    its row, for every kind of good and bad row; a chunk passes when each of its rows does."""
    columns, rows = make_rows("full", 3000, seed=29)
    sealed = columns.index("sealed_by_order")
    for i, row in enumerate(rows):
        if row[sealed] == "" and i % 4:
            row[sealed] = random.Random(i).choice(["0", "1", "true", "false", "yes", "no"])
    check = SimpleRows(columns, TODAY)
    verdicts = [check.row(row) for row in rows]
    assert 1500 < sum(verdicts) < len(rows)
    for row, simple in zip(rows, verdicts, strict=True):
        line = ",".join(row).encode()
        for ending in (b"\r\n", b"\n", b""):
            assert SimpleRows(columns, TODAY).chunk(line + ending) is simple, (row, ending)
    good = [row for row, simple in zip(rows, verdicts, strict=True) if simple]
    body = plain_csv(columns, good).split(b"\r\n", 1)[1]
    assert check.chunk(body)
    for row in (row for row, simple in zip(rows, verdicts, strict=True) if not simple):
        bad = plain_csv(columns, [*good[:150], row, *good[150:300]]).split(b"\r\n", 1)[1]
        assert not check.chunk(bad), row


def test_the_direct_way_stops_at_the_first_chunk_with_a_row_that_is_not_simple():
    columns, rows = make_rows("full", 40, seed=23)
    rows = [[*row[:-1], "1"] for i, row in enumerate(rows) if i % 3]  # good rows, sealed flags written out
    check = SimpleRows(columns, TODAY)
    assert all(check.row(row) for row in rows)
    rows[20][columns.index("name")] = " 张三"  # accepted once cleaned, but not as it is
    assert not check.row(rows[20])
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
    stage = register.Stage(type("Job", (), {"pk": 990001, "kind": ImportKind.FULL, "batch": "x"})())
    stage.create()
    binary = io.BytesIO(plain_csv(columns, rows))
    header = raw.read_plain_header(binary, "full")
    chunks = []
    with pytest.raises(raw.NotSimple):
        raw.copy_direct(binary, raw.FileScan(), STAGE, header, 5, check.chunk, chunks.append)
    assert chunks == [5, 10, 15, 20]  # the chunk of line 22 (row 20) and after never loaded
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {STAGE}")  # noqa: S608
        assert cursor.fetchone()[0] == 20
        cursor.execute(f"DROP TABLE {STAGE}")


def test_a_file_of_simple_rows_is_imported_the_direct_way(monkeypatch, django_user_model):
    """A full import of such a file: no raw table, no check in SQL; the register holds the rows as the rules
    clean them."""
    from django.core.files.base import ContentFile

    from certificates.models import CriminalRecord

    columns, rows = make_rows("full", 300, seed=29)
    rows = [[*row[:-1], "0"] for i, row in enumerate(rows) if i % 3]
    data = plain_csv(columns, rows)
    expected, _refused = python_verdicts(data, "full")
    monkeypatch.setattr(sql, "insert_checked", lambda *args: pytest.fail("checked in SQL"))
    user = django_user_model.objects.create_superuser(username="direct-admin", password=None, email="d@example.test")
    job = register.register_import_start(file=ContentFile(data, name="r.csv"), kind=ImportKind.FULL, by=user)
    assert register.run_import_job(job.pk) == "imported"
    stored = ", ".join(["'add'", *register.STAGE_COLUMNS[2:]])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {stored} FROM {CriminalRecord._meta.db_table} ORDER BY id")  # noqa: S608
        assert cursor.fetchall() == [expected[line] for line in sorted(expected)]


def test_a_record_id_twice_in_a_file_loaded_the_direct_way_is_refused_with_both_lines(django_user_model):
    """The unique index, built beside the others on connections of their own, finds it; the lines come from the
    staged rows' ids."""
    from django.core.files.base import ContentFile

    from certificates.models import CriminalRecord, ImportOutcome, RegisterImport

    columns, rows = make_rows("full", 60, seed=31)
    rows = [[*row[:-1], "1"] for i, row in enumerate(rows) if i % 3]
    rows[30][0] = rows[4][0]
    user = django_user_model.objects.create_superuser(username="twice-admin", password=None, email="t@example.test")
    job = register.register_import_start(
        file=ContentFile(plain_csv(columns, rows), name="r.csv"), kind=ImportKind.FULL, by=user
    )
    with translation.override("en"):  # the job words its rejections in the language active when it runs
        assert register.run_import_job(job.pk) == "rejected"
    job = RegisterImport.objects.get(pk=job.pk)
    assert job.outcome == ImportOutcome.REJECTED
    assert job.rejections == [[32, f"record_id: {rows[4][0]} is already on line 6 of this file"]]
    assert not CriminalRecord.objects.exists()
