"""The criminal-record register: the automatic check by ID number, and its imports, run as jobs by the worker.

An administrator uploads a CSV; the file is stored privately with its SHA-256 and a RegisterImport job is queued
(register_import_start). The worker (run_import_job) checks the stored file against its SHA-256, streams the rows
into a staging table, chunk by chunk, reporting progress and looking for a cancellation between chunks: on SQLite
each row through _clean_row, on PostgreSQL the raw CSV by COPY, then every row checked in SQL by the same rules
(certificates/register_sql.py; tests/services/test_register_sql.py proves the two equal), then checks what only the whole file shows (a record id
twice; a change to a record the register lacks) and puts the result in place in one transaction:

- a full import replaces the register. On PostgreSQL the staging table is a copy of the register's table (loaded
  with COPY, its indexes built afterwards) and the swap drops the old table and renames the new one into place: the
  officers' checks read the old register until that moment and wait only for the rename. Elsewhere (SQLite, `make
  run`) the swap deletes and inserts in one transaction.
- a delta import applies add / correct / seal / remove by record id in one transaction.

Any bad row, a cancellation or a crash before that transaction leaves the register exactly as it was. The open
applications whose check result changed get a timeline entry, written in the same transaction.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import hashlib
import io
import logging
import re
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import idnumber
from portal.cases.models import Transition

from . import register_sql
from .models import (
    REGISTER_OPEN_STATUSES,
    Application,
    CriminalRecord,
    ImportKind,
    ImportOutcome,
    ImportPhase,
    RegisterImport,
)

logger = logging.getLogger("certificates.register")

CSV_COLUMNS = (
    "id_number",
    "name",
    "offence",
    "court",
    "judgment_date",
    "sentence",
    "sentence_months",
    "age_at_offence",
)
FULL_COLUMNS = ("record_id", *CSV_COLUMNS)
FULL_OPTIONAL_COLUMNS = ("sealed_by_order",)
DELTA_COLUMNS = ("action", "record_id", *CSV_COLUMNS)
ACTIONS = ("add", "correct", "seal", "remove")
ACTIONS_WITHOUT_DATA = ("seal", "remove")  # only the record id is needed (the other cells may be empty)
TEXT_LIMITS = {"name": 60, "offence": 200, "court": 200, "sentence": 200}
RECORD_ID_MAX = 64
RECORD_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:/")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SEALED_VALUES = {"": False, "0": False, "1": True, "false": False, "true": True, "no": False, "yes": True}
MAX_SENTENCE_MONTHS = 1200  # life imprisonment is recorded as 1200 months; more is a typing error
MIN_AGE, MAX_AGE = 12, 120  # criminal responsibility in the PRC starts at 12 at the earliest
MAX_REJECTIONS_LISTED = 500  # a badly wrong file should not produce a page of a million lines
MAX_CHANGED_CASES_LISTED = 1000
SNAPSHOT_BATCH = 500  # ID numbers per query when the register is looked up for the open applications
READ_BUFFER = 1 << 20
# All imports run one at a time (PostgreSQL advisory lock, held by the running import's session).
IMPORT_LOCK_KEY = 0x4E435252  # "NCRR"
STAGE_PREFIX = "ncr_register_stage_"
# The columns of a staging row, in order: what _stage_row makes and the staging table holds.
STAGE_COLUMNS = (
    "line",
    "action",
    "record_id",
    "id_number",
    "name",
    "offence",
    "court",
    "judgment_date",
    "sentence",
    "sentence_months",
    "age_at_offence",
    "sealed_by_order",
)
DATA_COLUMNS = STAGE_COLUMNS[2:]  # the register's own columns among them
LIVE_TABLE = CriminalRecord._meta.db_table
DELTA = str(ImportKind.DELTA)  # a plain string: compared once per row


def register_matches(*, id_number: str) -> list[CriminalRecord]:
    """Every record for exactly this ID number (normalised), oldest judgment first; [] for an empty number."""
    number = idnumber.normalize(id_number)
    if not number:
        return []
    return list(CriminalRecord.objects.filter(id_number=number).order_by("judgment_date", "pk"))


def register_blocking(records) -> list[CriminalRecord]:
    """The records that prevent the certificate: every one that is not sealed."""
    return [record for record in records if not record.sealed]


# --- one row -----------------------------------------------------------------------------------------------------


def _clean_row(row: dict, today: datetime.date, *, kind: str = ImportKind.FULL) -> dict:
    """One CSV row to register fields (with `action`); ValidationError with a message naming each bad column.

    The one implementation of the rules of a row, for full and delta imports alike. A delta row that seals or
    removes a record needs its record id only.
    """
    get = row.get
    problems = []
    action = "add"
    if kind == DELTA:
        action = (get("action") or "").strip().lower()
        if action not in ACTIONS:
            problems.append(
                _("action: “%(value)s” is not one of %(actions)s")
                % {"value": action[:20], "actions": ", ".join(ACTIONS)}
            )
    record_id = (get("record_id") or "").strip()
    if not record_id:
        problems.append(_("%(column)s: required") % {"column": "record_id"})
    elif len(record_id) > RECORD_ID_MAX:
        problems.append(
            _("%(column)s: longer than %(limit)d characters") % {"column": "record_id", "limit": RECORD_ID_MAX}
        )
    elif not RECORD_ID_CHARS.issuperset(record_id):
        problems.append(_("record_id: only letters A-Z, digits and - _ . : / are allowed"))
    if action in ACTIONS_WITHOUT_DATA or action not in ACTIONS:  # no data needed, or no telling what is needed
        if problems:
            raise ValidationError("; ".join(problems))
        return {"action": action, "record_id": record_id}

    number = birth = None
    try:
        info = idnumber.parse((get("id_number") or "").strip(), today=today, county_check=False)
    except ValidationError as exc:
        problems.append(_("id_number: %(error)s") % {"error": " ".join(exc.messages)})
    else:
        number, birth = info.number, info.birth_date
    texts = {}
    for name, limit in TEXT_LIMITS.items():
        value = texts[name] = (get(name) or "").strip()
        if not value:
            problems.append(_("%(column)s: required") % {"column": name})
        elif len(value) > limit:
            problems.append(_("%(column)s: longer than %(limit)d characters") % {"column": name, "limit": limit})
    raw_date = (get("judgment_date") or "").strip()
    try:
        # Exactly YYYY-MM-DD in ASCII digits (fromisoformat alone also takes 20150601 and week dates).
        if not ISO_DATE.fullmatch(raw_date):
            raise ValueError(raw_date)
        judgment_date = datetime.date.fromisoformat(raw_date)
    except ValueError:
        judgment_date = None
        problems.append(_("judgment_date: “%(value)s” is not a date in the form YYYY-MM-DD") % {"value": raw_date[:20]})
    else:
        if judgment_date > today:
            problems.append(_("judgment_date: %(date)s is in the future") % {"date": judgment_date.isoformat()})
    integers = {}
    for name, low, high in (("sentence_months", 0, MAX_SENTENCE_MONTHS), ("age_at_offence", MIN_AGE, MAX_AGE)):
        raw = (get(name) or "").strip()
        if not raw.isascii() or not raw.isdigit():
            problems.append(_("%(column)s: “%(value)s” is not a whole number") % {"column": name, "value": raw[:20]})
            continue
        value = integers[name] = int(raw)
        if not low <= value <= high:
            problems.append(
                _("%(column)s: %(value)s is outside %(low)d to %(high)d")
                % {"column": name, "value": raw, "low": low, "high": high}
            )
    if birth and judgment_date and "age_at_offence" in integers:
        if integers["age_at_offence"] > idnumber.age_on(birth, judgment_date):
            problems.append(
                _("age_at_offence: %(age)d is older than the person was on the date of judgment")
                % {"age": integers["age_at_offence"]}
            )
    sealed = (get("sealed_by_order") or "").strip().lower()
    if sealed not in SEALED_VALUES:
        problems.append(_("sealed_by_order: “%(value)s” is not 0 or 1") % {"value": sealed[:20]})
    if problems:
        raise ValidationError("; ".join(problems))
    return {
        "action": action,
        "record_id": record_id,
        "id_number": number,
        **texts,
        "judgment_date": judgment_date,
        **integers,
        "sealed_by_order": SEALED_VALUES[sealed],
    }


def _stage_row(line: int, clean: dict) -> tuple:
    get = clean.get
    return (
        line,
        clean["action"],
        clean["record_id"],
        get("id_number"),
        get("name"),
        get("offence"),
        get("court"),
        get("judgment_date"),
        get("sentence"),
        get("sentence_months"),
        get("age_at_offence"),
        bool(get("sealed_by_order")),
    )


# --- reading the stored file ---------------------------------------------------------------------------------------


class FileProblem(Exception):
    """The file as a whole cannot be read (encoding, CSV syntax, header); the message is for the administrator."""


class ImportCancelled(Exception):
    pass


class _Rejected(Exception):
    """Rejections found by a check of the whole file (inside the transaction that would have applied it)."""


class _CountingReader(io.RawIOBase):
    """The stored file's bytes, counted as they are read (the progress bar's position)."""

    def __init__(self, handle, scan=None):
        self.handle = handle
        self.count = 0
        self.scan = scan  # a register_sql.FileScan fed every byte read, if given

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.handle.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        if self.scan is not None:
            self.scan.update(data)
        return size

    def drain(self):
        """Read what is left (for the SHA-256 of the whole file)."""
        while self.handle and self.readinto(bytearray(READ_BUFFER)):
            pass


def expected_columns(kind: str) -> tuple[tuple, tuple]:
    return (DELTA_COLUMNS, ()) if kind == ImportKind.DELTA else (FULL_COLUMNS, FULL_OPTIONAL_COLUMNS)


def iter_rows(binary, kind: str):
    """(line, row dict) for every row of a UTF-8 CSV (with or without BOM), row None when its column count is wrong.

    Streams: one row in memory at a time. Blank lines are skipped. FileProblem for a bad header, encoding or syntax.
    """
    header, records = iter_records(binary, kind)
    width = len(header)
    for line, values in records:
        yield line, (dict(zip(header, values, strict=True)) if len(values) == width else None)


def header_problem(header: list[str], kind: str) -> FileProblem | None:
    """The FileProblem of a header (the column names, stripped) that does not name the kind's columns, else None."""
    required, optional = expected_columns(kind)
    if sorted(set(header) - set(optional)) != sorted(required) or len(set(header)) != len(header):
        return FileProblem(
            _("The first line must name the columns %(expected)s; it names %(found)s.")
            % {"expected": ",".join(required), "found": ",".join(header) or _("nothing")}
        )
    return None


