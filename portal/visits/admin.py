"""Booked visits in the admin: each station's opening hours and capacity (staff edit only their own office's), and
the visits, where the officer records "came" (originals seen, paper copy collected) or "did not come"
(docs/architecture.md#booked-visits). Both are scoped like every list: a visit is seen by the staff of the station
receiving it, of the agency handling its case's service."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.scoping import OfficeScopedAdminMixin
from portal.bigtables import EstimatedCountPaginator

from . import purposes, services
from .models import Visit, VisitStation, VisitStatus
from .slots import station_changed


@admin.register(VisitStation)
class VisitStationAdmin(OfficeScopedAdminMixin, admin.ModelAdmin):
    scope_by_service = False  # an office's own settings, not a service's case
    list_display = ("office", "active", "hours", "slot_minutes", "capacity", "days_ahead")
    list_select_related = ("office",)
    fieldsets = (
        (None, {"fields": ("office", "active")}),
        (
            _("Opening hours"),
            {"fields": (("morning_opens", "morning_closes"), ("afternoon_opens", "afternoon_closes"))},
        ),
        (_("Slots"), {"fields": ("slot_minutes", "capacity", "days_ahead")}),
    )

    @admin.display(description=_("opening hours"))
    def hours(self, obj: VisitStation) -> str:
        return ", ".join(f"{opens:%H:%M}–{closes:%H:%M}" for opens, closes in obj.periods())

    def save_model(self, request: HttpRequest, obj: VisitStation, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:
            station_changed(obj)


class DayFilter(admin.SimpleListFilter):
    title = _("day")
    parameter_name = "day"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("today", pgettext_lazy("visits", "Today")),
            ("coming", pgettext_lazy("visits", "Coming")),
            ("past", pgettext_lazy("visits", "Past")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Visit]) -> QuerySet[Visit]:
        today = timezone.localdate()
        if self.value() == "today":
            return queryset.filter(slot__day=today)
        if self.value() == "coming":
            return queryset.filter(slot__day__gt=today)
        if self.value() == "past":
            return queryset.filter(slot__day__lt=today)
        return queryset


@admin.register(Visit)
class VisitAdmin(OfficeScopedAdminMixin, admin.ModelAdmin):
    office_fields = ("slot__station__office",)
    service_type_field = "content_type"  # a visit belongs to its case's service
    show_full_result_count = False  # bookings grow without bound: no COUNT(*) of the whole table
    paginator = EstimatedCountPaginator
    list_display = ("when", "case_link", "applicant_masked", "purpose_title", "outcome", "station")
    list_filter = (DayFilter, "status")
    list_select_related = ("slot__station__office", "applicant", "content_type")
    search_fields = ("=case_number",)
    ordering = ("-slot__day", "slot__starts_at", "pk")
    change_form_template = "admin/visits/visit_change_form.html"
    fields = (
        "when",
        "case_link",
        "applicant_masked",
        "purpose_title",
        "station",
        "status",
        "created_at",
        "reminder_sent_at",
        "closed_at",
        "outcome_by",
        "outcome_note",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=pgettext_lazy("visits", "time"), ordering="slot__day")
    def when(self, visit: Visit) -> str:
        slot = visit.slot
        return f"{slot.day:%Y-%m-%d} {slot.starts_at:%H:%M}–{slot.ends_at:%H:%M}"

    @admin.display(description=_("case number"), ordering="case_number")
    def case_link(self, visit: Visit) -> str:
        return format_html('<a href="{}">{}</a>', case_admin_url(visit), visit.case_number)

    @admin.display(description=_("applicant"))
    def applicant_masked(self, visit: Visit) -> str:
        return services.masked_applicant(visit.applicant)

    @admin.display(description=_("purpose"))
    def purpose_title(self, visit: Visit) -> Any:
        purpose = purposes.get(visit.purpose)
        return purpose.title if purpose else visit.purpose

    @admin.display(description=pgettext_lazy("visits", "station"))
    def station(self, visit: Visit) -> Any:
        return visit.slot.station.office

    @admin.display(description=_("status"), ordering="status")
    def outcome(self, visit: Visit) -> Any:
        return outcome_label(visit)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # Titled by what it lists, not "select … to change": nothing here is edited.
        return super().changelist_view(
            request, {"title": capfirst(self.opts.verbose_name_plural), **(extra_context or {})}
        )

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/outcome/",
                self.admin_site.admin_view(self.outcome_view),
                name="{}_{}_outcome".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST":
            return HttpResponseNotAllowed(["GET"])  # nothing is edited; the outcome is its own POST
        visit = self.get_object(request, unquote(object_id))
        context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
            "visit_outcome": outcome_form(request, visit),
        }
        return super().change_view(request, object_id, form_url, context)

    def outcome_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST: record "came" or "did not come" (portal.visits.services.record_outcome); back to `next`."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        visit = self.get_object(request, unquote(object_id))  # 404 outside the staff member's scope
        if not self.has_change_permission(request, visit):
            raise PermissionDenied
        try:
            recorded = services.record_outcome(
                visit,
                outcome=request.POST.get("outcome", ""),
                by=request.user,  # type: ignore[arg-type]
                note=request.POST.get("internal_note", ""),
            )
        except services.VisitError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(
                request,
                _("Visit of %(number)s recorded: %(outcome)s.")
                % {"number": visit.case_number, "outcome": outcome_label(recorded)},
                messages.SUCCESS,
            )
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("admin:visits_visit_change", args=[visit.pk])
        return HttpResponseRedirect(target)


def case_admin_url(visit: Visit) -> str:
    """The case's review page in the admin (by its content type: portal does not import the service)."""
    content_type = visit.content_type
    return reverse(f"admin:{content_type.app_label}_{content_type.model}_change", args=[visit.object_id])


def outcome_form(request: HttpRequest, visit: Visit, today: datetime.date | None = None) -> dict[str, Any] | None:
    """The "came / did not come" form, for a live visit whose day has come, to staff who may record it."""
    today = today or timezone.localdate()
    if visit.status != VisitStatus.BOOKED or visit.slot.day > today or not services.may_record(request.user, visit):
        return None
    purpose = purposes.get(visit.purpose)
    return {
        "url": reverse("admin:visits_visit_outcome", args=[visit.pk]),
        "attended_label": purpose.attended_label if purpose else VisitStatus.ATTENDED.label,
        "next": request.get_full_path(),
    }


def outcome_label(visit: Visit) -> Any:
    """The visit's state in the service's words: "Originals seen" rather than "Came"."""
    purpose = purposes.get(visit.purpose)
    if purpose and visit.status == VisitStatus.ATTENDED:
        return purpose.attended_label
    return visit.get_status_display()


def review_visits(request: HttpRequest, case: Any) -> list[dict[str, Any]] | None:
    """The visits of a case for its review page, each with the outcome form where it may be recorded now; None for a
    service that books no visits."""
    if not purposes.for_model(type(case)):
        return None
    rows = []
    for visit in services.visits_of(case):
        purpose = purposes.get(visit.purpose)
        rows.append(
            {
                "visit": visit,
                "purpose": purpose.title if purpose else visit.purpose,
                "outcome_label": outcome_label(visit),
                "form": outcome_form(request, visit),
            }
        )
    return rows
