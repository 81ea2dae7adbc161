"""The working-day clock (docs/architecture.md#the-working-day-clock)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkdaysConfig(AppConfig):
    name = "portal.workdays"
    label = "workdays"
    verbose_name = _("Working-day calendar")

    def ready(self) -> None:
        from celery.signals import task_prerun
        from django.core import checks
        from django.core.signals import request_started

        from .calendar import mark_stale
        from .checks import check_calendar_years

        # portal.W001: the coming year's holiday table is due (migrate and `check --database default`).
        checks.register(check_calendar_years, "portal", checks.Tags.database)

        # Each request and task re-reads the shared calendar version once, so an administrator's change
        # is seen by the next piece of work in every process (the recompute task included).
        request_started.connect(mark_stale, dispatch_uid="workdays-mark-stale-request")
        task_prerun.connect(mark_stale, dispatch_uid="workdays-mark-stale-task", weak=False)