def iter_records(binary, kind: str):
    """(header, records): the column names, and (line, values) for every non-blank row, as Python's csv reads them.

    The header is read at once (FileProblem if it is wrong); the records stream, with FileProblem for a bad
    encoding or CSV syntax.
    """
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = [name.strip() for name in next(reader, [])]
    except UnicodeDecodeError:
        text.detach()
        raise FileProblem(
            _("The file is not UTF-8 text (near line %(line)d). Save it as “CSV UTF-8” and try again.") % {"line": 2}
        ) from None
    except csv.Error as exc:
        text.detach()
        raise FileProblem(
            _("The file is not valid CSV near line %(line)d: %(error)s") % {"line": reader.line_num, "error": exc}
        ) from None
    problem = header_problem(header, kind)
    if problem:
        text.detach()
        raise problem
    return header, _records(text, reader)


def _records(text, reader):
    line = 1
    try:
        for values in reader:
            line = reader.line_num  # the physical line (1 is the header), as a spreadsheet shows it
            if values:
                yield line, values
    except UnicodeDecodeError:
        raise FileProblem(
            _("The file is not UTF-8 text (near line %(line)d). Save it as “CSV UTF-8” and try again.")
            % {"line": line + 1}
        ) from None
    except csv.Error as exc:
        raise FileProblem(
            _("The file is not valid CSV near line %(line)d: %(error)s") % {"line": reader.line_num, "error": exc}
        ) from None
    finally:
        text.detach()


