"""An import job's record: its progress (and the cancel flag) while it runs, and how it ends."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import ImportOutcome, ImportPhase, RegisterImport
from .reading import _CountingReader
from .rules import MAX_CHANGED_CASES_LISTED, MAX_REJECTIONS_LISTED

logger = logging.getLogger("certificates.register")


class ImportCancelled(Exception):
    pass


class _Rejected(Exception):
    """Rejections found by a check of the whole file (inside the transaction that would have applied it)."""


@dataclass
class _Progress:
    job: RegisterImport
    read: int = 0
    rejected: int = 0
    rejections: list = field(default_factory=list)
    counter: _CountingReader | None = None
    # Seconds spent in each step of the job (logged when it ends: the benchmark reports them)
    phases: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def timed(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - started

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
    """The job's outcome, committed as durably as anything else (waiting for the WAL flush even where the session's
    other commits do not: stage.commits_without_flush)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = on")
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


def _log_phases(job: RegisterImport, progress: _Progress):
    logger.info(
        "register import %s steps: %s",
        job.pk,
        ", ".join(f"{name} {seconds:.2f} s" for name, seconds in progress.phases.items()),
        extra={"phases": dict(progress.phases)},
    )


def _fail_interrupted(job: RegisterImport):
    _finish(
        job,
        ImportPhase.FAILED,
        ImportOutcome.FAILED,
        error=_("The worker running the import stopped before it finished; nothing was changed. Run it again."),
    )
