"""Beat job of the working-day clock: warn about missing calendar years, recompute provisional deadlines."""

from typing import TypedDict

from celery import shared_task

from . import services


class CalendarCheck(TypedDict):
    notified: list[int]  # the years the administrators were told about
    recomputed: int  # provisional deadlines changed


@shared_task(name="portal.workdays.tasks.check_calendar_years")
def check_calendar_years() -> CalendarCheck:
    """Notify once per missing year; then recompute provisional deadlines in case an on-commit queueing was lost."""
    from portal.cases.tasks import recompute_provisional_deadlines

    notified = services.calendar_check_years()
    changed = recompute_provisional_deadlines()
    return {"notified": notified, "recomputed": changed}
