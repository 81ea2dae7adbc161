"""The reminder that next year's official holiday table must be entered (docs/deploy.md#9-what-to-monitor).

The State Council publishes the coming year's public holidays and make-up working days in November or December, and
the pinned chinesecalendar library knows only the years before its release. From 1 December, while the coming year
is neither covered by the library nor marked complete in the calendar table, `portal.W001` is a warning of
`manage.py migrate` (so of every release) and of `manage.py check --deploy --database default`; the current year
missing is the same warning all year. The beat job `check_calendar_years` tells the administrators by e-mail (once
per year) and logs a warning every run in that period.
"""

import datetime
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.db import DatabaseError
from django.utils import timezone

from . import calendar

REMIND_FROM_MONTH = 12  # the coming year is due from 1 December


def years_to_enter(today: datetime.date) -> list[int]:
    """The years whose official holiday table is missing and needed now: this one, and from December the next."""
    years = [today.year, today.year + 1] if today.month >= REMIND_FROM_MONTH else [today.year]
    return [year for year in years if not calendar.year_is_official(year)]


def calendar_warnings(today: datetime.date) -> list[checks.CheckMessage]:
    return [
        checks.Warning(
            f"There is no official holiday table for {year}: working-day deadlines that reach into {year} are "
            "estimated and shown to citizens and staff as provisional.",
            hint=(
                f"When the State Council publishes the {year} holiday arrangements, enter each public holiday and "
                "make-up working day in the admin (Working-day calendar → Calendar days) and mark the year complete "
                f"(Calendar years), or run `manage.py load_official_calendar {year}` once a chinesecalendar release "
                "that knows the year is installed."
            ),
            id="portal.W001",
        )
        for year in years_to_enter(today)
    ]


def check_calendar_years(
    app_configs: Sequence[AppConfig] | None = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    # A database check: run by migrate and by `check --database default`, never by a bare `check`.
    if settings.DEBUG or not databases or "default" not in databases:
        return []
    try:
        return calendar_warnings(timezone.localdate())
    except DatabaseError:  # before the first migrate: the table is not there yet
        return []
