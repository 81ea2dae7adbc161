"""Worker tasks: render, sign and store the family-planning licences and certificates, exactly once each.

Ids in, one call out, as in certificates.tasks: the pipeline (claim, render, sign, store, supersede, mark issued, the
retry policy and the re-queue sweep) is portal.verify.issuing's, and what each document prints is declared in
familyplanning.documents. The task names are those the settings route and schedule.
"""

from __future__ import annotations

from celery import shared_task

from portal.verify import issuing

from .documents import DOCUMENT


@shared_task(
    name="familyplanning.tasks.generate_document", acks_late=True, reject_on_worker_lost=True, **issuing.TRANSIENT_RETRY
)
def generate_document(application_id: int, generation: int) -> str:
    """Render, sign and store the document of an approved application, then APPROVED -> ISSUED."""
    return issuing.issue(DOCUMENT, application_id, generation)


@shared_task(name="familyplanning.tasks.requeue_missing_documents")
def requeue_missing_documents(older_than_minutes: int | None = None, limit: int | None = None) -> list:
    """Beat, every 2 minutes: queue again the documents a lost message left unmade. Returns the applications' ids."""
    queued = issuing.requeue_missing(
        ((DOCUMENT, generate_document),),
        what="family-planning document",
        older_than_minutes=older_than_minutes,
        limit=limit,
    )
    return [pk for pk, _generation in queued]
