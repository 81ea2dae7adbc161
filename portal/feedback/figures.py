"""The public monthly figures of every office, for every service: ratings, satisfaction (share of levels 3 to 5),
average level, complaints received, and the share of the complaints received that month that were answered on time,
counting only those already answered or past their time limit (an open complaint within its limit is not yet decided).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from accounts.models import Office

from .models import Feedback, FeedbackKind, FeedbackStatus, Rating, RatingLevel

# Satisfied for the public figures: "fairly satisfied" and better.
SATISFIED_MIN_LEVEL = RatingLevel.AVERAGE
# Months offered on the figures page, newest first.
FIGURES_MONTHS_MAX = 36


def _month_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(day.year, day.month, 1))


def _next_month(day: datetime.date) -> datetime.date:
    return datetime.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


# --- public figures ------------------------------------------------------------------------------------


@dataclass
class OfficeFigures:
    """One office's figures for a month (office None: all offices together)."""

    office: Office | None
    ratings: int = 0
    satisfied: int = 0
    level_sum: int = 0
    complaints: int = 0
    complaints_decided: int = 0  # answered, or open past the time limit
    complaints_on_time: int = 0

    @property
    def satisfaction(self) -> float | None:
        """Share of ratings at level 3 or better, in per cent."""
        return 100 * self.satisfied / self.ratings if self.ratings else None

    @property
    def average(self) -> float | None:
        return self.level_sum / self.ratings if self.ratings else None

    @property
    def on_time_share(self) -> float | None:
        """Per cent of the decided complaints answered within the time limit."""
        return 100 * self.complaints_on_time / self.complaints_decided if self.complaints_decided else None

    def add(self, other: OfficeFigures):
        for name in ("ratings", "satisfied", "level_sum", "complaints", "complaints_decided", "complaints_on_time"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def month_range(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The month's first instant and the next month's, in the portal's time zone."""
    return _month_start(month), _month_start(_next_month(month))


def monthly_figures(*, month: datetime.date, today: datetime.date | None = None):
    """(rows, total) for the month of `month`: every active family-planning office, and any other office with
    ratings or complaints that month, in division-code order. Three queries whatever the number of offices."""
    today = today or timezone.localdate()
    start, end = month_range(month)
    ratings = (
        Rating.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("office")
        .annotate(
            n=Count("pk"),
            satisfied=Count("pk", filter=Q(level__gte=SATISFIED_MIN_LEVEL)),
            level_sum=Sum("level"),
        )
        .order_by()
    )
    complaints = (
        Feedback.objects.filter(kind=FeedbackKind.COMPLAINT, created_at__gte=start, created_at__lt=end)
        .values("office")
        .annotate(
            n=Count("pk"),
            decided=Count(
                "pk", filter=Q(answered_at__isnull=False) | Q(status=FeedbackStatus.OPEN, due_date__lt=today)
            ),
            on_time=Count("pk", filter=Q(answered_on_time=True)),
        )
        .order_by()
    )
    figures: dict[int, OfficeFigures] = {}
    for row in ratings:
        entry = figures.setdefault(row["office"], OfficeFigures(office=None))
        entry.ratings, entry.satisfied, entry.level_sum = row["n"], row["satisfied"], row["level_sum"] or 0
    for complaint in complaints:
        entry = figures.setdefault(complaint["office"], OfficeFigures(office=None))
        entry.complaints = complaint["n"]
        entry.complaints_decided, entry.complaints_on_time = complaint["decided"], complaint["on_time"]
    offices = Office.objects.filter(
        Q(active=True, kind=Office.Kind.FAMILY_PLANNING) | Q(pk__in=list(figures))
    ).order_by("division_code", "name")
    rows, total = [], OfficeFigures(office=None)
    for office in offices:
        entry = figures.get(office.pk) or OfficeFigures(office=None)
        entry.office = office
        rows.append(entry)
        total.add(entry)
    return rows, total


def figures_months(today: datetime.date | None = None) -> list[datetime.date]:
    """First days of the months with figures to show, newest first: from the first rating or complaint to now."""
    today = today or timezone.localdate()
    current = today.replace(day=1)
    firsts = [
        Rating.objects.aggregate(first=Min("created_at"))["first"],
        Feedback.objects.filter(kind=FeedbackKind.COMPLAINT).aggregate(first=Min("created_at"))["first"],
    ]
    known = [timezone.localdate(value).replace(day=1) for value in firsts if value is not None]
    first = min(known, default=current)
    months: list[datetime.date] = []
    month = current
    while month >= first and len(months) < FIGURES_MONTHS_MAX:
        months.append(month)
        month = (month - datetime.timedelta(days=1)).replace(day=1)
    return months
