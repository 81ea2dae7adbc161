"""The administrators' side of imports: start one (the file stored privately with its SHA-256), cancel it, run it again;
and the beat's sweep of jobs whose worker died."""

from __future__ import annotations

import datetime
import hashlib
import logging

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..models import ImportOutcome, ImportPhase, RegisterImport
from .jobs import import_lock
from .progress import _fail_interrupted
from .stage import STAGE_PREFIX, _pg, _qn

logger = logging.getLogger("certificates.register")


def register_import_start(*, file, kind: str, by) -> RegisterImport:
    """Store the uploaded file privately with its SHA-256 and queue the job (after commit)."""
    from portal.celery import publish_on_commit

    from ..tasks import register_import

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

    from ..tasks import register_import

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

    from ..tasks import register_import

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
