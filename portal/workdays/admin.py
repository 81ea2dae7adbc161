"""Administrators keep the holiday calendar here; every change recomputes the provisional deadlines."""

from django.contrib import admin, messages
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext_lazy as _

from . import calendar
from .models import CalendarDay, CalendarYear, MissingYearNotice
from .services import CalendarError, calendar_changed, calendar_year_load_official


class YearListFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = (
            CalendarDay.objects.annotate(y=ExtractYear("date")).order_by("-y").values_list("y", flat=True).distinct()
        )
        return [(str(y), str(y)) for y in years]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(date__year=int(self.value()))
        return queryset


class CalendarChangeMixin:
    """Saving or deleting through the admin drops cached calendars and recomputes provisional deadlines on commit."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        calendar_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        calendar_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        calendar_changed()


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarChangeMixin, admin.ModelAdmin):
    list_display = ("date", "weekday", "kind", "name", "note")
    list_filter = ("kind", YearListFilter)
    date_hierarchy = "date"
    search_fields = ("name",)
    ordering = ("-date",)
    fields = ("date", "kind", "name", "note")

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        from django.utils.dates import WEEKDAYS

        return WEEKDAYS[obj.date.weekday()]


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarChangeMixin, admin.ModelAdmin):
    list_display = ("year", "complete", "source", "updated_at")
    list_filter = ("complete",)
    fields = ("year", "complete", "note")
    actions = ("load_official_calendar",)

    @admin.display(description=_("calendar in use"))
    def source(self, obj):
        if obj.complete:
            return _("official: this table")
        if calendar.library_covers(obj.year):
            return _("official: chinesecalendar library")
        return _("estimated: deadlines are provisional")

    @admin.action(description=_("Copy the official calendar from the chinesecalendar library"), permissions=["change"])
    def load_official_calendar(self, request, queryset):
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
class MissingYearNoticeAdmin(admin.ModelAdmin):
    """A record of the warnings sent; written only by the beat job."""

    list_display = ("year", "notified_at", "recipients")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
