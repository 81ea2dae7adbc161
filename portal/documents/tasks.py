"""Beat jobs of the documents: remove uploads never attached to a case, what interrupted writes left, and the bytes of
documents set aside or withdrawn once their retention period is over."""

from celery import shared_task

from . import services


@shared_task(name="portal.documents.tasks.purge_unattached")
def purge_unattached():
    services.documents_purge_partial_files()
    return services.documents_purge_unattached()


@shared_task(name="portal.documents.tasks.purge_set_aside")
def purge_set_aside() -> int:
    return services.documents_purge_set_aside()
