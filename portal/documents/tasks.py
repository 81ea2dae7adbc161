"""Beat job of the documents: remove uploads that were never attached to a case."""

from celery import shared_task

from . import services


@shared_task(name="portal.documents.tasks.purge_unattached")
def purge_unattached():
    return services.documents_purge_unattached()
