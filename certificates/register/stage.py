"""The staging table of an import job: created, filled, checked for what only the whole file shows, dropped."""

from __future__ import annotations

import contextlib
import csv
import io

from django.db import DatabaseError, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import CriminalRecord, ImportKind, RegisterImport
from .reading import READ_BUFFER
from .rules import CSV_COLUMNS

STAGE_PREFIX = "ncr_register_stage_"
# The columns of a staging row, in order: what _stage_row makes and the staging table holds.
STAGE_COLUMNS = ("line", "action", "record_id", *CSV_COLUMNS, "sealed_by_order")
DATA_COLUMNS = STAGE_COLUMNS[2:]  # the register's own columns among them
LIVE_TABLE = CriminalRecord._meta.db_table
LOADING_ID_CACHE = 1000


def stage_table_name(job_id: int) -> str:
    return f"{STAGE_PREFIX}{int(job_id)}"


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _pg() -> bool:
    return connection.vendor == "postgresql"


@contextlib.contextmanager
def commits_without_flush():
    """PostgreSQL: this session's commits return without waiting for the WAL to reach the disk while the staging
    table is loaded and indexed (a commit per COPY chunk and per progress save: a hundred each for 5,000,000 rows,
    each a wait for the flush of the chunk's WAL). Nothing of the register rides on them: a crash that loses the last
    of them loses a staging table and a progress figure, and the sweep fails the job, which can be run again. The
    swap commits after this, as usual (waiting for the flush), and so does the job's outcome (progress._finish)."""
    if not _pg():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    try:
        yield
    finally:
        if connection.connection is not None and not connection.needs_rollback:
            with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def raw_table_name(job_id: int) -> str:
    """The raw table of text cells that COPY fills on PostgreSQL (certificates/register/sql.py)."""
    return f"{STAGE_PREFIX}{int(job_id)}_raw"


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
        self.first_id = 1  # the id of its first row (live-shaped)
        self.id_cache = 1  # the register's id sequence's CACHE (live-shaped)
        # Loaded straight from a plain file (jobs._load_direct): `line` is left empty, a row's line is known from its id
        # (the rows are numbered in the file's order from first_id, one line each after the header).
        self.direct = False

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
                    "ALTER COLUMN imported_at SET DEFAULT %s, ALTER COLUMN import_batch SET DEFAULT %s, "
                    "ALTER COLUMN sealed_by_order SET DEFAULT false",
                    [timezone.now(), self.job.batch],
                )
                # New primary keys after the old register's: an address of an old record never shows a new one.
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {_qn(LIVE_TABLE)}")  # noqa: S608  # nosec B608 - our quoted names; values are parameters
                self.first_id = int(cursor.fetchone()[0])
                cursor.execute(f"ALTER TABLE {table} ALTER COLUMN id RESTART WITH {self.first_id}")
                # Ids handed out a thousand at a time while it loads (one session numbers its rows consecutively all
                # the same); the register's own setting is put back before the swap (swap._prepare_live_shaped).
                cursor.execute(
                    "SELECT seqcache FROM pg_sequence WHERE seqrelid = pg_get_serial_sequence(%s, 'id')::regclass",
                    [LIVE_TABLE],
                )
                found = cursor.fetchone()
                self.id_cache = int(found[0]) if found else 1
                cursor.execute(f"ALTER TABLE {table} ALTER COLUMN id SET CACHE {LOADING_ID_CACHE}")
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
                cursor.execute(f"DROP TABLE IF EXISTS {_qn(raw_table_name(self.job.pk))}")
            if not self.swapped:
                cursor.execute(f"DROP TABLE IF EXISTS {_qn(self.name)}")

    # Checks of the whole file --------------------------------------------------------------------------------

    def line_sql(self) -> str:
        """SQL: a staged row's line in the file."""
        return f"(id - {int(self.first_id) - 2})" if self.direct else "line"

    def duplicate_record_ids(self, limit: int) -> tuple[list[tuple[int, str]], int]:
        """Rows whose record id an earlier row of the file already has."""
        sql = (
            f"SELECT line, record_id, first FROM (SELECT {self.line_sql()} AS line, record_id, "  # noqa: S608 - table name is ours  # nosec B608
            f"MIN({self.line_sql()}) OVER (PARTITION BY record_id) AS first FROM {_qn(self.name)}) AS t "
            "WHERE line > first"
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
