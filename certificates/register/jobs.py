"""The worker's part of an import: claim the job, load the file into the staging table (checking its SHA-256 on the
way), check every row, then swap it in (full) or apply it (delta)."""

from __future__ import annotations

import contextlib
import io
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import ImportKind, ImportOutcome, ImportPhase, RegisterImport
from . import raw, sql
from .delta import _apply_delta
from .progress import (
    ImportCancelled,
    _fail_interrupted,
    _finish,
    _log_phases,
    _Progress,
    _Rejected,
    _rejected,
    _set,
)
from .reading import READ_BUFFER, FileProblem, _CountingReader, iter_records, iter_rows
from .rules import MAX_REJECTIONS_LISTED, _clean_row, _stage_row
from .simple import SimpleRows
from .stage import Stage, _pg, _qn, commits_without_flush, raw_table_name
from .swap import _swap_full

logger = logging.getLogger("certificates.register")
# All imports run one at a time (PostgreSQL advisory lock, held by the running import's session).
IMPORT_LOCK_KEY = 0x4E435252  # "NCRR"


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
            sha, size, _plain = raw.scan_file(handle)
        if sha != job.sha256:
            return _sha_mismatch(job)
        _set(job, phase=ImportPhase.LOADING, file_size=size)
    else:
        _set(job, phase=ImportPhase.LOADING)

    # 2. Loading: every row into the staging table, a chunk at a time (on SQLite each through _clean_row).
    stage = Stage(job)
    stage.create()
    try:
        with progress.timed("loading"), commits_without_flush():
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
        with progress.timed("staging dropped"):
            stage.drop()
        _log_phases(job, progress)


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
    return _reject_duplicate_record_ids(job, stage, progress)


def _reject_duplicate_record_ids(job: RegisterImport, stage: Stage, progress: _Progress) -> str | None:
    """A record id twice in the file rejects the import, listing the lines (a staging table shaped like the live one
    has a unique index that already refused them)."""
    if not stage.live_shaped:
        duplicates, total = stage.duplicate_record_ids(MAX_REJECTIONS_LISTED)
        if total:
            _rejected(job, progress, rejections=duplicates, total=total)
            return "rejected"
    return None


# _load_direct's answers when the file is to go the general way: a raw table filled by COPY (a plain file), or by
# Python's reading (any other file)
_GENERAL, _NOT_PLAIN = "general", "not plain"


def _load_direct(job, stage: Stage, progress: _Progress, today, chunk_rows: int) -> str | None:
    """PostgreSQL, full import of a plain file whose rows are all simple (the usual export): COPY straight into the
    staging table, each chunk checked by simple.SimpleRows before it goes (while the previous one loads), the SHA-256
    and plainness checked in the same pass. None when the file is loaded, an outcome when it is refused, or
    _GENERAL when it must go the general way (a raw table checked in SQL), the staging table then to be emptied."""
    scan = raw.FileScan()
    with job.file.open("rb") as handle:
        progress.counter = _CountingReader(handle, scan)
        binary = io.BufferedReader(progress.counter, READ_BUFFER)
        header = raw.read_plain_header(binary, job.kind)
        if header is None:
            return _GENERAL
        check = SimpleRows(header, today)

        def after_chunk(rows: int):
            progress.read = rows
            progress.save()

        stage.direct = True
        try:
            rows = raw.copy_direct(binary, scan, stage.name, header, chunk_rows, check.chunk, after_chunk)
        except (raw.NotSimple, DataError, IntegrityError):
            # A row to clean or refuse, or one COPY refuses (a wrong number of cells, mixed line ends): the general
            # way judges every row and words what is wrong.
            logger.info("register import %s: not every row is simple; checked row by row instead", job.pk)
            stage.direct = False
            return _GENERAL if scan.plain else _NOT_PLAIN
    sha, _size, plain = scan.result()
    if not plain:
        stage.direct = False
        return _NOT_PLAIN
    if sha != job.sha256:
        return _sha_mismatch(job)
    if not rows:
        _rejected(job, progress, error=_("The file has no rows below the header."))
        return "rejected"
    stage.rows = rows
    progress.save()
    return None


class _NotPlain(Exception):
    """The file turned out not to be plain while COPY read it raw: Python's reading takes over."""


def _load_pg(job, stage: Stage, progress: _Progress, *, python_reading: bool = False) -> str | None:
    """PostgreSQL: the file into a raw table of text cells by COPY, its SHA-256 checked on the way, then the rules of
    a row checked in SQL (sql.py): the good rows into the staging table in one INSERT … SELECT, the bad
    ones listed by one query. The cancel flag is looked at between COPY chunks, after the COPY and
    after the check."""
    today = timezone.localdate()
    chunk_rows = max(int(settings.REGISTER_IMPORT_CHUNK_ROWS), 1)
    kind = job.kind
    raw_table = raw_table_name(job.pk)
    header = None
    if not python_reading and stage.live_shaped:
        outcome = _load_direct(job, stage, progress, today, chunk_rows)
        if outcome not in (_GENERAL, _NOT_PLAIN):
            return outcome
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {_qn(stage.name)}")
        progress.read = 0
        python_reading = outcome == _NOT_PLAIN
    if not python_reading:
        # A plain file (the usual export) goes to COPY as it is; the pass that reads it also hashes it and confirms
        # it is plain (raw.FileScan).
        scan = raw.FileScan()
        with job.file.open("rb") as handle:
            progress.counter = _CountingReader(handle, scan)
            binary = io.BufferedReader(progress.counter, READ_BUFFER)
            header = raw.read_plain_header(binary, kind)
            if header is not None:
                raw.create_raw(raw_table, len(header))

                def after_chunk(rows: int):
                    if not scan.plain:
                        raise _NotPlain
                    progress.read = rows
                    progress.save()

                try:
                    raw.copy_plain(binary, raw_table, len(header), chunk_rows, after_chunk)
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
        scan = raw.FileScan()
        with job.file.open("rb") as handle:
            progress.counter = _CountingReader(handle, scan)
            binary = io.BufferedReader(progress.counter, READ_BUFFER)

            def on_record(line: int, fits: bool):
                progress.read += 1
                if not fits:
                    progress.reject(line, _("wrong number of columns"))

            try:
                header, records = iter_records(binary, kind)
                raw.create_raw(raw_table, len(header))
                raw.copy_records(records, raw_table, len(header), chunk_rows, on_record, progress.save)
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
    stage.rows = sql.insert_checked(header, kind, raw_table, stage.name, today)
    refused = progress.read - progress.rejected - stage.rows
    if refused or progress.rejected:
        listed, overlong = sql.rejected_rows(header, kind, raw_table, today, MAX_REJECTIONS_LISTED)
        if overlong and not python_reading:  # a cell Python's csv refuses: read by Python, for its FileProblem
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {_qn(stage.name)}")
            return _load_pg(job, stage, progress, python_reading=True)
        rejections = sorted([*progress.rejections, *([line, reason] for line, reason in listed)])
        progress.rejected += refused
        _rejected(job, progress, rejections=rejections[:MAX_REJECTIONS_LISTED], total=progress.rejected)
        return "rejected"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {_qn(raw_table)}")
    progress.save()
    return _reject_duplicate_record_ids(job, stage, progress)
