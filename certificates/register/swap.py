"""A full import put in place: on PostgreSQL the staging table, given the register's indexes, renamed into its place in
one transaction; elsewhere the register's rows deleted and the staged ones inserted in one transaction."""

from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from .affected import _blocking_counts, _open_applications, _record_changes
from .progress import _done, _Progress, _Rejected
from .rules import MAX_REJECTIONS_LISTED
from .stage import DATA_COLUMNS, LIVE_TABLE, Stage, _qn, commits_without_flush

logger = logging.getLogger("certificates.register")

# The register's indexes are built this many at a time, each with this much memory for its sort.
INDEX_BUILDERS, MAINTENANCE_WORK_MEM = 2, "256MB"
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


def _build_index(sql: str) -> None:
    """One CREATE INDEX, on this thread's own connection (closed after)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
            cursor.execute(sql)
    finally:
        connection.close()


def _prepare_live_shaped(job, stage: Stage, progress: _Progress):
    """PostgreSQL, full import: the register's indexes on the staging table; duplicates found by the unique one.

    The indexes are built INDEX_BUILDERS at a time, each on a connection of its own (building them one after another
    took half as long again on two cores); one at a time inside a transaction (the staging table is only visible to
    this connection then)."""
    indexes, statements = [], []
    for number, (name, definition, constraint, kind) in enumerate(_live_indexes()):
        match = _INDEX_DEF.match(definition)
        if not match:
            raise DatabaseError(f"unexpected index definition: {definition}")
        temporary = f"{stage.name}_i{number}"
        statements.append(match.group(1) + _qn(temporary) + match.group(3) + _qn(stage.name) + match.group(5))
        indexes.append((name, temporary, constraint, kind))
    try:
        with progress.timed("indexes"):
            if connection.in_atomic_block or INDEX_BUILDERS < 2:
                with connection.cursor() as cursor:
                    cursor.execute(f"SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
                    for sql in statements:
                        with transaction.atomic():
                            cursor.execute(sql)
                        progress.save()  # a sign of life between index builds, and a chance to cancel
            else:
                with ThreadPoolExecutor(INDEX_BUILDERS, thread_name_prefix="register-import-index") as pool:
                    for built in as_completed([pool.submit(_build_index, sql) for sql in statements]):
                        built.result()
                        progress.save()
    except IntegrityError:
        duplicates, total = stage.duplicate_record_ids(MAX_REJECTIONS_LISTED)
        if not total:
            raise
        raise _Rejected(duplicates, total) from None
    with progress.timed("columns dropped, analyzed"), connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {_qn(stage.name)} DROP COLUMN line, DROP COLUMN action, "
            "ALTER COLUMN imported_at DROP DEFAULT, ALTER COLUMN import_batch DROP DEFAULT, "
            f"ALTER COLUMN sealed_by_order DROP DEFAULT, ALTER COLUMN id SET CACHE {int(stage.id_cache)}"
        )
        cursor.execute(f"ANALYZE {_qn(stage.name)}")
    return indexes


def _swap_full(job, stage: Stage, progress: _Progress):
    with progress.timed("open applications' check before"):
        applications = _open_applications()
        before = _blocking_counts(LIVE_TABLE, applications)
    with progress.timed("register counted"), connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {_qn(LIVE_TABLE)}")  # noqa: S608  # nosec B608 - our quoted names; values are parameters
        records_before = cursor.fetchone()[0]
    if stage.live_shaped:
        with commits_without_flush():
            indexes = _prepare_live_shaped(job, stage, progress)
        with progress.timed("open applications' check after"):
            after = _blocking_counts(stage.name, applications)
        attempts = settings.REGISTER_IMPORT_SWAP_ATTEMPTS
        for attempt in range(1, attempts + 1):
            try:
                with progress.timed("swap"), transaction.atomic():
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
