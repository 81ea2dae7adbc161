"""Who an import affects: the open applications whose register check result it changes, each given a timeline entry."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils.translation import ngettext

from accounts import idnumber
from portal.cases.models import Transition

from ..models import REGISTER_OPEN_STATUSES, Application, CriminalRecord, RegisterImport
from .stage import _qn

SNAPSHOT_BATCH = 500  # ID numbers per query when the register is looked up for the open applications


def _blocking_counts(table: str, numbers) -> dict[str, int]:
    """For each ID number, how many records of `table` (the register, or a staging table shaped like it) block a
    certificate: the rows are read as CriminalRecord objects, so `sealed` is the model's one rule."""
    counts = dict.fromkeys(numbers, 0)
    numbers = sorted(counts)
    with connection.cursor() as cursor:
        for start in range(0, len(numbers), SNAPSHOT_BATCH):
            chunk = numbers[start : start + SNAPSHOT_BATCH]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT id_number, sentence_months, age_at_offence, sealed_by_order FROM {_qn(table)} "  # noqa: S608  # nosec B608 - our quoted names; values are parameters
                f"WHERE id_number IN ({marks})",
                chunk,
            )
            for number, months, age, by_order in cursor.fetchall():
                record = CriminalRecord(
                    record_id="", id_number=number, sentence_months=months, age_at_offence=age, sealed_by_order=by_order
                )
                if not record.sealed:
                    counts[number] += 1
    return counts


def _open_applications(numbers=None) -> dict[str, list[tuple]]:
    """Open applications by normalised holder ID number: [(pk, case_number, status)]; only `numbers` if given."""
    found: dict[str, list[tuple]] = {}
    queryset = Application.objects.filter(status__in=REGISTER_OPEN_STATUSES)
    if numbers is not None:
        if not numbers:
            return found
        queryset = queryset.filter(holder_id_number__in=list(numbers))
    rows = queryset.order_by().values_list("pk", "case_number", "status", "holder_id_number")
    for pk, case_number, status, number in rows.iterator(chunk_size=2000):
        key = idnumber.normalize(number)
        if key:
            found.setdefault(key, []).append((pk, case_number, status))
    return found


def _record_changes(job: RegisterImport, applications, before: dict, after: dict) -> list[dict]:
    """A timeline entry on each open application whose check result changed; returns them for the job's page."""
    changed, entries = [], []
    content_type = ContentType.objects.get_for_model(Application)
    for number, cases in applications.items():
        old, new = before.get(number, 0), after.get(number, 0)
        if old == new:
            continue
        if new:
            note = ngettext(
                "The criminal-record register changed (import %(job)s): %(count)d record now blocks this certificate.",
                "The criminal-record register changed (import %(job)s): %(count)d records now block this certificate.",
                new,
            ) % {"job": job.pk, "count": new}
        else:
            note = ngettext(
                "The criminal-record register changed (import %(job)s): %(count)d record no longer blocks this "
                "certificate.",
                "The criminal-record register changed (import %(job)s): %(count)d records no longer block this "
                "certificate.",
                old,
            ) % {"job": job.pk, "count": old}
        for pk, case_number, status in cases:
            entries.append(
                Transition(
                    content_type=content_type,
                    object_id=pk,
                    from_status=status,
                    to_status=status,
                    actor=job.started_by,
                    note=note,
                )
            )
            changed.append({"pk": pk, "case_number": case_number, "before": old, "after": new})
    Transition.objects.bulk_create(entries, batch_size=1000)
    changed.sort(key=lambda item: item["case_number"])
    return changed