def file_sha256(handle) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(READ_BUFFER):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


# --- the staging table -----------------------------------------------------------------------------------------


def stage_table_name(job_id: int) -> str:
    return f"{STAGE_PREFIX}{int(job_id)}"


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _pg() -> bool:
    return connection.vendor == "postgresql"


class Stage:
    """The staging table of one job: created, filled chunk by chunk, checked, then swapped in or applied; dropped.

    On PostgreSQL a full import stages into a table shaped like the register itself (so it can become the register)
    with `line` and `action` columns that are dropped before the swap; every other case uses a plain table of the
    staging columns.
    """

    def __init__(self, job: RegisterImport):
        self.job = job
        self.name = stage_table_name(job.pk)
        self.live_shaped = _pg() and job.kind == ImportKind.FULL
        self.rows = 0
        self.swapped = False  # renamed into place: it is the register now

    def create(self):
        table = _qn(self.name)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            if self.live_shaped:
                cursor.execute(
                    f"CREATE TABLE {table} (LIKE {_qn(LIVE_TABLE)} INCLUDING DEFAULTS INCLUDING IDENTITY "
                    "INCLUDING CONSTRAINTS)"
                )
                cursor.execute(
                    f"ALTER TABLE {table} ADD COLUMN line integer, ADD COLUMN action varchar(16), "
                    "ALTER COLUMN imported_at SET DEFAULT %s, ALTER COLUMN import_batch SET DEFAULT %s",
                    [timezone.now(), self.job.batch],
                )
                # New primary keys after the old register's: an address of an old record never shows a new one.
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {_qn(LIVE_TABLE)}")  # noqa: S608  # nosec B608 - our quoted names; values are parameters
                cursor.execute(f"ALTER TABLE {table} ALTER COLUMN id RESTART WITH {int(cursor.fetchone()[0])}")
            else:
                cursor.execute(
                    f"CREATE TABLE {table} (line integer NOT NULL, action varchar(16) NOT NULL, "
                    "record_id varchar(64) NOT NULL, id_number varchar(18) NULL, name varchar(60) NULL, "
                    "offence varchar(200) NULL, court varchar(200) NULL, judgment_date date NULL, "
                    "sentence varchar(200) NULL, sentence_months integer NULL, age_at_offence integer NULL, "
                    "sealed_by_order boolean NOT NULL)"
                )

    def write(self, rows: list[tuple]):
        if not rows:
            return
        columns = ", ".join(STAGE_COLUMNS)
        with connection.cursor() as cursor:
            if _pg():
                buffer = io.StringIO()
                csv.writer(buffer, lineterminator="\n").writerows(rows)
                buffer.seek(0)
                cursor.cursor.copy_expert(
                    f"COPY {_qn(self.name)} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer, size=READ_BUFFER
                )
            else:
                marks = ", ".join(["%s"] * len(STAGE_COLUMNS))
                cursor.executemany(f"INSERT INTO {_qn(self.name)} ({columns}) VALUES ({marks})", rows)  # noqa: S608  # nosec B608 - our quoted names; values are parameters
        self.rows += len(rows)

    def drop(self):
        with connection.cursor() as cursor:
            if _pg():
                cursor.execute(f"DROP TABLE IF EXISTS {_qn(register_sql.raw_table_name(self.job.pk))}")
            if not self.swapped:
                cursor.execute(f"DROP TABLE IF EXISTS {_qn(self.name)}")

    # Checks of the whole file --------------------------------------------------------------------------------

    def duplicate_record_ids(self, limit: int) -> tuple[list[tuple[int, str]], int]:
        """Rows whose record id an earlier row of the file already has."""
        sql = (
            f"SELECT line, record_id, first FROM (SELECT line, record_id, "  # noqa: S608 - table name is ours  # nosec B608
            f"MIN(line) OVER (PARTITION BY record_id) AS first FROM {_qn(self.name)}) AS t WHERE line > first"
        )
        return self._rejections(
            sql,
            lambda line, record_id, first: (
                line,
                _("record_id: %(id)s is already on line %(first)d of this file") % {"id": record_id, "first": first},
            ),
            limit,
        )

    def delta_conflicts(self, limit: int) -> tuple[list[tuple[int, str]], int]:
        """Adds of a record id the register has; corrections, seals and removals of one it lacks."""
        stage, live = _qn(self.name), _qn(LIVE_TABLE)
        sql = (
            f"SELECT s.line, s.record_id, s.action, l.id FROM {stage} s LEFT JOIN {live} l "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
            "ON l.record_id = s.record_id WHERE (s.action = 'add' AND l.id IS NOT NULL) "
            "OR (s.action <> 'add' AND l.id IS NULL)"
        )

        def reason(line, record_id, action, live_id):
            if action == "add":
                return line, _("record_id: %(id)s is already in the register (use “correct”)") % {"id": record_id}
            return line, _("record_id: %(id)s is not in the register") % {"id": record_id}

        return self._rejections(sql, reason, limit)

    def _rejections(self, sql, describe, limit):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS c")  # noqa: S608  # nosec B608 - our quoted names; values are parameters
            total = cursor.fetchone()[0]
            if not total:
                return [], 0
            cursor.execute(f"{sql} ORDER BY 1 LIMIT %s", [limit])
            return [describe(*row) for row in cursor.fetchall()], total

    def counts(self) -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT action, COUNT(*) FROM {_qn(self.name)} GROUP BY action")  # noqa: S608  # nosec B608 - our quoted names; values are parameters
            return dict(cursor.fetchall())


