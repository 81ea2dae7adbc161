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

from django.db.models import Count, IntegerField, Q, QuerySet, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import scoped_office_ids

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


def _aggregate(model_admin: Any, request: HttpRequest, position: int, today: date) -> QuerySet[Any]:
    model = model_admin.model
    ids = scoped_office_ids(request.user, service=model)
    acting = model.acting_q(None if ids is None else sorted(ids))
    running = Q(status__in=model.OPEN_STATUSES, paused_at__isnull=True)
    waiting = model_admin.workflow.statuses_from("resubmit")
    conditions = {
        "new": acting & Q(status=_new_status(model_admin)),
        "due_today": acting & running & Q(due_date=today),
        "due_soon": acting & running & Q(due_state=DueState.DUE_SOON),
        "overdue": acting & running & Q(due_state=DueState.OVERDUE),
        "waiting": Q(status__in=waiting),
        "mine": acting & Q(assigned_to=request.user.pk),
    }
    scoped: QuerySet[Any] = model_admin.get_queryset(request)
    counts: QuerySet[Any] = (
        scoped.order_by()
        .annotate(position=Value(position, output_field=IntegerField()))
        .values("position")
        .annotate(**{key: Count("pk", filter=condition) for key, condition in conditions.items()})
        .values("position", *conditions)
    )
    return counts


def desk(site: AdminSite, request: HttpRequest, today: date | None = None) -> list[DeskService]:
    today = today or timezone.localdate()
    admins = desk_admins(site, request)
    if not admins:
        return []
    queries = [_aggregate(model_admin, request, position, today) for position, model_admin in enumerate(admins)]
    union = queries[0].union(*queries[1:], all=True) if len(queries) > 1 else queries[0]
    rows = {row["position"]: row for row in union}
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
