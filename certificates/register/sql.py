"""The register import's rules of a row as set-based SQL (PostgreSQL): the raw CSV loaded by COPY, checked in two queries.

_clean_row in certificates/register/rules.py is the rules in Python (SQLite, `make run`); this module states the same rules
as SQL expressions over a raw table of text cells, so PostgreSQL checks millions of rows in one pass instead of the
worker checking them one by one (docs/services.md#certificate-of-no-criminal-record). tests/services/test_register_sql.py feeds the
same rows to both and asserts the same rows accepted, with the same values, and the same lines refused.


The raw table it reads (`line`, then one text column per column of the file) is filled by raw.py. Most files hold only
simple rows (simple_rows_sql): one cheap scan shows it and they are loaded as they are; any other file is judged row
by row by checked_rows_sql.
"""

# ruff: noqa: S608 - every name put into this SQL is ours (columns c0…, a job's table); values are parameters

from __future__ import annotations

import contextlib
import functools
import unicodedata
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils.translation import gettext as _

from accounts import idnumber

from .rules import (
    ACTIONS,
    ACTIONS_WITHOUT_DATA,
    DELTA,
    MAX_AGE,
    MAX_SENTENCE_MONTHS,
    MIN_AGE,
    RECORD_ID_MAX,
    SEALED_VALUES,
    TEXT_LIMITS,
)
from .stage import STAGE_COLUMNS, _qn

# Python's csv module refuses a field longer than this (csv.field_size_limit()); COPY does not, so the SQL refuses
# such a row and the file is then read by Python for the same FileProblem.
CSV_FIELD_LIMIT = 131072
_ISO_DATE_RE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_RECORD_ID_RE = "^[A-Za-z0-9._:/-]+$"
# GB 11643-1999: the weight of the i-th of the 17 digits (2^(17-i) mod 11, i from 0), and the check character by weighted sum mod 11.
ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
ID_CHECK_BY_SUM = "10X98765432"
# The 17 digits of an ID number read once as a bigint `body` and taken apart by arithmetic (four times cheaper than 17
# substr() casts): the weighted sum of the check character, and the year, month and day of birth.
_ID_WEIGHTED_SUM = " + ".join(f"(body / {10 ** (16 - i)} %% 10) * {w}" for i, w in enumerate(ID_WEIGHTS))
_BIRTH_YEAR, _BIRTH_MONTH, _BIRTH_DAY = "(body / 10000000 %% 10000)", "(body / 100000 %% 100)", "(body / 1000 %% 100)"


# --- the characters Python's str methods treat specially, as SQL string arguments ----------------------------------


@functools.cache
def python_whitespace() -> str:
    """Every character str.strip() removes (str.isspace): btrim's second argument."""
    return "".join(ch for ch in map(chr, range(0x110000)) if ch.isspace())


@functools.cache
def id_translation() -> tuple[str, str]:
    """translate()'s arguments doing what idnumber.normalize does after NFKC: other scripts' decimal digits to ASCII
    (from[i] → to[i]), and whitespace, hyphens and format characters (Cf) deleted (the rest of `from`)."""
    digits_from, digits_to, deleted = [], [], []
    for code in range(0x110000):
        ch = chr(code)
        if 0xD800 <= code <= 0xDFFF:  # surrogates: not text in PostgreSQL
            continue
        digit = unicodedata.decimal(ch, None)
        if ch.isspace() or ch == "-" or unicodedata.category(ch) == "Cf":
            deleted.append(ch)
        elif digit is not None and not ch.isascii():
            digits_from.append(ch)
            digits_to.append(str(digit))
    return "".join(digits_from) + "".join(deleted), "".join(digits_to)


# --- the rules -----------------------------------------------------------------------------------------------------


def _valid_date(y: str, m: str, d: str) -> str:
    """SQL: y-m-d (integers, maybe NULL) is a real date of the proleptic Gregorian calendar, year 1 to 9999 (what
    datetime.date accepts; make_date would roll nothing over but raises, so it is only called once this holds)."""
    return (
        f"({y} BETWEEN 1 AND 9999 AND {m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND CASE WHEN {m} = 2 THEN "
        f"CASE WHEN ({y} %% 4 = 0 AND {y} %% 100 <> 0) OR {y} %% 400 = 0 THEN 29 ELSE 28 END "
        f"WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END)"
    )