# --- who is affected ---------------------------------------------------------------------------------------------


def _blocking_counts(table: str, numbers) -> dict[str, int]:
    """For each ID number, how many records of `table` (the register, or a staging table shaped like it) block a
    certificate: the rows are read as CriminalRecord objects, so `sealed` is the model's one rule."""
    counts = dict.fromkeys(numbers, 0)
    numbers = sorted(counts)
    with connection.cursor() as cursor:
        for start in range(0, len(numbers), SNAPSHOT_BATCH):
            chunk = numbers[start : start + SNAPSHOT_BATCH]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT id_number, sentence_months, age_at_offence, sealed_by_order FROM {_qn(table)} "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
                f"WHERE id_number IN ({marks})",
                chunk,
            )
            for number, months, age, by_order in cursor.fetchall():
                record = CriminalRecord(
                    record_id="", id_number=number, sentence_months=months, age_at_offence=age, sealed_by_order=by_order
                )
                if not record.sealed:
                    counts[number] += 1
    return counts


def _open_applications(numbers=None) -> dict[str, list[tuple]]:
    """Open applications by normalised holder ID number: [(pk, case_number, status)]; only `numbers` if given."""
    found: dict[str, list[tuple]] = {}
    queryset = Application.objects.filter(status__in=REGISTER_OPEN_STATUSES)
    if numbers is not None:
        if not numbers:
            return found
        queryset = queryset.filter(holder_id_number__in=list(numbers))
    rows = queryset.order_by().values_list("pk", "case_number", "status", "holder_id_number")
    for pk, case_number, status, number in rows.iterator(chunk_size=2000):
        key = idnumber.normalize(number)
        if key:
            found.setdefault(key, []).append((pk, case_number, status))
    return found


def _record_changes(job: RegisterImport, applications, before: dict, after: dict) -> list[dict]:
    """A timeline entry on each open application whose check result changed; returns them for the job's page."""
    changed, entries = [], []
    content_type = ContentType.objects.get_for_model(Application)
    for number, cases in applications.items():
        old, new = before.get(number, 0), after.get(number, 0)
        if old == new:
            continue
        if new:
            note = ngettext(
                "The criminal-record register changed (import %(job)s): %(count)d record now blocks this certificate.",
                "The criminal-record register changed (import %(job)s): %(count)d records now block this certificate.",
                new,
            ) % {"job": job.pk, "count": new}
        else:
            note = ngettext(
                "The criminal-record register changed (import %(job)s): %(count)d record no longer blocks this "
                "certificate.",
                "The criminal-record register changed (import %(job)s): %(count)d records no longer block this "
                "certificate.",
                old,
            ) % {"job": job.pk, "count": old}
        for pk, case_number, status in cases:
            entries.append(
                Transition(
                    content_type=content_type,
                    object_id=pk,
                    from_status=status,
                    to_status=status,
                    actor=job.started_by,
                    note=note,
                )
            )
            changed.append({"pk": pk, "case_number": case_number, "before": old, "after": new})
    Transition.objects.bulk_create(entries, batch_size=1000)
    changed.sort(key=lambda item: item["case_number"])
    return changed


# --- the job -----------------------------------------------------------------------------------------------------


@dataclass
class _Progress:
    job: RegisterImport
    read: int = 0
    rejected: int = 0
    rejections: list = field(default_factory=list)
    counter: _CountingReader | None = None

    def reject(self, line: int, reason: str):
        self.rejected += 1
        if len(self.rejections) < MAX_REJECTIONS_LISTED:
            self.rejections.append([line, reason])

    def save(self):
        """Progress for the job page, a sign of life for the sweep, and the cancel flag in the same round trip."""
        RegisterImport.objects.filter(pk=self.job.pk).update(
            rows_read=self.read,
            rows_rejected=self.rejected,
            bytes_read=self.counter.count if self.counter else 0,
            heartbeat_at=timezone.now(),
        )
        if RegisterImport.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise ImportCancelled


def _set(job: RegisterImport, **fields):
    for name, value in fields.items():
        setattr(job, name, value)
    RegisterImport.objects.filter(pk=job.pk).update(**fields)


def _finish(job: RegisterImport, phase: str, outcome: str, **fields):
    _set(job, phase=phase, outcome=outcome, finished_at=timezone.now(), heartbeat_at=timezone.now(), **fields)
    logger.info(
        "register import %s (%s) by user %s: %s, %d rows read, %d rejected, %d imported",
        job.pk,
        job.kind,
        job.started_by_id,
        outcome,
        job.rows_read,
        job.rows_rejected,
        job.rows_imported,
    )


