"""The officer's desk: the admin index of a member of staff (docs/architecture.md#the-officers-desk).

For each service their agency handles, the counts of new cases (awaiting acceptance), due today, due soon, overdue,
waiting for the applicant and assigned to them, each a link to the queue filtered the same way. All services' counts
come from one query (a UNION ALL of one conditional aggregate per service), however many cases and services; the
definitions are the queue filters' (portal.cases.queues, portal.cases.admin.DueStateFilter), so a count and the list
behind its link agree. Today's booked visits can join as one more section.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Func, IntegerField, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import scoped_office_ids

from .deadlines import flagged_q
from .models import DueState
from .queues import CaseQueueAdminMixin

if TYPE_CHECKING:
    from django.contrib.admin import AdminSite
    from django.http import HttpRequest
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Count_:
    key: str
    label: StrOrPromise
    count: int
    url: str
    urgent: bool = False


@dataclass(frozen=True)
class DeskService:
    title: StrOrPromise
    queue_url: str
    counts: tuple[Count_, ...]


# (key, label, the queue's GET parameters, urgent when non-zero)
COLUMNS: tuple[tuple[str, StrOrPromise, dict[str, str], bool], ...] = (
    ("new", _("New (awaiting acceptance)"), {"inbox": "acting", "status__exact": "{new}"}, False),
    ("due_today", _("Due today"), {"inbox": "acting", "due": "today"}, True),
    ("due_soon", _("Due soon"), {"inbox": "acting", "due": "due_soon"}, False),
    ("overdue", _("Overdue"), {"inbox": "acting", "due": "overdue"}, True),
    ("waiting", _("Waiting for the applicant"), {"inbox": "all", "due": "paused"}, False),
    ("mine", _("Assigned to me"), {"inbox": "acting", "assigned": "me"}, False),
)
KEYS = tuple(column[0] for column in COLUMNS)


def desk_admins(site: AdminSite, request: HttpRequest) -> list[Any]:
    """The case admins of the services this member of staff works in, in the registry's order."""
    admins = []
    for model, model_admin in site._registry.items():
        if not isinstance(model_admin, CaseQueueAdminMixin) or getattr(model_admin, "workflow", None) is None:
            continue
        if (
            model_admin.has_view_or_change_permission(request)
            and scoped_office_ids(request.user, service=model) != set()
        ):
            admins.append(model_admin)
    return admins


def _new_status(model_admin: Any) -> str:
    """The status of a case awaiting acceptance: where the workflow's "accept" step starts."""
    return str(model_admin.workflow.statuses_from("accept")[0])


def _count_sql(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    """SELECT COUNT(*) of `queryset`, as SQL and parameters to run as a scalar subquery ("0" for a condition that
    can match nothing, such as an IN of no statuses)."""
    counted = queryset.order_by().annotate(n=Func(template="COUNT(*)", output_field=IntegerField())).values("n")
    try:
        sql, params = counted.query.sql_with_params()
    except EmptyResultSet:
        return "0", ()
    return f"({sql})", tuple(params)


def _counts_sql(model_admin: Any, request: HttpRequest, position: int, today: date) -> tuple[str, list[Any]]:
    """One row: the service's position, then one scalar COUNT per column, each over the admin's own scoped queryset
    narrowed to exactly that column's rows, so that an index finds them (the rows of one office or city in one state),
    instead of one pass over every case the staff member may see."""
    model = model_admin.model
    ids = scoped_office_ids(request.user, service=model)
    acting = model.acting_q(None if ids is None else sorted(ids))
    running = Q(status__in=model.OPEN_STATUSES, paused_at__isnull=True)
    waiting = model_admin.workflow.statuses_from("resubmit")
    conditions = {
        "new": acting & Q(status=_new_status(model_admin)),
        "due_today": acting & running & Q(due_date=today),
        "due_soon": acting & running & flagged_q(DueState.DUE_SOON, today),
        "overdue": acting & running & flagged_q(DueState.OVERDUE, today),
        "waiting": Q(status__in=waiting),
        "mine": acting & Q(assigned_to=request.user.pk),
    }
    scoped: QuerySet[Any] = model_admin.get_queryset(request)
    columns: list[str] = [str(int(position))]
    params: list[Any] = []
    for key in KEYS:  # the columns are read by position
        sql, sql_params = _count_sql(scoped.filter(conditions[key]))
        columns.append(sql)
        params.extend(sql_params)
    return "SELECT " + ", ".join(columns), params


def desk(site: AdminSite, request: HttpRequest, today: date | None = None) -> list[DeskService]:
    today = today or timezone.localdate()
    admins = desk_admins(site, request)
    if not admins:
        return []
    # Every service's row in one query: a UNION ALL of one row of scalar counts per service.
    selects: list[str] = []
    sql_params: list[Any] = []
    for position, model_admin in enumerate(admins):
        sql, service_params = _counts_sql(model_admin, request, position, today)
        selects.append(sql)
        sql_params.extend(service_params)
    connection = connections[admins[0].get_queryset(request).db]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), sql_params)
        rows = {int(row[0]): dict(zip(KEYS, row[1:], strict=True)) for row in cursor.fetchall()}
    services = []
    for position, model_admin in enumerate(admins):
        row = rows.get(position, {})
        opts = model_admin.model._meta
        queue = reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_changelist")
        counts = []
        for key, label, params, urgent in COLUMNS:
            query = {name: value.format(new=_new_status(model_admin)) for name, value in params.items()}
            count = int(row.get(key) or 0)
            counts.append(Count_(key, label, count, f"{queue}?{urlencode(query)}", urgent and count > 0))
        services.append(DeskService(title=opts.verbose_name_plural, queue_url=queue, counts=tuple(counts)))
    return services
