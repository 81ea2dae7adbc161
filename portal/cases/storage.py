"""Storage options of the case tables on PostgreSQL that Django's model declarations cannot say."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def drop_pattern_indexes(app_label: str, model_name: str, fields: tuple[str, ...]) -> migrations.RunPython:
    """A migration operation that drops the `varchar_pattern_ops` twins (`…_like`) Django makes on PostgreSQL beside
    the index of an indexed or unique CharField, for LIKE 'prefix%' lookups. The case tables are searched by these
    columns with `=` only (exact case, permit and ID numbers; statuses are compared, never matched): the twin is
    never read, but every INSERT and every UPDATE that is not HOT writes an entry in it. Reversed: made again."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        for name in fields:
            column = model._meta.get_field(name).column
            index = schema_editor._create_index_name(model._meta.db_table, [column], suffix="_like")
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index)}")

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        for name in fields:
            statement = schema_editor._create_like_index_sql(model, model._meta.get_field(name))
            if statement is not None:
                schema_editor.execute(statement)

    return migrations.RunPython(forwards, backwards, elidable=False)


def set_fillfactor(app_label: str, model_name: str, percent: int) -> migrations.RunPython:
    """A migration operation that sets the fillfactor of a case table: inserts (COPY too) leave 100 - `percent` per
    cent of each heap page free, so that an UPDATE of columns no index holds (the deadline sweep's `due_state`) writes
    its new row version on the same page, a HOT update, with no index entry. Pages written before keep no such room
    until the table is rewritten (VACUUM FULL, pg_repack: docs/deploy.md). Reversed: the default (100)."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(apps.get_model(app_label, model_name)._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(percent)})")

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(apps.get_model(app_label, model_name)._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")

    return migrations.RunPython(forwards, backwards, elidable=False)
