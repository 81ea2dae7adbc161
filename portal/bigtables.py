"""Admin helpers for tables of millions of rows: no full-table COUNT, no full-table DISTINCT.

An unfiltered changelist counts its rows for the paginator, and a list filter on a free-text column collects its
values with SELECT DISTINCT: both read the whole table on every page view. On PostgreSQL these read the planner's
row estimate and walk the column's index instead (docs/architecture.md#platform-notes; docs/deploy.md, monitoring).
"""

from typing import Any, ClassVar, cast

from django.contrib.admin import ModelAdmin
from django.contrib.admin.filters import AllValuesFieldListFilter
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Field, Model, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

# Below this many rows an exact count is cheap, and exactness is worth more than the query it saves.
ESTIMATE_ABOVE_ROWS = 100_000


def table_count(model: type[Model], using: str = "default") -> int:
    """The rows of the whole table: PostgreSQL's estimate (kept by autovacuum's ANALYZE) when it is above
    ESTIMATE_ABOVE_ROWS, else an exact COUNT(*), in one query (the count is a sub-plan run only when needed)."""
    connection = connections[using]
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT CASE WHEN c.reltuples > %s THEN c.reltuples::bigint "  # noqa: S608  # nosec B608 - the model's own table
            f"ELSE (SELECT COUNT(*) FROM {table}) END FROM pg_class c WHERE c.oid = %s::regclass",
            [ESTIMATE_ABOVE_ROWS, model._meta.db_table],
        )
        return int(cursor.fetchone()[0])


class EstimatedCountPaginator(Paginator):
    """Counts exactly when the changelist is filtered (an office, a status, a search: an index narrows it); an
    unfiltered list of a big table on PostgreSQL shows the planner's estimate instead of counting millions of rows.
    Either way one query, as the plain paginator's COUNT."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is not None and not query.where and not query.distinct:
            rows = cast("QuerySet[Any]", queryset)  # it has a query
            if connections[rows.db].vendor == "postgresql":
                return table_count(rows.model, rows.db)
        return super().count


class BigTableAdminMixin:
    """A changelist of a table that grows without bound (logs, uploads, outbox): no COUNT(*) of the whole table for
    the "N total" link, and the paginator's estimate instead of an exact count."""

    show_full_result_count: ClassVar[bool] = False
    paginator: ClassVar[type] = EstimatedCountPaginator


def distinct_values(model: type[Model], column: str, using: str = "default") -> list[Any]:
    """The distinct non-null values of an indexed column, by a loose index scan on PostgreSQL (one index probe per
    value, however many rows) and by SELECT DISTINCT elsewhere."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return list(
            model._default_manager.using(using)
            .exclude(**{f"{column}__isnull": True})
            .order_by(column)
            .values_list(column, flat=True)
            .distinct()
        )
    table = connection.ops.quote_name(model._meta.db_table)
    field = cast("Field[Any, Any]", model._meta.get_field(column))  # a concrete column, never a reverse relation
    quoted = connection.ops.quote_name(cast("str", field.column))
    sql = (
        f"WITH RECURSIVE walk(value) AS ("  # noqa: S608  # nosec B608 - identifiers from the model's own metadata
        f" (SELECT {quoted} FROM {table} WHERE {quoted} IS NOT NULL ORDER BY {quoted} LIMIT 1)"
        f" UNION ALL SELECT (SELECT {quoted} FROM {table} WHERE {quoted} > walk.value ORDER BY {quoted} LIMIT 1)"
        f" FROM walk WHERE walk.value IS NOT NULL"
        f") SELECT value FROM walk WHERE value IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


class IndexedValuesFieldListFilter(AllValuesFieldListFilter):
    """The admin's "all values" filter, its choices read from the column's index (distinct_values) rather than
    by SELECT DISTINCT over the table. Use it on an indexed column of a big table: ("kind", IndexedValues…)."""

    def __init__(
        self,
        field: Field[Any, Any],
        request: HttpRequest,
        params: dict[str, list[str]],
        model: type[Model],
        model_admin: ModelAdmin[Any],
        field_path: str,
    ) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        if "__" not in field_path:
            # A list, where the stubs say QuerySet: the filter only iterates its choices.
            self.lookup_choices = distinct_values(  # type: ignore[assignment]  # a list: see above
                model, field_path, using=model_admin.get_queryset(request).db
            )
