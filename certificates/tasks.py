"""Worker tasks: render, sign and store certificates and refusal notices, exactly once per generation.

Ids in, one call out: the pipeline (claim, render, sign, store, mark issued, the retry policy and the re-queue sweep)
is portal.verify.issuing's, and what each document prints is declared in certificates.documents. The task names are
those the settings route and schedule (CELERY_TASK_ROUTES, CELERY_BEAT_SCHEDULE).
"""

from __future__ import annotations

from functools import partial

from celery import shared_task
from django.conf import settings

from portal.verify import issuing

from .documents import CERTIFICATE, REFUSAL_NOTICE

# The options of both issuing tasks: acknowledged once done, delivered again if the worker dies, passing faults
# retried (issuing.TRANSIENT_RETRY).
_issuing_task = partial(shared_task, acks_late=True, reject_on_worker_lost=True, **issuing.TRANSIENT_RETRY)


@_issuing_task(name="certificates.tasks.generate_certificate")
def generate_certificate(application_id: int, generation: int) -> str:
    """Render, sign and store the certificate of `generation`, then APPROVED -> ISSUED."""
    return issuing.issue(CERTIFICATE, application_id, generation)


@_issuing_task(name="certificates.tasks.generate_refusal_notice")
def generate_refusal_notice(application_id: int, generation: int) -> str:
    """The Notice of Refusal (reason and the ways to object), stored and verifiable like a certificate."""
    return issuing.issue(REFUSAL_NOTICE, application_id, generation)


@shared_task(name="certificates.tasks.requeue_missing_certificates")
def requeue_missing_certificates(older_than_minutes: int | None = None, limit: int | None = None) -> list:
    """Beat, every 2 minutes: queue again the certificates and refusal notices a lost message left unmade (approvals
    first, then refusals of the last CERTIFICATE_REQUEUE_WINDOW_DAYS). Returns [application id, generation] of each."""
    return issuing.requeue_missing(
        ((CERTIFICATE, generate_certificate), (REFUSAL_NOTICE, generate_refusal_notice)),
        what="certificate",
        older_than_minutes=older_than_minutes,
        limit=limit,
    )


# --- the criminal-record register --------------------------------------------------------------------------------
# On the default queue (CELERY_TASK_ROUTES sends only generate_* to the pdf queue). One import runs at a time; a job
# delivered while another runs waits and tries again. Not retried on a fault: a failed job says so on its page and the
# administrator runs it again.


@shared_task(name="certificates.tasks.register_import", bind=True, max_retries=None)
def register_import(self, job_id: int) -> str:
    """Run the register import job `job_id` (certificates.register.run_import_job)."""
    from .register import run_import_job

    outcome = run_import_job(job_id)
    if outcome == "busy":
        raise self.retry(countdown=settings.REGISTER_IMPORT_BUSY_RETRY_SECONDS)
    return outcome


@shared_task(name="certificates.tasks.sweep_register_imports")
def sweep_register_imports() -> dict:
    """Beat, every minute: jobs whose worker died are marked failed; staging tables left behind are dropped."""
    from .register import register_import_sweep

    return register_import_sweep()
