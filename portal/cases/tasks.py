"""Beat jobs of the case machinery."""

from celery import shared_task

from portal import registry

from . import services


@shared_task(name="portal.cases.tasks.sweep_deadlines")
def sweep_deadlines():
    return services.sweep_deadlines(registry.case_models())


@shared_task(name="portal.cases.tasks.recompute_provisional_deadlines")
def recompute_provisional_deadlines():
    return services.recompute_provisional_deadlines(registry.case_models())