def _rejected(job, progress: _Progress, *, error="", rejections=None, total=None):
    rejections = progress.rejections if rejections is None else rejections
    total = progress.rejected if total is None else total
    _finish(
        job,
        ImportPhase.DONE,
        ImportOutcome.REJECTED,
        rows_read=progress.read,
        rows_rejected=total,
        rejections=rejections,
        more_rejected=max(total - len(rejections), 0),
        error=error,
    )


@contextlib.contextmanager
def import_lock():
    """True while this process holds the one import lock (PostgreSQL); always True elsewhere."""
    if not _pg():
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [IMPORT_LOCK_KEY])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK_KEY])


def run_import_job(job_id: int) -> str:
    """The worker's part: claim the queued job, run it to an end (imported, rejected, cancelled or failed).

    Returns what happened; "busy" when another import holds the lock (the task tries again later).
    """
    with import_lock() as held:
        if not held:
            return "busy"
        now = timezone.now()
        claimed = RegisterImport.objects.filter(pk=job_id, phase=ImportPhase.QUEUED, cancel_requested=False).update(
            phase=ImportPhase.CHECKING, started_at=now, heartbeat_at=now
        )
        job = RegisterImport.objects.select_related("started_by").filter(pk=job_id).first()
        if job is None:
            return "missing"
        if not claimed:
            if job.phase == ImportPhase.QUEUED:  # cancelled before it started: it never runs
                _finish(job, ImportPhase.CANCELLED, ImportOutcome.CANCELLED)
                return "cancelled"
            if job.phase in RegisterImport.RUNNING_PHASES:
                # Delivered again after its worker died (we hold the lock, so nobody runs it): it failed.
                _fail_interrupted(job)
                return "failed"
            return "not-queued"
        try:
            return _run(job)
        except Exception as exc:
            # Whatever it was, it struck before the swap committed (the swap is one transaction): nothing changed.
            logger.exception("register import %s failed", job.pk)
            _finish(
                job,
                ImportPhase.FAILED,
                ImportOutcome.FAILED,
                error=_("The import stopped with an error (%(error)s); nothing was changed.")
                % {"error": exc.__class__.__name__},
            )
            return "failed"


def _run(job: RegisterImport) -> str:
    job.batch = job.batch or f"import-{job.pk}"
    _set(job, batch=job.batch)
    progress = _Progress(job)
    if not _pg():
        # 1. Checking: the stored file is the one uploaded (S3 or disk alike). (PostgreSQL checks it while it loads.)
        with job.file.open("rb") as handle:
            sha, size, _plain = register_sql.scan_file(handle)
        if sha != job.sha256:
            return _sha_mismatch(job)
        _set(job, phase=ImportPhase.LOADING, file_size=size)
    else:
        _set(job, phase=ImportPhase.LOADING)

    # 2. Loading: every row into the staging table, a chunk at a time (on SQLite each through _clean_row).
    stage = Stage(job)
    stage.create()
    try:
        outcome = _load_pg(job, stage, progress) if _pg() else _load(job, stage, progress)
        if outcome:
            return outcome
        # 3. Swapping (or applying a delta): one transaction; a cancellation is honoured up to its start.
        with transaction.atomic():
            locked = RegisterImport.objects.select_for_update().get(pk=job.pk)
            if locked.cancel_requested:
                raise ImportCancelled
            _set(job, phase=ImportPhase.SWAPPING, heartbeat_at=timezone.now())
        try:
            if job.kind == ImportKind.FULL:
                _swap_full(job, stage, progress)
            else:
                _apply_delta(job, stage, progress)
        except _Rejected as exc:
            rejections, total = exc.args
            _rejected(job, progress, rejections=rejections, total=total)
            return "rejected"
        return "imported"
    except ImportCancelled:
        _finish(job, ImportPhase.CANCELLED, ImportOutcome.CANCELLED, rows_read=progress.read)
        return "cancelled"
    finally:
        stage.drop()


def _sha_mismatch(job) -> str:
    _finish(
        job,
        ImportPhase.FAILED,
        ImportOutcome.FAILED,
        error=_("The stored file does not match the SHA-256 recorded at upload; nothing was changed."),
    )
    return "failed"


def _load(job, stage: Stage, progress: _Progress) -> str | None:
    """Stream the file into the staging table; an outcome ("rejected") when the file is refused, else None."""
    today = timezone.localdate()
    chunk_rows = max(int(settings.REGISTER_IMPORT_CHUNK_ROWS), 1)
    kind = job.kind
    pending: list[tuple] = []
    with job.file.open("rb") as handle:
        progress.counter = _CountingReader(handle)
        binary = io.BufferedReader(progress.counter, READ_BUFFER)
        try:
            for line, row in iter_rows(binary, kind):
                progress.read += 1
                if row is None:
                    progress.reject(line, _("wrong number of columns"))
                else:
                    try:
                        clean = _clean_row(row, today, kind=kind)
                    except ValidationError as exc:
                        progress.reject(line, " ".join(exc.messages))
                    else:
                        if not progress.rejected:  # once a row is refused nothing will be imported: only count
                            pending.append(_stage_row(line, clean))
                if progress.read % chunk_rows == 0:
                    stage.write(pending)
                    pending = []
                    progress.save()
        except FileProblem as exc:
            _rejected(job, progress, error=str(exc))
            return "rejected"
    if not progress.rejected:
        stage.write(pending)
    progress.save()
    if progress.rejected:
        _rejected(job, progress)
        return "rejected"
    if not progress.read:
        _rejected(job, progress, error=_("The file has no rows below the header."))
        return "rejected"
    if not stage.live_shaped:
        duplicates, total = stage.duplicate_record_ids(MAX_REJECTIONS_LISTED)
        if total:
            _rejected(job, progress, rejections=duplicates, total=total)
            return "rejected"
    return None


