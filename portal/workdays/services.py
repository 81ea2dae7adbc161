"""Changing the calendar table and watching for missing years: called by the admin, commands and tasks."""

import logging
from datetime import date

import chinese_calendar
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import calendar
from .checks import years_to_enter
from .models import CalendarDay, CalendarYear, DayKind, MissingYearNotice

logger = logging.getLogger(__name__)


class CalendarError(Exception):
    """The calendar operation cannot be done; `str()` is a message for the user."""


def _queue_recompute() -> None:
    from portal.cases.tasks import recompute_provisional_deadlines

    recompute_provisional_deadlines.delay()


def calendar_changed() -> None:
    """After a change to the table commits: every process drops its cached years, provisional deadlines are recomputed.

    Both happen on commit, in that order, so the worker cannot recompute with the old table. If the
    broker is down the recompute is lost here, and the beat's `check_calendar_years` does it later.
    """
    transaction.on_commit(calendar.bump_version)
    transaction.on_commit(_queue_recompute, robust=True)


def _official_name(value: str) -> str:
    try:
        name: str = chinese_calendar.Holiday(value).chinese
        return name
    except ValueError:
        return value or ""


def calendar_year_load_official(*, year: int) -> int:
    """Copy chinesecalendar's holidays and make-up working days of `year` into the table and mark the year complete.

    Rows already in the table for those dates are overwritten (kind and name); other rows are kept.
    Returns the number of days written.
    """
    if not calendar.library_covers(year):
        raise CalendarError(
            _("The chinesecalendar library has no official data for %(year)s: enter that year's days by hand.")
            % {"year": year}
        )
    days = [(day, DayKind.HOLIDAY, name) for day, name in chinese_calendar.holidays.items() if day.year == year]
    days += [(day, DayKind.WORKDAY, name) for day, name in chinese_calendar.workdays.items() if day.year == year]
    # The library's holiday table lists only holidays and make-up days; weekends are implicit.
    note = f"chinesecalendar {getattr(chinese_calendar, '__version__', '')}".strip()
    with transaction.atomic():
        for day, kind, name in sorted(days):
            CalendarDay.objects.update_or_create(
                date=day,
                defaults={"kind": kind, "name": _official_name(name)},
                create_defaults={"kind": kind, "name": _official_name(name), "note": note},
            )
        CalendarYear.objects.update_or_create(
            year=year, defaults={"complete": True}, create_defaults={"complete": True, "note": note}
        )
        calendar_changed()
    logger.info("official calendar %s loaded into the table: %s days", year, len(days))
    return len(days)


def calendar_check_years(*, today: date | None = None) -> list[int]:
    """Tell the administrators, once per year, that this year or the next has no official calendar.

    The notice row's unique year is the guard: of two runs at once, one inserts and notifies, the
    other finds the row. Returns the years notified by this run.
    """
    from accounts.notify import notify_administrators

    today = today or timezone.localdate()
    notified = []
    for year in (today.year, today.year + 1):
        if calendar.year_is_official(year) or MissingYearNotice.objects.filter(year=year).exists():
            continue
        with transaction.atomic():
            notice, created = MissingYearNotice.objects.get_or_create(year=year)
            if not created:
                continue
            queued = notify_administrators(template="workdays/missing_year", context={"year": year})
            notice.recipients = len(queued)
            notice.save(update_fields=["recipients"])
        if not queued:
            logger.warning("no official calendar for %s and no active administrator to tell", year)
        notified.append(year)
    for year in years_to_enter(today):
        # Every run (every 6 hours) while the year is due, for the operators' log alarms (docs/deploy.md#9).
        logger.warning(
            "no official holiday table for %s: enter it in the admin (Calendar days, Calendar years) or run "
            "manage.py load_official_calendar %s once chinesecalendar knows it",
            year,
            year,
        )
    return notified
