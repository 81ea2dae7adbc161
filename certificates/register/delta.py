"""A delta import applied: add, correct, seal and remove by record id, in one transaction."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from .affected import _blocking_counts, _open_applications, _record_changes
from .progress import _done, _Progress, _Rejected
from .rules import ACTIONS, MAX_REJECTIONS_LISTED
from .stage import DATA_COLUMNS, LIVE_TABLE, Stage, _pg, _qn


def _apply_delta(job, stage: Stage, progress: _Progress):
    live, table = _qn(LIVE_TABLE), _qn(stage.name)
    with connection.cursor() as cursor:
        if _pg():
            cursor.execute(f"CREATE INDEX ON {table} (record_id)")
            cursor.execute(f"ANALYZE {table}")
    with transaction.atomic():
        with connection.cursor() as cursor:
            if _pg():
                # Other writers wait (another admin's edit); the officers' reads do not.
                cursor.execute(f"LOCK TABLE {live} IN SHARE ROW EXCLUSIVE MODE")
            rejections, total = stage.delta_conflicts(MAX_REJECTIONS_LISTED)
            if total:
                raise _Rejected(rejections, total)
            cursor.execute(
                f"SELECT id_number FROM {table} WHERE id_number IS NOT NULL UNION "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
                f"SELECT l.id_number FROM {live} l JOIN {table} s ON s.record_id = l.record_id"
            )
            numbers = {row[0] for row in cursor.fetchall()}
            applications = _open_applications(numbers)
            before = _blocking_counts(LIVE_TABLE, applications)
            now = timezone.now()
            columns = ", ".join(DATA_COLUMNS)
            cursor.execute(
                f"INSERT INTO {live} ({columns}, imported_at, import_batch) "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
                f"SELECT {columns}, %s, %s FROM {table} WHERE action = 'add' ORDER BY line",
                [now, job.batch],
            )
            assignments = ", ".join(
                f"{name} = s.{name}" for name in DATA_COLUMNS if name not in ("record_id", "sealed_by_order")
            )
            cursor.execute(
                f"UPDATE {live} SET {assignments}, imported_at = %s, import_batch = %s FROM {table} s "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
                f"WHERE s.action = 'correct' AND s.record_id = {live}.record_id",
                [now, job.batch],
            )
            cursor.execute(
                f"UPDATE {live} SET sealed_by_order = %s, import_batch = %s WHERE record_id IN "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
                f"(SELECT record_id FROM {table} WHERE action = 'seal')",
                [True, job.batch],
            )
            cursor.execute(
                f"DELETE FROM {live} WHERE record_id IN (SELECT record_id FROM {table} WHERE action = 'remove')"  # noqa: S608  # nosec B608 - our quoted names; values are parameters
            )
        after = _blocking_counts(LIVE_TABLE, applications)
        changed = _record_changes(job, applications, before, after)
        counts = {action: 0 for action in ACTIONS} | stage.counts()
        _done(job, progress, stage.rows, counts, changed)
