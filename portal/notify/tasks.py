"""Worker tasks of the outbox: deliver one message; the beat relay delivers whatever is due."""

from celery import shared_task

from . import delivery


@shared_task(name="portal.notify.tasks.deliver", ignore_result=True)
def deliver(pk):
    # No Celery autoretry: a failure is recorded on the row and the relay is the one retry path.
    return delivery.outbox_deliver(message_id=pk)


@shared_task(name="portal.notify.tasks.relay_outbox", ignore_result=True)
def relay_outbox():
    return delivery.outbox_relay()
