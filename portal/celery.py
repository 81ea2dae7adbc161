"""The Celery app: broker and schedule come from settings (Redis when REDIS_URL is set, else an embedded broker).

Queues and routes are in settings (CELERY_TASK_QUEUES, CELERY_TASK_ROUTES). A task's log lines carry the id of
the web request that queued it (sent as a message header), so one id follows a citizen's click into the worker.
"""

import logging
import os
import time

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from portal.logging import request_id_var, task_id_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

REQUEST_ID_HEADER = "portal_request_id"


@before_task_publish.connect(weak=False)
def _send_request_id(headers=None, **kwargs):
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@task_prerun.connect(weak=False)
def _bind_log_context(task_id=None, task=None, **kwargs):
    # In a worker, custom message headers become attributes of the task's request context; a task applied
    # in-process (apply()) keeps them in request.headers. A task queued by the beat has no web request behind
    # it: its lines carry its own task id instead.
    context = getattr(task, "request", None)
    request_id = getattr(context, REQUEST_ID_HEADER, None) or (getattr(context, "headers", None) or {}).get(
        REQUEST_ID_HEADER
    )
    request_id_var.set(request_id or task_id or "")
    task_id_var.set(task_id or "")


@task_postrun.connect(weak=False)
def _unbind_log_context(**kwargs):
    request_id_var.set("")
    task_id_var.set("")


# --- publishing from a request -------------------------------------------------------------------------------
# A publish to a stopped broker fails at once, one to a hung broker after the socket timeout (settings). Either way
# this process then leaves the broker alone for BROKER_RETRY_AFTER seconds, so a request that queues several tasks,
# and the requests after it, do not each wait out the timeout again. Nothing is lost: every task published here has
# a safety net that works from the database (the outbox relay, the re-queue sweeps).
BROKER_RETRY_AFTER = 5.0
_broker_down_until = 0.0
logger = logging.getLogger("portal.celery")


def publish(task, *args) -> bool:
    """task.delay(*args), or False (logged) when the broker is unreachable now or was a moment ago."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        logger.warning("%s%s not published: the broker was unreachable a moment ago; a sweep will", task.name, args)
        return False
    try:
        task.delay(*args)
    except Exception as exc:  # noqa: BLE001 - any broker fault: the database-driven sweep is the safety net
        _broker_down_until = time.monotonic() + BROKER_RETRY_AFTER
        logger.warning(
            "%s%s not published (%s: %s); a sweep will", task.name, args, exc.__class__.__name__, str(exc)[:200]
        )
        return False
    return True


def publish_on_commit(task, *args) -> None:
    """Publish once the surrounding transaction commits (never for one that rolls back); see publish()."""
    from django.db import transaction

    transaction.on_commit(lambda: publish(task, *args))
