"""Beat job of the documents: remove uploads that were never attached to a case, and what interrupted writes left."""

from celery import shared_task

from . import services


@shared_task(name="portal.documents.tasks.purge_unattached")
def purge_unattached():
    services.documents_purge_partial_files()
    return services.documents_purge_unattached()
