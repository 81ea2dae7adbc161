"""Working-day arithmetic on the official calendar: table, then chinesecalendar, then estimates.

The rules and their sources: docs/architecture.md#the-working-day-clock.

Each day's status comes from the first source that knows it:

1. the `CalendarDay` table that administrators keep (public holidays and make-up working days);
   in a year the `CalendarYear` table marks complete and the library does not cover, every other day
   is a plain Monday-to-Friday day;
2. the `chinesecalendar` library (official data, 2004 to 2026 in the pinned version);
3. an estimate for years without official data: Monday to Friday minus the `holidays` library's China
   holidays. Such a day is provisional, and so is every deadline whose counting touched it.

A year's statuses are computed once per process and kept as byte strings (one byte a day), so counting
is a handful of C-level `bytes.count`/`bytes.index` calls. Table changes reach other processes through a
version token in the Django cache, read at most every VERSION_TTL seconds and at the start of every
request and Celery task (see `mark_stale`, connected in apps.py).
"""

import datetime
import functools
import logging
import threading
import time
import uuid
from dataclasses import dataclass

import chinese_calendar
import holidays as holidays_lib
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

SOURCE_TABLE = "table"  # a CalendarDay row
SOURCE_TABLE_YEAR = "table_year"  # no row, but the year is complete in the table: plain Monday to Friday
SOURCE_OFFICIAL = "chinese_calendar"  # the chinesecalendar library
SOURCE_ESTIMATE = "estimate"  # Monday to Friday minus the `holidays` library's estimates: provisional
_SOURCES = (SOURCE_TABLE, SOURCE_TABLE_YEAR, SOURCE_OFFICIAL, SOURCE_ESTIMATE)

VERSION_KEY = "workdays:calendar-version"
VERSION_TTL = 5.0  # seconds a process trusts its cached calendar without asking the shared cache

_ONE_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Deadline:
    date: datetime.date
    provisional: bool


@dataclass(frozen=True)
class _Year:
    year: int
    official: bool
    first: int  # ordinal of 1 January
    work: bytes  # one byte a day: 1 = working day
    provisional: bytes  # 1 = the day's status is an estimate
    sources: bytes  # index into _SOURCES


# --- the libraries (never change while a process runs) ------------------------------------------


def _days(year: int) -> list[datetime.date]:
    first = datetime.date(year, 1, 1)
    return [first + datetime.timedelta(days=i) for i in range((datetime.date(year, 12, 31) - first).days + 1)]


def _china_estimates(year: int) -> set[datetime.date]:
    try:
        return set(holidays_lib.China(years=year).keys())
    except Exception:  # noqa: BLE001 - an estimate is optional; the clock must never crash on a year
        logger.exception("holidays.China(years=%s) failed; using Monday to Friday for that year", year)
        return set()


@functools.lru_cache(maxsize=256)
def _library_year(year: int) -> tuple[bool, bytes]:
    """(official, working-day flags) from chinesecalendar, or the estimate when it has no data for the year."""
    days = _days(year)
    try:
        return True, bytes(chinese_calendar.is_workday(day) for day in days)
    except NotImplementedError:  # outside the library's years
        pass
    estimated_off = _china_estimates(year)
    return False, bytes(day.weekday() < 5 and day not in estimated_off for day in days)


def library_covers(year: int) -> bool:
    """Whether the chinesecalendar library carries official data for `year`."""
    return _library_year(year)[0]


# --- the table (read once per year and calendar version) ----------------------------------------


@functools.lru_cache(maxsize=4)
def _complete_years(version: object) -> frozenset[int]:
    from .models import CalendarYear

    return frozenset(CalendarYear.objects.filter(complete=True).order_by().values_list("year", flat=True))


@functools.lru_cache(maxsize=128)
def _year(year: int, version: object) -> _Year:
    from .models import CalendarDay, DayKind

    lib_official, lib_work = _library_year(year)
    complete = year in _complete_years(version)
    days = _days(year)
    if lib_official:
        work, prov, source = bytearray(lib_work), bytearray(len(days)), _SOURCES.index(SOURCE_OFFICIAL)
    elif complete:
        work = bytearray(day.weekday() < 5 for day in days)
        prov, source = bytearray(len(days)), _SOURCES.index(SOURCE_TABLE_YEAR)
    else:
        work, prov, source = bytearray(lib_work), bytearray(b"\x01" * len(days)), _SOURCES.index(SOURCE_ESTIMATE)
    sources = bytearray([source] * len(days))
    first = days[0].toordinal()
    # One query per year; the date's unique index serves the range the __year lookup becomes.
    for day, kind in CalendarDay.objects.filter(date__year=year).order_by().values_list("date", "kind"):
        i = day.toordinal() - first
        work[i] = kind == DayKind.WORKDAY
        prov[i] = 0
        sources[i] = _SOURCES.index(SOURCE_TABLE)
    return _Year(
        year=year,
        official=lib_official or complete,
        first=first,
        work=bytes(work),
        provisional=bytes(prov),
        sources=bytes(sources),
    )


