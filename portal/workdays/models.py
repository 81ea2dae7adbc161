"""The official working-day calendar as administrators keep it: holidays, make-up days and complete years."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday (day off)")
    WORKDAY = "workday", _("Make-up working day (调休)")


class CalendarDay(models.Model):
    """One day whose status differs from the plain Monday-to-Friday week, as officially announced.

    The table wins over the `chinesecalendar` library and over the estimates used for years without
    official data (docs/architecture.md#the-working-day-clock).
    """

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True, help_text=_("For example 春节 (Spring Festival)."))
    note = models.TextField(_("note"), blank=True, help_text=_("Where the official announcement was published."))
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()}{f' ({self.name})' if self.name else ''}"


class CalendarYear(models.Model):
    """A year whose holidays and make-up days are all in the table: deadlines in it are no longer provisional."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    complete = models.BooleanField(
        _("complete"),
        default=False,
        help_text=_(
            "Tick when every public holiday and make-up working day of this year, as announced by the State "
            "Council, has been entered. Deadlines in a complete year are no longer provisional."
        ),
    )
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class MissingYearNotice(models.Model):
    """Administrators were told that a year has no official calendar; the unique year makes it once only."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    notified_at = models.DateTimeField(_("notified"), auto_now_add=True)
    recipients = models.PositiveIntegerField(_("messages queued"), default=0)

    class Meta:
        verbose_name = _("missing-year notice")
        verbose_name_plural = _("missing-year notices")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)