class _NotPlain(Exception):
    """The file turned out not to be plain while COPY read it raw: Python's reading takes over."""


def _load_pg(job, stage: Stage, progress: _Progress, *, python_reading: bool = False) -> str | None:
    """PostgreSQL: the file into a raw table of text cells by COPY, its SHA-256 checked on the way, then the rules of
    a row checked in SQL (certificates/register_sql.py): the good rows into the staging table in one INSERT …
    SELECT, the bad ones listed by one query. The cancel flag is looked at between COPY chunks, after the COPY and
    after the check."""
    today = timezone.localdate()
    chunk_rows = max(int(settings.REGISTER_IMPORT_CHUNK_ROWS), 1)
    kind = job.kind
    raw = register_sql.raw_table_name(job.pk)
    header = None
    if not python_reading:
        # A plain file (the usual export) goes to COPY as it is; the pass that reads it also hashes it and confirms
        # it is plain (register_sql.FileScan).
        scan = register_sql.FileScan()
        with job.file.open("rb") as handle:
            progress.counter = _CountingReader(handle, scan)
            binary = io.BufferedReader(progress.counter, READ_BUFFER)
            header = register_sql.read_plain_header(binary, kind)
            if header is not None:
                register_sql.create_raw(raw, len(header))

                def after_chunk(rows: int):
                    if not scan.plain:
                        raise _NotPlain
                    progress.read = rows
                    progress.save()

                try:
                    register_sql.copy_plain(binary, raw, len(header), chunk_rows, after_chunk)
                except DataError:
                    # COPY refused a line (a wrong number of cells, bad UTF-8): Python's reading reports it.
                    logger.info("register import %s: COPY refused the file; read by Python instead", job.pk)
                    header = None
                except _NotPlain:
                    header = None
                else:
                    sha, _size, plain = scan.result()
                    if sha != job.sha256:
                        return _sha_mismatch(job)
                    if not plain:
                        header = None
    if header is None:
        progress.read, progress.rejected, progress.rejections = 0, 0, []
        scan = register_sql.FileScan()
        with job.file.open("rb") as handle:
            progress.counter = _CountingReader(handle, scan)
            binary = io.BufferedReader(progress.counter, READ_BUFFER)

            def on_record(line: int, fits: bool):
                progress.read += 1
                if not fits:
                    progress.reject(line, _("wrong number of columns"))

            try:
                header, records = iter_records(binary, kind)
                register_sql.create_raw(raw, len(header))
                register_sql.copy_records(records, raw, len(header), chunk_rows, on_record, progress.save)
            except FileProblem as exc:
                progress.counter.drain()
                if scan.result()[0] != job.sha256:
                    return _sha_mismatch(job)
                _rejected(job, progress, error=str(exc))
                return "rejected"
        if scan.result()[0] != job.sha256:
            return _sha_mismatch(job)
    progress.save()  # between the COPY and the check: a cancellation is honoured here too
    if not progress.read:
        _rejected(job, progress, error=_("The file has no rows below the header."))
        return "rejected"
    stage.rows = register_sql.insert_checked(header, kind, raw, stage.name, today)
    refused = progress.read - progress.rejected - stage.rows
    if refused or progress.rejected:
        listed, overlong = register_sql.rejected_rows(header, kind, raw, today, MAX_REJECTIONS_LISTED)
        if overlong and not python_reading:  # a cell Python's csv refuses: read by Python, for its FileProblem
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {_qn(stage.name)}")
            return _load_pg(job, stage, progress, python_reading=True)
        rejections = sorted([*progress.rejections, *([line, reason] for line, reason in listed)])
        progress.rejected += refused
        _rejected(job, progress, rejections=rejections[:MAX_REJECTIONS_LISTED], total=progress.rejected)
        return "rejected"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {_qn(raw)}")
    progress.save()
    if not stage.live_shaped:
        duplicates, total = stage.duplicate_record_ids(MAX_REJECTIONS_LISTED)
        if total:
            _rejected(job, progress, rejections=duplicates, total=total)
            return "rejected"
    return None


_INDEX_DEF = re.compile(r"^(CREATE (?:UNIQUE )?INDEX )(\S+)( ON )(?:ONLY )?(\S+)( .*)$")


def _live_indexes() -> list[tuple[str, str, str, str]]:
    """(index name, definition, constraint name or "", constraint type or "") of each index of the register."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid), COALESCE(c.conname, ''), COALESCE(c.contype, '') "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid "
            "WHERE x.indrelid = %s::regclass ORDER BY c.contype NULLS LAST, i.relname",
            [LIVE_TABLE],
        )
        return cursor.fetchall()


def _prepare_live_shaped(job, stage: Stage, progress: _Progress):
    """PostgreSQL, full import: the register's indexes on the staging table; duplicates found by the unique one."""
    indexes = []
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for number, (name, definition, constraint, kind) in enumerate(_live_indexes()):
            match = _INDEX_DEF.match(definition)
            if not match:
                raise DatabaseError(f"unexpected index definition: {definition}")
            temporary = f"{stage.name}_i{number}"
            try:
                with transaction.atomic():
                    cursor.execute(match.group(1) + _qn(temporary) + match.group(3) + _qn(stage.name) + match.group(5))
            except IntegrityError:
                duplicates, total = stage.duplicate_record_ids(MAX_REJECTIONS_LISTED)
                if not total:
                    raise
                raise _Rejected(duplicates, total) from None
            indexes.append((name, temporary, constraint, kind))
            progress.save()  # a sign of life between index builds, and a chance to cancel
        cursor.execute(
            f"ALTER TABLE {_qn(stage.name)} DROP COLUMN line, DROP COLUMN action, "
            "ALTER COLUMN imported_at DROP DEFAULT, ALTER COLUMN import_batch DROP DEFAULT"
        )
        cursor.execute(f"ANALYZE {_qn(stage.name)}")
    return indexes


