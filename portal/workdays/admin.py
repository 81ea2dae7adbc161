"""Administrators keep the holiday calendar here; every change recomputes the provisional deadlines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.db.models.functions import ExtractYear
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from . import calendar
from .models import CalendarDay, CalendarYear, MissingYearNotice
from .services import CalendarError, calendar_changed, calendar_year_load_official

if TYPE_CHECKING:
    from django.forms import ModelForm
    from django_stubs_ext import StrOrPromise

    # The mixin always comes before ModelAdmin in an admin class.
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object


class YearListFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        years = (
            CalendarDay.objects.annotate(y=ExtractYear("date")).order_by("-y").values_list("y", flat=True).distinct()
        )
        return [(str(y), str(y)) for y in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> QuerySet[CalendarDay]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(date__year=int(value))
        return queryset


class CalendarChangeMixin(_ModelAdmin):
    """Saving or deleting through the admin drops cached calendars and recomputes provisional deadlines on commit."""

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm[Any], change: bool) -> None:
        super().save_model(request, obj, form, change)
        calendar_changed()

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        super().delete_model(request, obj)
        calendar_changed()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        super().delete_queryset(request, queryset)
        calendar_changed()


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarChangeMixin, admin.ModelAdmin[CalendarDay]):
    list_display = ("date", "weekday", "kind", "name", "note")
    list_filter = ("kind", YearListFilter)
    date_hierarchy = "date"
    search_fields = ("name",)
    ordering = ("-date",)
    fields = ("date", "kind", "name", "note")

    @admin.display(description=_("weekday"))
    def weekday(self, obj: CalendarDay) -> StrOrPromise:
        from django.utils.dates import WEEKDAYS

        return WEEKDAYS[obj.date.weekday()]


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarChangeMixin, admin.ModelAdmin[CalendarYear]):
    list_display = ("year", "complete", "source", "updated_at")
    list_filter = ("complete",)
    fields = ("year", "complete", "note")
    actions = ("load_official_calendar",)

    @admin.display(description=_("calendar in use"))
    def source(self, obj: CalendarYear) -> StrOrPromise:
        if obj.complete:
            return _("official: this table")
        if calendar.library_covers(obj.year):
            return _("official: chinesecalendar library")
        return _("estimated: deadlines are provisional")

    @admin.action(description=_("Copy the official calendar from the chinesecalendar library"), permissions=["change"])
    def load_official_calendar(self, request: HttpRequest, queryset: QuerySet[CalendarYear]) -> None:
        for entry in queryset.order_by("year"):
            try:
                count = calendar_year_load_official(year=entry.year)
            except CalendarError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(year)s: %(count)s days copied; the year is marked complete.")
                    % {"year": entry.year, "count": count},
                    messages.SUCCESS,
                )


@admin.register(MissingYearNotice)
class MissingYearNoticeAdmin(admin.ModelAdmin[MissingYearNotice]):
    """A record of the warnings sent; written only by the beat job."""

    list_display = ("year", "notified_at", "recipients")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: MissingYearNotice | None = None) -> bool:
        return False
