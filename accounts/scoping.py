"""Which cases a staff member may see, and the admin mixin every service's ModelAdmin uses.

The one rule (docs/architecture.md#security-and-privacy): a staff member sees an object of a service when its
office is within their offices AND their office's agency handles that service. Officers' offices are their own
office; supervisors' their office and every office of the same agency below it; administrators (superusers or
the administrator role) see everything. Which agency handles a service is what the service registered in
portal.registry; every model of a service's app is the service's. Moving a staff member to another office or
deactivating them takes effect on the next request, because nothing here is cached across requests.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Exists, ForeignKey, Model, Q, QuerySet
from django.forms import ModelChoiceField
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import registry

from .models import Office, Role, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

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
    # _staff_scope does), so a page costs one query for it instead of one per model.
    cached: bool | None = getattr(user, "_is_administrator", None)
    if cached is None:
        cached = user._is_administrator = user.groups.filter(name=Role.ADMINISTRATOR).exists()
    return cached


def service_agency(service: type[Model] | Model | str) -> str | None:
    """The agency handling the service `service` belongs to; None for what is no registered service."""
    label = service if isinstance(service, str) else service._meta.app_label
    return registry.agency_of(label)


def is_shared(service: type[Model] | Model | str) -> bool:
    """Whether `service` is a portal-wide app (feedback) whose rows belong to their office, of any agency."""
    return registry.is_shared(service if isinstance(service, str) else service._meta.app_label)


def _staff_scope(user: User | AnonymousUser) -> tuple[set[int] | None, str]:
    """(the ids of the user's offices or ALL, the user's agency), worked out once per request."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return set(), ""
    cache: tuple[set[int] | None, str] | None = getattr(user, "_staff_scope", None)
    if cache is not None:
        return cache
    scope: tuple[set[int] | None, str]
    if is_administrator(user):
        scope = (ALL, "")
    elif not user.office_id:
        scope = (set(), "")
    else:
        # One query for the office's place, its agency and whether the user supervises: the same count as the
        # supervisor check alone took before agencies.
        supervises = User.groups.through.objects.filter(user_id=user.pk, group__name=Role.SUPERVISOR)
        row = (
            Office.objects.filter(pk=user.office_id)
            .annotate(supervises=Exists(supervises))
            .values_list("path", "agency", "supervises")
            .first()
        )
        if row is None:
            scope = (set(), "")
        else:
            path, agency, is_supervisor = row
            if is_supervisor:
                # Only the agency's own offices: a tree that wrongly hung another agency's office below would
                # still not open its cases (the agency check below would refuse them too).
                subtree = Office.objects.filter(path__startswith=path, agency=agency)
                scope = (set(subtree.values_list("pk", flat=True)), agency)
            else:
                scope = ({user.office_id}, agency)
    user._staff_scope = scope  # per-request object: the User is loaded anew on every request
    return scope


def staff_agency(user: User | AnonymousUser) -> str:
    """The agency of the staff member's office; "" for administrators, citizens and staff without an office."""
    return _staff_scope(user)[1]


def scoped_office_ids(user: User | AnonymousUser, *, service: type[Model] | Model | str | None) -> set[int] | None:
    """The ids of the offices whose objects of `service` the user may see, or ALL.

    The one scoping rule: within the user's offices, and only for a service the user's agency handles; a service
    of another agency (or a model of no registered service) gives the empty set. `service=None` is for objects of
    no service (offices, staff accounts) and for the portal-wide apps (portal.registry.register_shared: feedback):
    the user's offices, which are all of their own agency.
    """
    ids, agency = _staff_scope(user)
    if ids is ALL:
        return ALL
    if service is not None and is_shared(service):
        service = None  # a portal-wide app (feedback): its rows belong to their office, whatever the agency
    if service is not None and (not agency or service_agency(service) != agency):
        return set()
    return ids


def scoped_services(user: User | AnonymousUser) -> frozenset[str] | None:
    """The app labels of the services the user's agency handles, or ALL."""
    ids, agency = _staff_scope(user)
    if ids is ALL:
        return ALL
    return registry.app_labels_of_agency(agency) if agency else frozenset()


def may_see_office(
    user: User | AnonymousUser, office_id: int | None, *, service: type[Model] | Model | str | None
) -> bool:
    """Whether an object of `service` at office `office_id` is within the user's scope."""
    ids = scoped_office_ids(user, service=service)
    return ids is ALL or (office_id is not None and office_id in ids)


def safe_csv_cell(value: object) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a leading = + - @ tab or CR gets a quote."""
    text = "" if value is None else str(value)
    if text and text[0] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


class OfficeScopedAdminMixin(_ModelAdmin):
    """Scope changelist, change/delete/history pages, autocomplete, raw-id popups, actions and exports.

    `office_fields` names the lookups that tie an object to an office; an object is visible when any of
    them is within the staff member's offices and the staff member's agency handles the model's service
    (scoped_office_ids). Override `scope_q` for rules beyond that (e.g. a hukou case reaches the move-out
    station only from its step).
    """

    office_fields: tuple[str, ...] = ("office",)
    export_fields: tuple[str, ...] = ()
    # Set when an office lookup crosses a to-many relation, so an object reached twice is listed once.
    scope_distinct: bool = False
    # The objects belong to a service: the model's own (True), or to none (offices: False).
    scope_by_service: bool = True
    # For rows of every service (uploads, issued documents): the ContentType field that names the case model,
    # so that the rows are limited to the services of the staff member's agency.
    service_type_field: str | None = None

    def scoped_office_ids(self, request: HttpRequest) -> set[int] | None:
        """The offices whose objects of this admin the staff member sees (accounts.scoping.scoped_office_ids)."""
        by_model = self.scope_by_service and not self.service_type_field
        return scoped_office_ids(request.user, service=self.model if by_model else None)

    def scope_q(self, request: HttpRequest, office_ids: Iterable[int]) -> Q:
        q = Q()
        for field in self.office_fields:
            q |= Q(**{f"{field}__in": office_ids})
        return q

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        ids = self.scoped_office_ids(request)
        if ids is ALL:
            return qs
        if not ids:
            return qs.none()
        qs = qs.filter(self.scope_q(request, ids))
        if self.service_type_field:
            labels = scoped_services(request.user) or frozenset()
            qs = qs.filter(**{f"{self.service_type_field}__app_label__in": sorted(labels)})
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
            ids = self.scoped_office_ids(request)
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


class ReadOnlyAdminMixin(_ModelAdmin):
    """Rows written only by the portal itself (documents, logs): staff look, never add, change or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class AdministratorsReadOnlyAdminMixin(ReadOnlyAdminMixin):
    """Rows only administrators look at, and nobody edits (the access and verification logs, share codes); unlike
    accounts.admin.AdministratorOnlyMixin, which lets administrators change what they see."""

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_administrator(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)