def _swap_full(job, stage: Stage, progress: _Progress):
    applications = _open_applications()
    before = _blocking_counts(LIVE_TABLE, applications)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {_qn(LIVE_TABLE)}")  # noqa: S608  # nosec B608 - our quoted names; values are parameters
        records_before = cursor.fetchone()[0]
    if stage.live_shaped:
        indexes = _prepare_live_shaped(job, stage, progress)
        after = _blocking_counts(stage.name, applications)
        attempts = settings.REGISTER_IMPORT_SWAP_ATTEMPTS
        for attempt in range(1, attempts + 1):
            try:
                with transaction.atomic():
                    _rename_into_place(stage, indexes)
                    changed = _record_changes(job, applications, before, after)
                    _done(job, progress, stage.rows, {"replaced": records_before, "loaded": stage.rows}, changed)
                break
            except DatabaseError as exc:
                # lock_timeout: a long query held the register; the officers' checks must never wait long for us.
                if "lock timeout" not in str(exc) or attempt == attempts:
                    raise
                logger.warning("register import %s: the swap waited too long for the register, again", job.pk)
                time.sleep(attempt)
        stage.swapped = True
        return
    columns = ", ".join(DATA_COLUMNS)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {_qn(LIVE_TABLE)}")  # noqa: S608  # nosec B608 - our quoted names; values are parameters
            cursor.execute(
                f"INSERT INTO {_qn(LIVE_TABLE)} ({columns}, imported_at, import_batch) "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
                f"SELECT {columns}, %s, %s FROM {_qn(stage.name)} ORDER BY line",
                [timezone.now(), job.batch],
            )
        after = _blocking_counts(LIVE_TABLE, applications)
        changed = _record_changes(job, applications, before, after)
        _done(job, progress, stage.rows, {"replaced": records_before, "loaded": stage.rows}, changed)


def _rename_into_place(stage: Stage, indexes):
    live = _qn(LIVE_TABLE)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = %s", [f"{int(settings.REGISTER_IMPORT_LOCK_TIMEOUT_MS)}ms"])
        cursor.execute(f"LOCK TABLE {live} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"DROP TABLE {live}")
        cursor.execute(f"ALTER TABLE {_qn(stage.name)} RENAME TO {live}")
        for name, temporary, constraint, kind in indexes:
            if kind == "p":
                cursor.execute(
                    f"ALTER TABLE {live} ADD CONSTRAINT {_qn(constraint)} PRIMARY KEY USING INDEX {_qn(temporary)}"
                )
            elif kind == "u":
                cursor.execute(
                    f"ALTER TABLE {live} ADD CONSTRAINT {_qn(constraint)} UNIQUE USING INDEX {_qn(temporary)}"
                )
            else:
                cursor.execute(f"ALTER INDEX {_qn(temporary)} RENAME TO {_qn(name)}")
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [LIVE_TABLE])
        sequence = cursor.fetchone()[0]
        if sequence:
            cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {_qn(LIVE_TABLE + '_id_seq')}")


def _apply_delta(job, stage: Stage, progress: _Progress):
    live, table = _qn(LIVE_TABLE), _qn(stage.name)
    with connection.cursor() as cursor:
        if _pg():
            cursor.execute(f"CREATE INDEX ON {table} (record_id)")
            cursor.execute(f"ANALYZE {table}")
    with transaction.atomic():
        with connection.cursor() as cursor:
            if _pg():
                # Other writers wait (another admin's edit); the officers' reads do not.
                cursor.execute(f"LOCK TABLE {live} IN SHARE ROW EXCLUSIVE MODE")
            rejections, total = stage.delta_conflicts(MAX_REJECTIONS_LISTED)
            if total:
                raise _Rejected(rejections, total)
            cursor.execute(
                f"SELECT id_number FROM {table} WHERE id_number IS NOT NULL UNION "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
                f"SELECT l.id_number FROM {live} l JOIN {table} s ON s.record_id = l.record_id"
            )
            numbers = {row[0] for row in cursor.fetchall()}
            applications = _open_applications(numbers)
            before = _blocking_counts(LIVE_TABLE, applications)
            now = timezone.now()
            columns = ", ".join(DATA_COLUMNS)
            cursor.execute(
                f"INSERT INTO {live} ({columns}, imported_at, import_batch) "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
                f"SELECT {columns}, %s, %s FROM {table} WHERE action = 'add' ORDER BY line",
                [now, job.batch],
            )
            assignments = ", ".join(
                f"{name} = s.{name}" for name in DATA_COLUMNS if name not in ("record_id", "sealed_by_order")
            )
            cursor.execute(
                f"UPDATE {live} SET {assignments}, imported_at = %s, import_batch = %s FROM {table} s "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
                f"WHERE s.action = 'correct' AND s.record_id = {live}.record_id",
                [now, job.batch],
            )
            cursor.execute(
                f"UPDATE {live} SET sealed_by_order = %s, import_batch = %s WHERE record_id IN "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
                f"(SELECT record_id FROM {table} WHERE action = 'seal')",
                [True, job.batch],
            )
            cursor.execute(
                f"DELETE FROM {live} WHERE record_id IN (SELECT record_id FROM {table} WHERE action = 'remove')"  # noqa: S608  # nosec B608 - our quoted names; values are parameters
            )
        after = _blocking_counts(LIVE_TABLE, applications)
        changed = _record_changes(job, applications, before, after)
        counts = {action: 0 for action in ACTIONS} | stage.counts()
        _done(job, progress, stage.rows, counts, changed)