# --- cache versioning ----------------------------------------------------------------------------


class _VersionState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version: object = None  # a token from the cache; None before any was read
        self.checked_at = float("-inf")
        self.stale = True


_state = _VersionState()
_warned_years: set[int] = set()


def _current_version() -> object:
    """The calendar version this process computes with, re-read from the shared cache when due."""
    now = time.monotonic()
    if not _state.stale and now - _state.checked_at < VERSION_TTL:
        return _state.version
    with _state.lock:
        try:
            version = cache.get(VERSION_KEY)
        except Exception:  # noqa: BLE001 - cache down: keep computing with what this process has
            logger.warning("calendar version unreadable from the cache; using this process's copy", exc_info=True)
            version = _state.version
        if version != _state.version:
            _year.cache_clear()
            _complete_years.cache_clear()
            _state.version = version
        _state.checked_at = now
        _state.stale = False
    return _state.version


def mark_stale(**kwargs: object) -> None:
    """Re-read the version before the next lookup (connected to request_started and task_prerun)."""
    _state.stale = True


def bump_version() -> None:
    """Tell every process that the table changed; call after the change is committed."""
    token = uuid.uuid4().hex
    try:
        cache.set(VERSION_KEY, token, timeout=None)
    except Exception:  # noqa: BLE001 - the other processes catch up when the cache is back
        logger.warning("calendar version not written to the cache; other processes may lag", exc_info=True)
    with _state.lock:
        _year.cache_clear()
        _complete_years.cache_clear()
        _state.version = token
        _state.checked_at = time.monotonic()
        _state.stale = False


def clear_caches() -> None:
    """Forget everything read from the table (tests; after bulk changes outside the admin)."""
    with _state.lock:
        _year.cache_clear()
        _complete_years.cache_clear()
        _state.stale = True
        _state.version = object()  # differs from whatever the cache holds, so the next read rebuilds
    _warned_years.clear()


def _get_year(year: int) -> _Year:
    if not datetime.MINYEAR <= year <= datetime.MAXYEAR:
        raise OverflowError(f"year {year} is out of range for a date")
    return _year(year, _current_version())


# --- the public API ------------------------------------------------------------------------------


def _as_date(day: datetime.date) -> datetime.date:
    if isinstance(day, datetime.datetime):
        return timezone.localdate(day) if timezone.is_aware(day) else day.date()
    return day


def _warn_provisional(year: int) -> None:
    if year not in _warned_years:
        _warned_years.add(year)
        logger.warning(
            "no official holiday calendar for %s: deadlines are estimated (provisional) until an administrator "
            "enters the year in the admin (Calendar days, Calendar years)",
            year,
        )


def year_is_official(year: int) -> bool:
    """The table marks the year complete, or chinesecalendar covers it."""
    return _get_year(year).official


def day_info(day: datetime.date) -> tuple[bool, bool, str]:
    """(is_workday, provisional, source) of one day; source is one of the SOURCE_* names."""
    day = _as_date(day)
    data = _get_year(day.year)
    i = day.toordinal() - data.first
    return bool(data.work[i]), bool(data.provisional[i]), _SOURCES[data.sources[i]]


def is_workday(day: datetime.date) -> bool:
    return day_info(day)[0]


def add_workdays(start: datetime.date, n: int) -> Deadline:
    """The N-th working day after `start` (day 0). From a non-working start, the first working day after it is day 1.

    Provisional when any day counted over, (start, deadline], is an estimate; for n == 0, when the
    start's year has no official data.
    """
    start = _as_date(start)
    if n < 0:
        raise ValueError("n must not be negative")
    data = _get_year(start.year)
    if n == 0:
        if not data.official:
            _warn_provisional(start.year)
        return Deadline(start, not data.official)
    pos = start.toordinal() - data.first + 1  # first day counted
    remaining = n
    provisional = False
    while True:
        size = len(data.work)
        available = data.work.count(1, pos) if pos < size else 0
        if available >= remaining:
            end = pos - 1
            for _ in range(remaining):
                end = data.work.index(1, end + 1)
            if 1 in data.provisional[pos : end + 1]:
                provisional = True
                _warn_provisional(data.year)
            return Deadline(datetime.date.fromordinal(data.first + end), provisional)
        if pos < size and 1 in data.provisional[pos:]:
            provisional = True
            _warn_provisional(data.year)
        remaining -= available
        data = _get_year(data.year + 1)
        pos = 0


def workdays_between(start: datetime.date, end: datetime.date) -> int:
    """Working days in (start, end]; 0 when end is not after start."""
    start, end = _as_date(start), _as_date(end)
    if end <= start:
        return 0
    first_counted = start + _ONE_DAY
    total = 0
    for year in range(first_counted.year, end.year + 1):
        data = _get_year(year)
        lo = max(first_counted.toordinal(), data.first) - data.first
        hi = min(end.toordinal(), data.first + len(data.work) - 1) - data.first + 1
        total += data.work.count(1, lo, hi)
    return total
