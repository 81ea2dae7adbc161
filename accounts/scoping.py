"""Which offices a staff member may see, and the admin mixin every service's ModelAdmin uses.

Officers see their own office; supervisors their office and every office below it; administrators
(superusers or the administrator role) everything. Moving a staff member to another office or
deactivating them takes effect on the next request, because nothing here is cached across requests.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin
from django.db.models import ForeignKey, Model, Q, QuerySet
from django.forms import ModelChoiceField
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Office, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User

    # The mixin always comes before ModelAdmin in an admin class.
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object

logger = logging.getLogger(__name__)
ALL = None  # sentinel: no restriction


def is_administrator(user: User | AnonymousUser) -> bool:
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    # Asked once per registered model on every admin page: remembered on the per-request User object (as
    # scoped_office_ids does), so a page costs one query for it instead of one per model.
    cached: bool | None = getattr(user, "_is_administrator", None)
    if cached is None:
        cached = user._is_administrator = user.groups.filter(name=Role.ADMINISTRATOR).exists()
    return cached


def scoped_office_ids(user: User | AnonymousUser) -> set[int] | None:
    """The ids of the offices whose objects `user` may see, or ALL."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return set()
    cache = getattr(user, "_scoped_office_ids", False)
    if cache is not False:
        return cast("set[int] | None", cache)
    if is_administrator(user):
        ids = ALL
    elif not user.office_id:
        ids = set()
    elif user.groups.filter(name=Role.SUPERVISOR).exists():
        office = cast("Office", user.office)  # office_id is set
        ids = set(Office.objects.filter(path__startswith=office.path).values_list("pk", flat=True))
    else:
        ids = {user.office_id}
    user._scoped_office_ids = ids  # per-request object: the User is loaded anew on every request
    return ids


def safe_csv_cell(value: object) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a leading = + - @ tab or CR gets a quote."""
    text = "" if value is None else str(value)
    if text and text[0] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


class OfficeScopedAdminMixin(_ModelAdmin):
    """Scope changelist, change/delete/history pages, autocomplete, raw-id popups, actions and exports.

    `office_fields` names the lookups that tie an object to an office; an object is visible when any of
    them is within the staff member's offices. Override `scope_q` for rules beyond that (e.g. a hukou
    case reaches the move-out station only from its step).
    """

    office_fields: tuple[str, ...] = ("office",)
    export_fields: tuple[str, ...] = ()
    # Set when an office lookup crosses a to-many relation, so an object reached twice is listed once.
    scope_distinct: bool = False

    def scope_q(self, request: HttpRequest, office_ids: Iterable[int]) -> Q:
        q = Q()
        for field in self.office_fields:
            q |= Q(**{f"{field}__in": office_ids})
        return q

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        ids = scoped_office_ids(request.user)
        if ids is ALL:
            return qs
        if not ids:
            return qs.none()
        qs = qs.filter(self.scope_q(request, ids))
        return qs.distinct() if self.scope_distinct else qs

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Out of scope and nonexistent look the same: 404, never a hint that it exists.
            raise Http404(_("No such object."))
        return obj

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.related_model is Office:
            ids = scoped_office_ids(request.user)
            if ids is not ALL:
                kwargs["queryset"] = Office.objects.filter(pk__in=ids or [])
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not self.export_fields:
            actions.pop("export_csv", None)
        return actions

    @admin.action(description=_("Export selected to CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse:
        # `queryset` comes from get_queryset(), so an export never reaches beyond the staff member's scope.
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="{self.model._meta.model_name}-{stamp}.csv"'
        response.write("\ufeff")  # BOM so that spreadsheet programs read UTF-8
        writer = csv.writer(response)
        writer.writerow([safe_csv_cell(self.model._meta.get_field(f).verbose_name) for f in self.export_fields])
        for obj in queryset:
            writer.writerow([safe_csv_cell(self._export_value(obj, name)) for name in self.export_fields])
        logger.info("admin export %s by user %s: %d rows", self.model._meta.label, request.user.pk, queryset.count())
        return response

    actions = ("export_csv",)

    @staticmethod
    def _export_value(obj: Model, name: str) -> Any:
        display = getattr(obj, f"get_{name}_display", None)
        return display() if display else getattr(obj, name)