def _whole_number(raw: str) -> str:
    """SQL: the cell's integer when it is ASCII digits only (a huge one capped: above every limit all the same)."""
    return (
        f"CASE WHEN {raw} ~ '^[0-9]+$' THEN CASE WHEN length(ltrim({raw}, '0')) > 9 THEN 1000000000 "
        f"ELSE {raw}::integer END END"
    )


def _literal(values: Iterable[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def checked_rows_sql(header: list[str], kind: str) -> str:
    """One SELECT over the raw table (%(raw)s is replaced by its name): every row with its cleaned values, the
    problem found in each column (NULL when none) and `ok`. Parameters: ws, id_from, id_to, today."""
    delta = kind == DELTA
    column = {name: f"c{i}" for i, name in enumerate(header)}

    def trimmed(name: str) -> str:
        return f"btrim(coalesce({column[name]}, ''), %(ws)s)" if name in column else "''"

    # A cell longer than Python's csv field limit makes Python refuse the file (see CSV_FIELD_LIMIT).
    overlong = " OR ".join(f"octet_length({cell}) > {CSV_FIELD_LIMIT}" for cell in column.values())
    level0 = (
        "SELECT line, "
        + (f"lower({trimmed('action')})" if delta else "'add'")
        + f" AS act, {trimmed('record_id')} AS rid, {trimmed('id_number')} AS idr, "
        + ", ".join(f"{trimmed(name)} AS {name}" for name in TEXT_LIMITS)
        + f", {trimmed('judgment_date')} AS jdr, {trimmed('sentence_months')} AS smr, "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
        f"{trimmed('age_at_offence')} AS ager, lower({trimmed('sealed_by_order')}) AS sealr, "
        f"CASE WHEN {overlong} THEN (SELECT max(length(c)) FROM unnest(ARRAY[{', '.join(column.values())}]) AS c) "
        f"> {CSV_FIELD_LIMIT} ELSE false END AS overlong "
        "FROM %(raw)s OFFSET 0"
    )
    # idnumber.normalize: ASCII letters and digits are only upper-cased; anything else goes through NFKC, other
    # scripts' digits become ASCII ones, whitespace, hyphens and format characters go.
    level1 = (
        "SELECT t0.*, CASE WHEN idr ~ '^[0-9A-Za-z]*$' THEN upper(idr) "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
        "ELSE upper(translate(normalize(idr, NFKC), %(id_from)s, %(id_to)s)) END AS idn, "
        f"jdr ~ '{_ISO_DATE_RE}' AS jdfmt, {_whole_number('smr')} AS smv, {_whole_number('ager')} AS agev "
        f"FROM ({level0}) AS t0 OFFSET 0"
    )
    level2 = (
        "SELECT t1.*, CASE WHEN idfmt THEN left(idn, 17)::bigint END AS body, "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
        "CASE WHEN jdfmt THEN substr(jdr, 1, 4)::integer END AS jy, "
        "CASE WHEN jdfmt THEN substr(jdr, 6, 2)::integer END AS jm, "
        "CASE WHEN jdfmt THEN substr(jdr, 9, 2)::integer END AS jd "
        "FROM (SELECT t1.*, idn ~ '^[0-9]{17}[0-9X]$' AS idfmt "
        f"FROM ({level1}) AS t1 OFFSET 0) AS t1 OFFSET 0"
    )
    level3 = (
        "SELECT t2.*, "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
        f"{_BIRTH_YEAR}::integer AS by, {_BIRTH_MONTH}::integer AS bm, {_BIRTH_DAY}::integer AS bd, "
        f"CASE WHEN idfmt THEN substr('{ID_CHECK_BY_SUM}', (({_ID_WEIGHTED_SUM}) %% 11)::integer + 1, 1) END AS chk, "
        f"CASE WHEN {_valid_date('jy', 'jm', 'jd')} THEN make_date(jy, jm, jd) END AS jdate "
        f"FROM ({level2}) AS t2 OFFSET 0"
    )
    level4 = (
        "SELECT t3.*, "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
        f"CASE WHEN idfmt AND {_valid_date('by', 'bm', 'bd')} THEN make_date(by, bm, bd) END AS birth "
        f"FROM ({level3}) AS t3 OFFSET 0"
    )
    # The first problem of the ID number, in idnumber.parse's order (its messages: idnumber.MESSAGES).
    id_problem = (
        "CASE WHEN idn = '' THEN 'required' WHEN idn ~ '^[0-9]{15}$' THEN 'old_number' "
        "WHEN length(idn) <> 18 THEN 'length' WHEN NOT idfmt THEN 'format' "
        f"WHEN left(idn, 2) IN ({_literal(idnumber.RESIDENCE_PERMIT_PREFIXES)}) THEN 'residence_permit' "
        f"WHEN left(idn, 2) NOT IN ({_literal(sorted(idnumber.MAINLAND_PROVINCES))}) THEN 'province' "
        "WHEN chk <> right(idn, 1) THEN 'checksum' WHEN birth IS NULL THEN 'birth_date' "
        "WHEN birth > %(today)s THEN 'future_birth_date' "
        f"WHEN by < {idnumber.MIN_BIRTH_YEAR} THEN 'implausible_birth_date' END"
    )
    texts = ", ".join(
        f"CASE WHEN {name} = '' THEN 'required' WHEN length({name}) > {limit} THEN 'long' END AS p_{name}"
        for name, limit in TEXT_LIMITS.items()
    )
    level5 = (
        "SELECT t4.*, "
        + (f"CASE WHEN act NOT IN ({_literal(ACTIONS)}) THEN 'unknown' END" if delta else "NULL::text")
        + " AS p_action, "
        f"CASE WHEN rid = '' THEN 'required' WHEN length(rid) > {RECORD_ID_MAX} THEN 'long' "
        f"WHEN rid !~ '{_RECORD_ID_RE}' THEN 'chars' END AS p_record_id, "
        f"act IN ({_literal(a for a in ACTIONS if a not in ACTIONS_WITHOUT_DATA)}) AS needs_data, "
        f"{id_problem} AS p_id_number, {texts}, "
        "CASE WHEN jdate IS NULL THEN 'format' WHEN jdate > %(today)s THEN 'future' END AS p_judgment_date, "
        f"CASE WHEN smv IS NULL THEN 'not_whole' WHEN smv > {MAX_SENTENCE_MONTHS} THEN 'range' "
        "END AS p_sentence_months, "
        f"CASE WHEN agev IS NULL THEN 'not_whole' WHEN agev < {MIN_AGE} OR agev > {MAX_AGE} THEN 'range' "
        "END AS p_age_at_offence, "
        f"CASE WHEN sealr NOT IN ({_literal(SEALED_VALUES)}) THEN 'unknown' END AS p_sealed_by_order "
        f"FROM ({level4}) AS t4 OFFSET 0"
    )
    # idnumber.age_on: completed years on the date of judgment.
    older = (
        "(p_id_number IS NULL AND jdate IS NOT NULL AND agev IS NOT NULL "
        "AND agev > jy - by - CASE WHEN (jm, jd) < (bm, bd) THEN 1 ELSE 0 END)"
    )
    data_ok = " AND ".join(
        [
            "p_id_number IS NULL",
            *(f"p_{name} IS NULL" for name in TEXT_LIMITS),
            "p_judgment_date IS NULL",
            "p_sentence_months IS NULL",
            "p_age_at_offence IS NULL",
            f"NOT {older}",
            "p_sealed_by_order IS NULL",
        ]
    )
    return (
        f"SELECT t5.*, {older} AS p_older, "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
        f"(NOT overlong AND p_action IS NULL AND p_record_id IS NULL AND (NOT needs_data OR ({data_ok}))) "
        f"AS ok FROM ({level5}) AS t5"
    )


def _not_space(code: str) -> str:
    """SQL: the character code `code` (ascii() of a cell's first or last character; 0 for an empty cell) is not
    whitespace to Python's str.strip(). Conservative: every code up to 32 counts as whitespace (the few control
    characters among them go the exact way)."""
    codes = sorted(ord(ch) for ch in python_whitespace() if ord(ch) > 32)
    return f"({code} > {codes[-1]} OR ({code} > 32 AND {code} NOT IN ({', '.join(map(str, codes))})))"


def simple_rows_sql(header: list[str], kind: str) -> str:
    """The fast way for the rows a register export normally holds: a SELECT over the raw table (%(raw)s) of `line`
    and `simple`: the row's cells are in the simple form and pass every rule of a row.

    The simple form needs no cleaning: no text cell has whitespace around it, the record id is of its allowed
    characters, the ID number is 17 ASCII digits and a digit or X, the date is YYYY-MM-DD in ASCII digits, the numbers
    are a few ASCII digits, the action (delta) and the sealed flag are written as _clean_row compares them. For such
    a row the rules of checked_rows_sql come down to a few integer comparisons and the cleaned values are the cells
    themselves (simple_values): `simple` implies that checked_rows_sql accepts the row with those values
    (tests/services/test_register_sql.py). Any other row is not simple and only checked_rows_sql judges it.
    Parameters: today_num (today as the integer YYYYMMDD)."""
    column = {name: f"c{i}" for i, name in enumerate(header)}
    rid, idr, jdr = column["record_id"], column["id_number"], column["judgment_date"]
    smr, ager = column["sentence_months"], column["age_at_offence"]
    # Regular expressions without counted repetition (PostgreSQL runs `x+` far faster than `x{17}`), the lengths
    # checked apart.
    guards = [
        f"octet_length({rid}) BETWEEN 1 AND {RECORD_ID_MAX}",
        f"{rid} ~ '{_RECORD_ID_RE}'",
        f"octet_length({idr}) = 18",
        f"{idr} ~ '^[0-9]+[0-9X]$'",
        f"{jdr} LIKE '____-__-__'",
        f"{jdr} ~ '^[0-9]+-[0-9]+-[0-9]+$'",
        f"octet_length({smr}) BETWEEN 1 AND 4",
        f"{smr} ~ '^[0-9]+$'",
        f"octet_length({ager}) BETWEEN 1 AND 3",
        f"{ager} ~ '^[0-9]+$'",
    ]
    for name, limit in TEXT_LIMITS.items():
        guards.append(f"length({column[name]}) <= {limit}")
        guards.append(_not_space(f"ascii({column[name]})"))
        guards.append(_not_space(f"ascii(right({column[name]}, 1))"))
    if kind == DELTA:
        guards.append(f"{column['action']} IN ({_literal(a for a in ACTIONS if a not in ACTIONS_WITHOUT_DATA)})")
    if "sealed_by_order" in column:
        guards.append(f"coalesce({column['sealed_by_order']}, '') IN ({_literal(SEALED_VALUES)})")
    # Level 0: whether the cells are in the simple form (NULL, an empty cell, is not); level 1 reads the numbers of
    # the rows that are, once; level 2 checks them.
    level0 = (
        f"SELECT line, {' AND '.join(f'({guard})' for guard in guards)} AS form, "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
        f"{idr} AS idr, {jdr} AS jdr, {smr} AS smr, {ager} AS ager FROM %(raw)s OFFSET 0"
    )
    level1 = (
        "SELECT line, idr, CASE WHEN form THEN left(idr, 17)::bigint END AS body, "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
        "CASE WHEN form THEN replace(jdr, '-', '')::integer END AS jnum, "
        "CASE WHEN form THEN smr::integer END AS smv, CASE WHEN form THEN ager::integer END AS agev "
        f"FROM ({level0}) AS s0 OFFSET 0"
    )
    by, bm, bd = _BIRTH_YEAR, _BIRTH_MONTH, _BIRTH_DAY
    jy, jm, jd = "(jnum / 10000)", "(jnum / 100 %% 100)", "(jnum %% 100)"
    checks = [
        f"left(idr, 2) IN ({_literal(sorted(idnumber.MAINLAND_PROVINCES))})",
        f"left(idr, 2) NOT IN ({_literal(idnumber.RESIDENCE_PERMIT_PREFIXES)})",
        f"substr('{ID_CHECK_BY_SUM}', (({_ID_WEIGHTED_SUM}) %% 11)::integer + 1, 1) = right(idr, 1)",
        _valid_date(by, bm, bd),
        "body / 1000 %% 100000000 <= %(today_num)s",
        f"{by} >= {idnumber.MIN_BIRTH_YEAR}",
        _valid_date(jy, jm, jd),
        "jnum <= %(today_num)s",
        f"smv <= {MAX_SENTENCE_MONTHS}",
        f"agev BETWEEN {MIN_AGE} AND {MAX_AGE}",
        # idnumber.age_on: completed years on the date of judgment
        f"agev <= {jy} - {by} - CASE WHEN jnum %% 10000 < body / 1000 %% 10000 THEN 1 ELSE 0 END",
    ]
    return (
        f"SELECT line, CASE WHEN body IS NOT NULL THEN {' AND '.join(checks)} ELSE false END AS simple "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
        f"FROM ({level1}) AS s1"
    )


def simple_values(header: list[str], kind: str) -> list[str]:
    """SQL: the staging row (STAGE_COLUMNS) of a simple row, straight from its cells."""
    column = {name: f"c{i}" for i, name in enumerate(header)}
    sealed = (
        f"coalesce({column['sealed_by_order']}, '') IN ({_literal(k for k, v in SEALED_VALUES.items() if v)})"
        if "sealed_by_order" in column
        else "false"
    )
    return [
        "line",
        column["action"] if kind == DELTA else "'add'",
        column["record_id"],
        column["id_number"],
        *(column[name] for name in TEXT_LIMITS if name != "sentence"),
        f"make_date(left({column['judgment_date']}, 4)::integer, substr({column['judgment_date']}, 6, 2)::integer, "
        f"right({column['judgment_date']}, 2)::integer)",
        column["sentence"],
        f"{column['sentence_months']}::integer",
        f"{column['age_at_offence']}::integer",
        sealed,
    ]


def _params(today) -> dict:
    id_from, id_to = id_translation()
    return {"ws": python_whitespace(), "id_from": id_from, "id_to": id_to, "today": today}


def _sql(header: list[str], kind: str, raw: str) -> str:
    # The raw table's name is ours (a job's primary key); it is put in by text, the values are parameters.
    return checked_rows_sql(header, kind).replace("%(raw)s", _qn(raw))


@contextlib.contextmanager
def _without_jit():
    """A transaction in which PostgreSQL does not compile these queries' long expressions to machine code: compiling
    them (in each parallel worker too) takes seconds, more than it saves."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield


def all_simple(header: list[str], kind: str, raw: str, today) -> bool:
    """Whether every row of the raw table is simple (simple_rows_sql): one scan, which PostgreSQL may share among
    parallel workers, stopping at the first row that is not."""
    sql = simple_rows_sql(header, kind).replace("%(raw)s", _qn(raw))
    with _without_jit(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT NOT EXISTS (SELECT 1 FROM ({sql}) AS s WHERE NOT simple)",  # noqa: S608  # nosec B608 - our quoted names; values are parameters
            {"today_num": int(today.strftime("%Y%m%d"))},
        )
        return cursor.fetchone()[0]


def insert_simple(header: list[str], kind: str, raw: str, stage: str) -> int:
    """Every row of the raw table, all of them simple (all_simple), into the staging table as they are."""
    columns = ", ".join(STAGE_COLUMNS)
    with _without_jit(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_qn(stage)} ({columns}) SELECT {', '.join(simple_values(header, kind))} "  # noqa: S608 - our names  # nosec B608
            f"FROM {_qn(raw)}"
        )
        return cursor.rowcount


def insert_checked(header: list[str], kind: str, raw: str, stage: str, today) -> int:
    """The good rows of the raw table, cleaned, into the staging table (STAGE_COLUMNS); returns how many.

    When every row is simple (the usual export) they go in as they are, after one cheap check; otherwise every row
    is judged by checked_rows_sql."""
    if all_simple(header, kind, raw, today):
        return insert_simple(header, kind, raw, stage)
    return insert_judged(header, kind, raw, stage, today)


def insert_judged(header: list[str], kind: str, raw: str, stage: str, today) -> int:
    """The rows of the raw table that checked_rows_sql accepts, cleaned, into the staging table."""
    data = "CASE WHEN needs_data THEN {} END"
    values = [
        "line",
        "act",
        "rid",
        data.format("idn"),
        *(data.format(name) for name in TEXT_LIMITS if name != "sentence"),
        data.format("jdate"),
        data.format("sentence"),
        data.format("smv"),
        data.format("agev"),
        f"needs_data AND sealr IN ({_literal(k for k, v in SEALED_VALUES.items() if v)})",
    ]
    columns = ", ".join(STAGE_COLUMNS)
    with _without_jit(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_qn(stage)} ({columns}) SELECT {', '.join(values)} "  # noqa: S608 - our names  # nosec B608
            f"FROM ({_sql(header, kind, raw)}) AS c WHERE ok",
            _params(today),
        )
        return cursor.rowcount


def rejected_rows(header: list[str], kind: str, raw: str, today, limit: int) -> tuple[list[tuple[int, str]], bool]:
    """([(line, reason)] of the first `limit` refused rows, worded as _clean_row words them; whether a cell is longer
    than Python's csv reads (the file is then to be read by Python for its FileProblem))."""
    sql = _sql(header, kind, raw)
    with _without_jit(), connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM ({sql}) AS c WHERE overlong)", _params(today))  # noqa: S608  # nosec B608 - our quoted names; values are parameters
        if cursor.fetchone()[0]:
            return [], True
        cursor.execute(f"SELECT * FROM ({sql}) AS c WHERE NOT ok ORDER BY line LIMIT {int(limit)}", _params(today))  # noqa: S608  # nosec B608 - our quoted names; values are parameters
        names = [d[0] for d in cursor.description]
        return [_reason(dict(zip(names, row, strict=True))) for row in cursor.fetchall()], False


def _reason(row: dict) -> tuple[int, str]:
    """The SQL's verdict on one row, in _clean_row's words and order."""
    problems = []
    if row["p_action"]:
        problems.append(
            _("action: “%(value)s” is not one of %(actions)s")
            % {"value": row["act"][:20], "actions": ", ".join(ACTIONS)}
        )
    if row["p_record_id"] == "required":
        problems.append(_("%(column)s: required") % {"column": "record_id"})
    elif row["p_record_id"] == "long":
        problems.append(
            _("%(column)s: longer than %(limit)d characters") % {"column": "record_id", "limit": RECORD_ID_MAX}
        )
    elif row["p_record_id"] == "chars":
        problems.append(_("record_id: only letters A-Z, digits and - _ . : / are allowed"))
    if row["needs_data"] and not row["p_action"]:
        problems += _data_reasons(row)
    return row["line"], "; ".join(problems)


def _data_reasons(row: dict) -> list[str]:
    problems = []
    id_problem = row["p_id_number"]
    if id_problem:
        number = row["idn"]
        params = {
            "length": {"count": len(number)},
            "province": {"code": number[:2]},
            "birth_date": {"date": f"{number[6:10]}-{number[10:12]}-{number[12:14]}"},
            "future_birth_date": {"date": row["birth"].isoformat() if row["birth"] else ""},
            "implausible_birth_date": {"date": row["birth"].isoformat() if row["birth"] else ""},
        }.get(id_problem, {})
        message = idnumber.MESSAGES[id_problem]
        problems.append(_("id_number: %(error)s") % {"error": str(message) % params if params else str(message)})
    for name, limit in TEXT_LIMITS.items():
        if row[f"p_{name}"] == "required":
            problems.append(_("%(column)s: required") % {"column": name})
        elif row[f"p_{name}"] == "long":
            problems.append(_("%(column)s: longer than %(limit)d characters") % {"column": name, "limit": limit})
    if row["p_judgment_date"] == "format":
        problems.append(
            _("judgment_date: “%(value)s” is not a date in the form YYYY-MM-DD") % {"value": row["jdr"][:20]}
        )
    elif row["p_judgment_date"] == "future":
        problems.append(_("judgment_date: %(date)s is in the future") % {"date": row["jdate"].isoformat()})
    for name, raw, low, high in (
        ("sentence_months", row["smr"], 0, MAX_SENTENCE_MONTHS),
        ("age_at_offence", row["ager"], MIN_AGE, MAX_AGE),
    ):
        if row[f"p_{name}"] == "not_whole":
            problems.append(_("%(column)s: “%(value)s” is not a whole number") % {"column": name, "value": raw[:20]})
        elif row[f"p_{name}"] == "range":
            problems.append(
                _("%(column)s: %(value)s is outside %(low)d to %(high)d")
                % {"column": name, "value": raw, "low": low, "high": high}
            )
    if row["p_older"]:
        problems.append(
            _("age_at_offence: %(age)d is older than the person was on the date of judgment")
            % {"age": int(row["ager"])}
        )
    if row["p_sealed_by_order"]:
        problems.append(_("sealed_by_order: “%(value)s” is not 0 or 1") % {"value": row["sealr"][:20]})
    return problems
