"""The queues every service's admin shares (docs/architecture.md#the-officers-desk).

By default a queue lists the cases in which the staff member's office must act now, the most urgent first (by due
date: overdue, then due today, and so on); the *inbox* filter also offers those waiting for the applicant or another
office, the finished ones, and all. A search looks at every case the staff member may see, by case number, a
person's name, a full ID number or its last four characters, or a mobile number. *Assigned to me* and *unassigned*
follow who works on the case (portal.cases.assignment).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from accounts.scoping import OfficeScopedAdminMixin, scoped_office_ids

from .admin import CaseReviewAdminMixin, countdown
from .services import CASE_NUMBER_RE, normalize_case_number

if TYPE_CHECKING:
    from django.contrib.admin.views.main import ChangeList
    from django_stubs_ext import StrOrPromise

    from .models import Case

    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object

SEARCH_PARAM = "q"
_LAST_FOUR = re.compile(r"[0-9]{3}[0-9X]")
_MOBILE = re.compile(r"1[0-9]{10}")


def acting_queryset(queryset: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """The cases of `queryset` in which one of the user's offices must act now."""
    ids = scoped_office_ids(user, service=queryset.model)
    return queryset.filter(queryset.model.acting_q(None if ids is None else sorted(ids)))


class InboxFilter(admin.SimpleListFilter):
    """Needs my office's action (the default), waiting for the applicant or another office, finished, all.

    A search without a chosen filter looks at all cases: a caller asking about a finished case is found too."""

    title = _("inbox")
    parameter_name = "inbox"

    def __init__(self, request: HttpRequest, params: dict[str, list[str]], model: Any, model_admin: Any) -> None:
        self.searching = bool((request.GET.get(SEARCH_PARAM) or "").strip())
        super().__init__(request, params, model, model_admin)

    def lookups(self, request: HttpRequest, model_admin: Any) -> tuple[tuple[str, StrOrPromise], ...]:
        return (
            ("acting", _("Needs my office's action")),
            ("waiting", _("Waiting for the applicant or another office")),
            ("finished", _("Finished cases")),
            ("all", _("All")),
        )

    def current(self) -> str:
        value = self.value()
        if value in ("acting", "waiting", "finished", "all"):
            return value
        return "all" if self.searching else "acting"

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: ChangeList) -> Any:
        current = self.current()
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        current = self.current()
        model = queryset.model
        if current == "acting":
            return acting_queryset(queryset, request.user)
        if current == "finished":
            return queryset.filter(status__in=model.finished_statuses())
        if current == "waiting":
            acting = acting_queryset(queryset, request.user)
            return queryset.exclude(status__in=model.finished_statuses()).exclude(pk__in=acting.values("pk"))
        return queryset


class AssignmentFilter(admin.SimpleListFilter):
    title = _("assigned")
    parameter_name = "assigned"

    def lookups(self, request: HttpRequest, model_admin: Any) -> tuple[tuple[str, StrOrPromise], ...]:
        return (("me", _("Assigned to me")), ("unassigned", _("Unassigned")))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "me":
            return queryset.filter(assigned_to=request.user.pk)
        if self.value() == "unassigned":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


class CaseQueueAdminMixin(_ModelAdmin):
    """The default queue's order and the search every service offers. A service names the people a case carries:
    `queue_person_fields` as (name lookup, ID-number lookup) pairs, `queue_mobile_fields`, and further exact
    lookups (`queue_exact_fields`: a permit number)."""

    queue_person_fields: tuple[tuple[str, str], ...] = (("applicant__real_name", "applicant__id_number"),)
    queue_mobile_fields: tuple[str, ...] = ("applicant__mobile",)
    queue_exact_fields: tuple[str, ...] = ()
    queue_search_distinct = False  # a lookup crosses a to-many relation (hukou's movers)
    search_help_text = _("Case number, name, ID number or its last four characters, or mobile number")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        # "No-criminal-record applications", not the admin's "Select … to change": a queue is worked, not edited.
        from django.utils.text import capfirst

        title = capfirst(self.model._meta.verbose_name_plural)
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def get_ordering(self, request: HttpRequest) -> Any:
        # Needs my office's action: the most urgent first (overdue, due today, due soon), served by the partial
        # index on (office, due_date, id) of the open statuses; otherwise newest first by primary key, the backward
        # scan of the primary key a large office's list needs (bench/pages.py).
        inbox = request.GET.get(InboxFilter.parameter_name)
        searching = bool((request.GET.get(SEARCH_PARAM) or "").strip())
        if inbox == "acting" or (inbox is None and not searching):
            return (F("due_date").asc(nulls_last=True), "pk")
        return ("-pk",)

    def search_q(self, term: str) -> Q:
        """The condition a search term makes: a case number, a full ID number, its last four characters, a mobile
        number or a name, each compared exactly (the indexed columns; no substring scans)."""
        term = " ".join(term.split())
        compact = term.replace(" ", "").upper()
        number = normalize_case_number(term)
        if CASE_NUMBER_RE.fullmatch(number):
            return Q(case_number=number)
        if len(compact) == 18 and compact[:17].isdigit():
            normalized = idnumber.normalize(compact)
            return _any(Q(**{id_field: normalized}) for _name, id_field in self.queue_person_fields)
        if _LAST_FOUR.fullmatch(compact):
            return _any(Q(**{f"{id_field}__endswith": compact}) for _name, id_field in self.queue_person_fields)
        if _MOBILE.fullmatch(compact):
            return _any(Q(**{field: compact}) for field in self.queue_mobile_fields)
        q = _any(Q(**{name: term}) for name, _id_field in self.queue_person_fields)
        for field in self.queue_exact_fields:
            q |= Q(**{field: term})
        return q

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(self.search_q(search_term)), self.queue_search_distinct


def _any(conditions: Any) -> Q:
    q = Q()
    for condition in conditions:
        q |= condition
    return q


class SubmittedCaseAdminMixin(_ModelAdmin):
    """The queue of a service's applications: submitted cases only (drafts are the citizen's own business until
    submitted), every field read-only (each change is a step of the workflow), nothing added or deleted here."""

    list_per_page = 50
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return [field for _name, options in self.fieldsets or () for field in options["fields"]]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).exclude(status__in=self.model.DRAFT_STATUSES)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("time left"))
    def countdown_display(self, obj: Case) -> str:
        return countdown(obj)


class ReviewedCaseAdmin(
    CaseReviewAdminMixin, SubmittedCaseAdminMixin, CaseQueueAdminMixin, OfficeScopedAdminMixin, admin.ModelAdmin[Any]
):
    """The admin of a service's applications: the office's queue (scoped to the staff member's offices, searched,
    most urgent first by CaseQueueAdminMixin.get_ordering), submitted cases only and read-only, and the review page
    that takes the workflow's steps. A service names its `workflow`, its columns, filters and fieldsets, and adds its
    facts in `review_context`."""
