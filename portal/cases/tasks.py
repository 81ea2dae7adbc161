"""Beat jobs of the case machinery, and the notify task that e-mails the deadline digests."""

from typing import cast

from celery import shared_task

from portal import registry

from . import deadlines
from .models import Case


def _case_models() -> list[type[Case]]:
    # Each service registers its subclasses of Case (portal.registry, a lower layer, cannot name Case).
    return cast("list[type[Case]]", registry.case_models())


@shared_task(name="portal.cases.tasks.sweep_deadlines")
def sweep_deadlines() -> dict[str, int]:
    return deadlines.sweep_deadlines(_case_models())


@shared_task(name="portal.cases.tasks.recompute_provisional_deadlines")
def recompute_provisional_deadlines() -> int:
    return deadlines.recompute_provisional_deadlines(_case_models())


@shared_task(name="portal.cases.tasks.send_deadline_digests")
def send_deadline_digests() -> int:
    # On the notify queue (settings.CELERY_TASK_ROUTES): published when a sweep commits, and run by beat for any
    # digest a lost publish or a killed worker left unsent.
    return deadlines.send_deadline_digests()
