"""The simple rows of a full import, recognised in Python as the worker reads the file, so that PostgreSQL's COPY can
load a plain file straight into the register-shaped staging table (jobs._load_pg_direct), with no raw table and no
check in SQL afterwards.

A row is simple when its cells need no cleaning and pass every rule of a row: no text cell has whitespace around
it, the record id is of its allowed characters, the ID number is 17 ASCII digits and a digit or X (a valid one), the
date is YYYY-MM-DD in ASCII digits (a real one, not in the future), the numbers are a few ASCII digits within their
ranges, the sealed flag (if the file has the column) is written as _clean_row compares it and PostgreSQL's boolean
input reads it. For such a row _clean_row gives exactly the cells themselves as the cleaned values, and PostgreSQL's
input of each cell into the register's column type gives that same value; so COPY of the cells stores what the rules
would (tests/services/test_register_sql.py proves SimpleRows never accepts a row _clean_row refuses or cleans into
other values). A chunk holding any other row is not loaded this way: the file then goes the general way (a raw table
checked row by row in SQL, certificates/register/sql.py), which reports every refused row as _clean_row words it.

This is the same idea as sql.simple_rows_sql, in the worker instead of the database, where it costs a few times less:
chunk() checks a column of cells at a time with loops that run in C (about 2 us a row; the SQL check took 15-20),
and raw.copy_direct runs it on the next chunk while PostgreSQL loads the one before.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable
from itertools import repeat
from operator import add, itemgetter, le

from accounts import idnumber

from .rules import FULL_COLUMNS, MAX_AGE, MAX_SENTENCE_MONTHS, MIN_AGE, RECORD_ID_MAX, TEXT_LIMITS

_RECORD_ID = re.compile(r"[A-Za-z0-9._:/-]+")
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS = re.compile(r"[0-9]+")
# The same, for a column of cells joined by newlines (no cell holds one)
_RECORD_IDS = re.compile(rb"[A-Za-z0-9._:/-]+(?:\n[A-Za-z0-9._:/-]+)*")
_ID_NUMBERS = re.compile(rb"[0-9]{17}[0-9X](?:\n[0-9]{17}[0-9X])*")
_MONTH = re.compile(rb"[0-9]{1,4}")
_AGE = re.compile(rb"[0-9]{1,3}")
_PROVINCES = {code.encode() for code in idnumber.MAINLAND_PROVINCES - set(idnumber.RESIDENCE_PERMIT_PREFIXES)}


@functools.cache
def _spaces() -> tuple[bytes, bytes, re.Pattern]:
    """Python's whitespace (str.strip) in UTF-8, for bytes.translate and a search: the bytes that can begin one (to
    delete all others), the ASCII ones bar the line ends (to delete all others), and a pattern of the others."""
    wide = [chr(code).encode() for code in range(128, 0x110000) if chr(code).isspace()]
    ascii_spaces = {code for code in range(128) if chr(code).isspace() and chr(code) not in "\r\n"}
    starts = ascii_spaces | {encoded[0] for encoded in wide}
    return (
        bytes(code for code in range(256) if code not in starts),
        bytes(code for code in range(256) if code not in ascii_spaces),
        re.compile(b"|".join(map(re.escape, wide))),
    )


_ELEVEN, _TEN_THOUSAND = 11, 10000
_BIRTH_DATE = itemgetter(slice(6, 14))  # YYYYMMDD of an ID number
# Sealed flags _clean_row reads without cleaning, with the value PostgreSQL's boolean input gives them too (an empty
# cell is left out: COPY would read it as NULL).
SIMPLE_SEALED = {"0": False, "1": True, "false": False, "true": True, "no": False, "yes": True}
_SEALED_BYTES = {value.encode() for value in SIMPLE_SEALED}
_CACHE_LIMIT = 100_000  # dates remembered (a register holds a few tens of thousands of distinct ones)


def _remembered(known: dict[str | bytes, bool], cell: str | bytes, check: Callable[[str | bytes], bool]) -> bool:
    """check(cell), looked up in `known` first and kept there while it holds fewer than _CACHE_LIMIT cells."""
    ok = known.get(cell)
    if ok is None:
        ok = check(cell)
        if len(known) < _CACHE_LIMIT:
            known[cell] = ok
    return ok


class SimpleRows:
    """The check of a full import's rows for `header` (the file's column names, in order) on `today`."""

    def __init__(self, header: list[str], today: datetime.date):
        if set(header) - {*FULL_COLUMNS, "sealed_by_order"}:
            raise ValueError(f"not a full import's header: {header}")
        self.width = len(header)
        at = {name: i for i, name in enumerate(header)}
        self.record_id, self.id_number = at["record_id"], at["id_number"]
        self.judgment_date, self.sentence_months, self.age = (
            at["judgment_date"],
            at["sentence_months"],
            at["age_at_offence"],
        )
        self.texts = tuple((at[name], limit) for name, limit in TEXT_LIMITS.items())
        self.sealed = at.get("sealed_by_order")
        self.today = today
        self.births: dict[str | bytes, bool] = {}  # YYYYMMDD of an ID number: a birth date parse() accepts
        self.dates: dict[str | bytes, bool] = {}  # a judgment date cell: a date not in the future
        self.good_births: set[bytes] = set()  # the same, for chunk(): the cells known good
        self.good_dates: set[bytes] = set()

    def _birth_ok(self, digits: str | bytes) -> bool:
        try:
            birth = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            return False
        return birth <= self.today and birth.year >= idnumber.MIN_BIRTH_YEAR

    def _date_ok(self, cell: str | bytes) -> bool:
        if isinstance(cell, bytes):
            cell = cell.decode("ascii", "replace")  # not ASCII: not a date _ISO_DATE takes either way
        if not _ISO_DATE.fullmatch(cell):
            return False
        try:
            return datetime.date.fromisoformat(cell) <= self.today
        except ValueError:
            return False

    def row(self, cells: list[str]) -> bool:
        """Whether the row (its cells as Python's csv reads them) is simple."""
        if len(cells) != self.width:
            return False
        record_id = cells[self.record_id]
        if len(record_id) > RECORD_ID_MAX or not _RECORD_ID.fullmatch(record_id):
            return False
        number = cells[self.id_number]
        if not _ID_NUMBER.fullmatch(number):
            return False
        if number[:2] not in idnumber.MAINLAND_PROVINCES or number[:2] in idnumber.RESIDENCE_PERMIT_PREFIXES:
            return False
        if idnumber.check_character(number[:17]) != number[17]:
            return False
        birth = number[6:14]
        if not _remembered(self.births, birth, self._birth_ok):
            return False
        for i, limit in self.texts:
            value = cells[i]
            if not value or len(value) > limit or value[0].isspace() or value[-1].isspace():
                return False
        judged = cells[self.judgment_date]
        if not _remembered(self.dates, judged, self._date_ok):
            return False
        months, age = cells[self.sentence_months], cells[self.age]
        if len(months) > 4 or len(age) > 3 or not _DIGITS.fullmatch(months) or not _DIGITS.fullmatch(age):
            return False
        if int(months) > MAX_SENTENCE_MONTHS:
            return False
        age_value = int(age)
        if not MIN_AGE <= age_value <= MAX_AGE:
            return False
        # idnumber.age_on: completed years on the date of judgment (MMDD compared as text: same width, digits)
        completed = int(judged[:4]) - int(birth[:4]) - ((judged[5:7] + judged[8:10]) < birth[4:])
        if age_value > completed:
            return False
        return self.sealed is None or cells[self.sealed] in SIMPLE_SEALED

    def chunk(self, data: bytes) -> bool:
        """Whether every line of `data` (whole lines of a plain file, see raw.py: no quotes, so a comma always
        separates cells and a line is a record) is a simple row: what row() says of each, checked a column at a time
        on the bytes by loops that run in C (several times faster than row() line by line). Bytes that are not
        UTF-8 are not checked here: COPY refuses them, and the file then goes the general way."""
        # Lines end all in CRLF or all in LF (COPY refuses a mix too): split where they end, with no copy of the
        # chunk to turn one into the other.
        newline = b"\n"
        if b"\r" in data:
            newline = b"\r\n"
            ends = data.count(newline)
            if data.count(b"\r") != ends or data.count(b"\n") != ends:
                return False
        if data.endswith(newline):
            data = data[: -len(newline)]
        if not data:
            return True
        lines = data.split(newline)
        if set(map(bytes.count, lines, repeat(b","))) != {self.width - 1}:
            return False
        longest_line = max(map(len, lines))
        cells = data.replace(newline, b",").split(b",")
        # No cell of a simple row is empty (each column's rule below refuses an empty cell): one look at them all.
        if b"" in cells:
            return False
        width = self.width

        def column(i: int) -> list[bytes]:
            return cells[i::width]

        record_ids = column(self.record_id)
        if not _RECORD_IDS.fullmatch(b"\n".join(record_ids)) or max(map(len, record_ids)) > RECORD_ID_MAX:
            return False
        numbers = column(self.id_number)
        joined = b"\n".join(numbers)
        if not _ID_NUMBERS.fullmatch(joined):
            return False
        if not {number[:2] for number in numbers} <= _PROVINCES:
            return False
        # GB 11643-1999: the 18 characters read in base 13 (13 = 2 mod 11, X as A, ten) are 1 modulo 11
        # (idnumber.check_character).
        if set(map(_ELEVEN.__rmod__, map(int, joined.replace(b"X", b"A").split(b"\n"), repeat(13)))) != {1}:
            return False
        births = list(map(_BIRTH_DATE, numbers))
        if not self._all_good(self.good_births, set(births), self._birth_ok):
            return False
        # Whitespace around a text cell: looked for cell by cell only when the chunk has any whitespace at all.
        # (first the bytes that can begin one, by a C loop; the exact search only if there are any)
        not_start, not_ascii_space, wide = _spaces()
        spaced = bool(data.translate(None, not_start)) and (
            bool(data.translate(None, not_ascii_space)) or wide.search(data) is not None
        )
        for i, limit in self.texts:
            # No cell is empty (above); a line no longer than the limit (in bytes, at least as many as characters)
            # holds no cell that is.
            if longest_line <= limit and not spaced:
                continue
            values = column(i)
            if max(map(len, values)) > limit or spaced:
                try:
                    texts = [value.decode() for value in values]
                except UnicodeDecodeError:
                    return False
                if max(map(len, texts)) > limit or list(map(str.strip, texts)) != texts:
                    return False
        # A column of few distinct values (dates, sentences, ages) is judged a distinct value at a time, and each row
        # then looks its value up.
        dates = column(self.judgment_date)
        distinct_dates = set(dates)
        if not self._all_good(self.good_dates, distinct_dates, self._date_ok):
            return False
        months = set(column(self.sentence_months))
        if not all(map(_MONTH.fullmatch, months)) or max(map(int, months)) > MAX_SENTENCE_MONTHS:
            return False
        ages = column(self.age)
        distinct_ages = set(ages)
        if not all(map(_AGE.fullmatch, distinct_ages)):
            return False
        age_of = {age: int(age) for age in distinct_ages}
        if min(age_of.values()) < MIN_AGE or max(age_of.values()) > MAX_AGE:
            return False
        # idnumber.age_on(birth, judged) >= age, i.e. birth + age years <= judged, as YYYYMMDD integers.
        day_of = {date: int(date.replace(b"-", b"")) for date in distinct_dates}
        reached = map(add, map(int, births), map(_TEN_THOUSAND.__mul__, map(age_of.__getitem__, ages)))
        if not all(map(le, reached, map(day_of.__getitem__, dates))):
            return False
        return self.sealed is None or set(column(self.sealed)) <= _SEALED_BYTES

    @staticmethod
    def _all_good(good: set, values: set, judge) -> bool:
        """Whether judge(value) holds for every value; those known good (`good`, added to) are skipped by one set
        operation, in C."""
        for value in values.difference(good):
            if not judge(value):
                return False
            if len(good) < _CACHE_LIMIT:
                good.add(value)
        return True