def _done(job, progress: _Progress, imported: int, counts: dict, changed: list[dict]):
    _finish(
        job,
        ImportPhase.DONE,
        ImportOutcome.IMPORTED,
        rows_read=progress.read,
        rows_rejected=0,
        rows_imported=imported,
        bytes_read=job.file_size,
        counts=counts,
        changed_cases=changed[:MAX_CHANGED_CASES_LISTED],
        changed_cases_count=len(changed),
    )


def _fail_interrupted(job: RegisterImport):
    _finish(
        job,
        ImportPhase.FAILED,
        ImportOutcome.FAILED,
        error=_("The worker running the import stopped before it finished; nothing was changed. Run it again."),
    )


# --- the administrators' side: start, cancel, run again; the sweep ---------------------------------------------


def register_import_start(*, file, kind: str, by) -> RegisterImport:
    """Store the uploaded file privately with its SHA-256 and queue the job (after commit)."""
    from portal.celery import publish_on_commit

    from .tasks import register_import

    digest, size = hashlib.sha256(), 0
    for chunk in file.chunks():
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    with transaction.atomic():
        job = RegisterImport(
            kind=kind,
            sha256=digest.hexdigest(),
            file_size=size,
            file_name=(getattr(file, "name", "") or "")[:200],
            started_by=by,
        )
        job.file.save("register.csv", file, save=False)
        job.save()
        publish_on_commit(register_import, job.pk)
    logger.info(
        "register import %s (%s) started by user %s: %d bytes, sha256 %s", job.pk, kind, by.pk, size, job.sha256
    )
    return job


def register_import_cancel(*, job: RegisterImport, by) -> bool:
    """Cancel a job that has not reached the swap: a queued one never runs; a running one stops at the next chunk."""
    now = timezone.now()
    with transaction.atomic():
        done = RegisterImport.objects.filter(pk=job.pk, phase=ImportPhase.QUEUED, cancel_requested=False).update(
            phase=ImportPhase.CANCELLED,
            outcome=ImportOutcome.CANCELLED,
            cancel_requested=True,
            cancelled_by=by,
            finished_at=now,
        )
        if not done:
            done = RegisterImport.objects.filter(
                pk=job.pk, phase__in=(ImportPhase.CHECKING, ImportPhase.LOADING), cancel_requested=False
            ).update(cancel_requested=True, cancelled_by=by)
    logger.info("register import %s: cancel by user %s %s", job.pk, by.pk, "accepted" if done else "refused")
    job.refresh_from_db()
    return bool(done)


def register_import_restart(*, job: RegisterImport, by) -> RegisterImport:
    """A new job for the same stored file (a failed or cancelled one; a rejected file would be rejected again)."""
    from portal.celery import publish_on_commit

    from .tasks import register_import

    if job.outcome not in (ImportOutcome.FAILED, ImportOutcome.CANCELLED):
        raise ValueError("only a failed or cancelled import can run again")
    with transaction.atomic():
        new = RegisterImport.objects.create(
            kind=job.kind,
            file=job.file.name,
            file_name=job.file_name,
            file_size=job.file_size,
            sha256=job.sha256,
            started_by=by,
            retry_of=job,
        )
        publish_on_commit(register_import, new.pk)
    logger.info("register import %s started by user %s: runs import %s again", new.pk, by.pk, job.pk)
    return new


def register_import_sweep() -> dict:
    """Beat: fail the jobs whose worker died, drop the staging tables nobody uses, re-queue jobs never delivered."""
    from portal.celery import publish

    from .tasks import register_import

    result = {"failed": [], "dropped": [], "requeued": []}
    running = RegisterImport.objects.filter(phase__in=RegisterImport.RUNNING_PHASES)
    with import_lock() as held:
        if _pg():
            # Nobody holds the lock, so no import runs: every job that says it runs was left by a dead worker.
            dead = list(running) if held else []
        else:
            stale = timezone.now() - datetime.timedelta(minutes=settings.REGISTER_IMPORT_STALL_MINUTES)
            dead = list(running.filter(heartbeat_at__lt=stale))
        for job in dead:
            _fail_interrupted(job)
            result["failed"].append(job.pk)
        if held:
            alive = set(running.values_list("pk", flat=True)) if not _pg() else set()
            for table in connection.introspection.table_names():
                job_id = table.removeprefix(STAGE_PREFIX).removesuffix("_raw")  # a staging table, or its raw one
                if table.startswith(STAGE_PREFIX) and job_id.isdigit():
                    if int(job_id) not in alive:
                        with connection.cursor() as cursor:
                            cursor.execute(f"DROP TABLE IF EXISTS {_qn(table)}")
                        result["dropped"].append(table)
    lost = RegisterImport.objects.filter(
        phase=ImportPhase.QUEUED,
        cancel_requested=False,
        created_at__lt=timezone.now() - datetime.timedelta(minutes=settings.REGISTER_IMPORT_REQUEUE_AFTER_MINUTES),
    )
    for pk in lost.values_list("pk", flat=True)[:20]:
        if publish(register_import, pk):
            result["requeued"].append(pk)
    if any(result.values()):
        logger.warning("register import sweep: %s", result)
    return result
