"""The outbox through a real Celery worker on Redis and PostgreSQL: queued in a committed transaction, then sent."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from portal import celery_app
from portal.notify.delivery import outbox_due, outbox_due_ids
from portal.notify.models import Channel, MessageStatus, OutboxMessage
from portal.notify.services import queue_message

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def private_queue():
    """Publish to, and consume from, a queue of this test's own.

    Another test process (or another person's run) with an in-process worker on the same Redis database would
    otherwise take our task messages, whose primary keys mean nothing in its database.
    """
    name = f"test-notify-{uuid.uuid4().hex[:12]}"
    queues = celery_app.amqp.queues
    old_default, old_consume_from = celery_app.conf.task_default_queue, queues._consume_from
    old_routes = celery_app.conf.task_routes
    celery_app.conf.task_default_queue = name  # the router reads it on every publish
    celery_app.conf.update(task_routes={})  # notify tasks too (update() rebuilds the cached router)
    try:
        yield name
    finally:
        celery_app.conf.task_default_queue = old_default
        celery_app.conf.update(task_routes=old_routes)
        queues._consume_from = old_consume_from  # start_worker(queues=...) narrowed the app-wide selection
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_delete(name)


def wait_until_done(pks, timeout=20.0):
    """Until every row is final: sent, or kept (the database SMS backend delivers nothing)."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = dict(OutboxMessage.objects.filter(pk__in=pks).values_list("pk", "status"))
        if set(statuses.values()) <= {MessageStatus.SENT, MessageStatus.KEPT} or time.monotonic() > deadline:
            return statuses
        time.sleep(0.2)


def test_worker_delivers_messages_queued_in_a_committed_transaction(private_queue, settings):
    assert connection.vendor == "postgresql", "the services tier runs on PostgreSQL (DATABASE_URL)"
    assert celery_app.conf.broker_url.startswith("redis://")
    settings.SMS_BACKEND = "database"

    with start_worker(celery_app, perform_ping_check=False, queues=[private_queue], shutdown_timeout=30):
        with transaction.atomic():
            email = queue_message(
                channel=Channel.EMAIL,
                to="zhang.san@example.test",
                subject="Your application was received",
                body="Case WF-2026-000001 was received.",
                html_body="<p>Case WF-2026-000001 was received.</p>",
                template="cases/received",
            )
            text = queue_message(channel=Channel.SMS, to="+8613800138000", body="Code 483920", template="probe")
        statuses = wait_until_done([email.pk, text.pk])

    assert statuses == {email.pk: MessageStatus.SENT, text.pk: MessageStatus.KEPT}
    assert [m.to for m in mail.outbox] == [["zhang.san@example.test"]]
    email.refresh_from_db()
    assert email.attempts == 1 and email.sent_at is not None and email.provider_id


def test_relay_query_can_use_the_partial_index():
    OutboxMessage.objects.create(channel=Channel.SMS, to="+8613800138000", body="x", next_attempt_at=timezone.now())
    assert len(outbox_due_ids()) == 1
    qs = outbox_due().values_list("pk", flat=True)[:20]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a tiny table would be scanned; ask what the planner could use
        try:
            plan = qs.explain()
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "notify_outbox_due" in plan
