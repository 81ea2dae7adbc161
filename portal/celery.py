"""The Celery app: broker and schedule come from settings (Redis when REDIS_URL is set, else an embedded broker).

Queues and routes are in settings (CELERY_TASK_QUEUES, CELERY_TASK_ROUTES). A task's log lines carry the id of
the web request that queued it (sent as a message header), so one id follows a citizen's click into the worker.

With DEBUG off, a worker or beat whose configuration fails Django's system checks (portal/checks.py: no SITE_URL, an
SMS backend that delivers nothing, no mail transport, no Redis, …) refuses to start instead of failing silently.
"""

import logging
import os
import sys
import time

from celery import Celery
from celery.signals import beat_init, before_task_publish, task_postrun, task_prerun, worker_init

from portal.logging import request_id_var, task_id_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

REQUEST_ID_HEADER = "portal_request_id"
logger = logging.getLogger("portal.celery")


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


# --- refusing to start with a configuration that would fail silently -----------------------------------------
# Celery catches any Exception a signal handler raises (it logs it and goes on), so the refusal is a SystemExit.
PDF_QUEUE = "pdf"


def startup_errors(*, signs: bool = False) -> list:
    """The ERROR-level system checks (deployment checks included) this process fails; none while DEBUG is on.

    `signs`: this process consumes the pdf queue, so it needs the signing key even where SIGNING_KEY_FILE is empty.
    Nothing connects to the database or the broker (database checks are not run).
    """
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from django.conf import settings
    from django.core import checks

    if settings.DEBUG:
        return []
    messages = checks.run_checks(include_deployment_checks=True)  # as `manage.py check --deploy`, silencing too
    errors = [m for m in messages if m.level >= checks.ERROR and not m.is_silenced()]
    if signs:
        from portal.checks import signing_key_errors

        errors += [m for m in signing_key_errors(required=True) if m.id == "portal.E012" and not m.is_silenced()]
    return errors


def refuse_to_start(process: str, errors) -> None:
    """Exit with the errors, one per line with its hint, when there are any (logged too, for the log collector)."""
    if not errors:
        return
    lines = [f"The {process} refuses to start: {len(errors)} configuration error(s) (python manage.py check --deploy):"]
    for error in sorted(errors, key=lambda e: e.id or ""):
        lines.append(f"  {error.id}: {error.msg}")
        if error.hint:
            lines.append(f"    HINT: {error.hint}")
    text = "\n".join(lines)
    logger.critical("%s", text)
    print(text, file=sys.stderr, flush=True)
    # 78 is EX_CONFIG (sysexits.h): a supervisor can tell it from a crash (systemd: RestartPreventExitStatus=78).
    raise SystemExit(78)


def _consumes(worker, queue: str) -> bool:
    """Whether the worker (a WorkController) consumes `queue`: without --queues it consumes every declared queue."""
    try:
        selected = worker.app.amqp.queues.consume_from
    except AttributeError:
        return True
    return not selected or queue in selected


def check_worker_configuration(sender=None, **kwargs):
    """worker_init: exit when the configuration fails the checks (the signing key too when it consumes pdf)."""
    refuse_to_start("worker", startup_errors(signs=sender is None or _consumes(sender, PDF_QUEUE)))


def check_beat_configuration(sender=None, **kwargs):
    """beat_init: exit when the configuration fails the checks."""
    refuse_to_start("beat", startup_errors())


@worker_init.connect(weak=False)
def _on_worker_init(sender=None, **kwargs):
    # A worker a test starts inside its own process (celery.contrib.testing.worker.start_worker) runs on the test
    # settings, not a deployment's: it is not checked. Every `celery worker` command is.
    if type(sender).__module__.startswith("celery.contrib.testing"):
        return
    check_worker_configuration(sender)


@beat_init.connect(weak=False)
def _on_beat_init(sender=None, **kwargs):
    check_beat_configuration(sender)


# --- publishing from a request -------------------------------------------------------------------------------
# A publish to a stopped broker fails at once, one to a hung broker after the socket timeout (settings). Either way
# this process then leaves the broker alone for BROKER_RETRY_AFTER seconds, so a request that queues several tasks,
# and the requests after it, do not each wait out the timeout again. Nothing is lost: every task published here has
# a safety net that works from the database (the outbox relay, the re-queue sweeps).
BROKER_RETRY_AFTER = 5.0
_broker_down_until = 0.0


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
