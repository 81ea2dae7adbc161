"""Worker tasks of verification: the beat drain of the buffered verification log into the database."""

from celery import shared_task

from .logbuffer import verification_log_drain


@shared_task(name="portal.verify.tasks.drain_verification_log", ignore_result=True)
def drain_verification_log() -> int:
    # Lock-guarded and idempotent: an overlapping run returns at once, a repeated batch inserts nothing.
    return verification_log_drain()
