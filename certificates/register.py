"""The criminal-record register: the automatic check by ID number and the administrators' CSV import."""

from __future__ import annotations

import csv
import datetime
import io
import logging
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import idnumber

from .models import CriminalRecord

logger = logging.getLogger("certificates.register")

CSV_COLUMNS = (
    "id_number",
    "name",
    "offence",
    "court",
    "judgment_date",
    "sentence",
    "sentence_months",
    "age_at_offence",
)
TEXT_LIMITS = {"name": 60, "offence": 200, "court": 200, "sentence": 200}
MAX_SENTENCE_MONTHS = 1200  # life imprisonment is recorded as 1200 months; more is a typing error
MIN_AGE, MAX_AGE = 12, 120  # criminal responsibility in the PRC starts at 12 at the earliest
MAX_REJECTIONS_LISTED = 500  # a badly wrong file should not produce a page of a million lines
BATCH_SIZE = 2000


def register_matches(*, id_number: str) -> list[CriminalRecord]:
    """Every record for exactly this ID number (normalised), oldest judgment first; [] for an empty number."""
    number = idnumber.normalize(id_number)
    if not number:
        return []
    return list(CriminalRecord.objects.filter(id_number=number).order_by("judgment_date", "pk"))


def register_blocking(records) -> list[CriminalRecord]:
    """The records that prevent the certificate: every one that is not sealed."""
    return [record for record in records if not record.sealed]


@dataclass
class ImportReport:
    """What an import did: rows read, rows imported (all or none), and each rejected row with its reason."""

    rows_read: int = 0
    imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    batch: str = ""
    error: str = ""  # a problem with the file as a whole (encoding, header)
    more_rejected: int = 0  # rejections beyond the ones listed

    @property
    def ok(self) -> bool:
        return not self.error and not self.rejected and not self.more_rejected

    @property
    def rejected_count(self) -> int:
        return len(self.rejected) + self.more_rejected


def _read_text(file) -> str:
    data = file.read()
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    # utf-8-sig accepts a file with or without the byte-order mark spreadsheet programs write.
    return data.decode("utf-8-sig")


def _clean_row(row: dict, today: datetime.date) -> dict:
    """One CSV row to model fields; ValidationError with a message naming the column."""
    values = {name: (row.get(name) or "").strip() for name in CSV_COLUMNS}
    problems = []
    try:
        number = idnumber.parse(values["id_number"], today=today).number
    except ValidationError as exc:
        number = None
        problems.append(_("id_number: %(error)s") % {"error": " ".join(exc.messages)})
    for name, limit in TEXT_LIMITS.items():
        if not values[name]:
            problems.append(_("%(column)s: required") % {"column": name})
        elif len(values[name]) > limit:
            problems.append(_("%(column)s: longer than %(limit)d characters") % {"column": name, "limit": limit})
    try:
        judgment_date = datetime.date.fromisoformat(values["judgment_date"])
    except ValueError:
        judgment_date = None
        problems.append(
            _("judgment_date: “%(value)s” is not a date in the form YYYY-MM-DD")
            % {"value": values["judgment_date"][:20]}
        )
    else:
        if judgment_date > today:
            problems.append(_("judgment_date: %(date)s is in the future") % {"date": judgment_date.isoformat()})
    integers = {}
    for name, low, high in (("sentence_months", 0, MAX_SENTENCE_MONTHS), ("age_at_offence", MIN_AGE, MAX_AGE)):
        raw = values[name]
        if not raw.isascii() or not raw.isdigit():
            problems.append(_("%(column)s: “%(value)s” is not a whole number") % {"column": name, "value": raw[:20]})
            continue
        integers[name] = int(raw)
        if not low <= integers[name] <= high:
            problems.append(
                _("%(column)s: %(value)s is outside %(low)d to %(high)d")
                % {"column": name, "value": raw, "low": low, "high": high}
            )
    if number and judgment_date and "age_at_offence" in integers:
        birth = idnumber.parse(number, today=today).birth_date
        if integers["age_at_offence"] > idnumber.age_on(birth, judgment_date):
            problems.append(
                _("age_at_offence: %(age)d is older than the person was on the date of judgment")
                % {"age": integers["age_at_offence"]}
            )
    if problems:
        raise ValidationError("; ".join(problems))
    return {
        "id_number": number,
        "name": values["name"],
        "offence": values["offence"],
        "court": values["court"],
        "judgment_date": judgment_date,
        "sentence": values["sentence"],
        **integers,
    }


def register_import_csv(*, file, by) -> ImportReport:
    """Import the register from a UTF-8 CSV (with or without BOM): every row valid, or nothing imported.

    The header must be exactly CSV_COLUMNS (in any order). Every row is checked before anything is
    written; then all rows go in with bulk_create inside one transaction, tagged with a batch id.
    """
    report = ImportReport(batch=f"{timezone.localtime():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}")
    try:
        text = _read_text(file)
    except UnicodeDecodeError as exc:
        report.error = _("The file is not UTF-8 text (byte %(position)d). Save it as “CSV UTF-8” and try again.") % {
            "position": exc.start + 1
        }
        return report
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in (reader.fieldnames or [])]
    if sorted(header) != sorted(CSV_COLUMNS):
        report.error = _("The first line must name the columns %(expected)s; it names %(found)s.") % {
            "expected": ",".join(CSV_COLUMNS),
            "found": ",".join(header) or _("nothing"),
        }
        return report
    reader.fieldnames = header
    today = timezone.localdate()
    records = []
    try:
        for row in reader:
            report.rows_read += 1
            line = reader.line_num  # the physical line (1 is the header), as a spreadsheet shows it
            if None in row or any(value is None for value in row.values()):
                reason = _("wrong number of columns")
            else:
                try:
                    records.append(CriminalRecord(import_batch=report.batch, **_clean_row(row, today)))
                    continue
                except ValidationError as exc:
                    reason = " ".join(exc.messages)
            if len(report.rejected) < MAX_REJECTIONS_LISTED:
                report.rejected.append((line, reason))
            else:
                report.more_rejected += 1
    except csv.Error as exc:
        report.error = _("The file is not valid CSV near line %(line)d: %(error)s") % {
            "line": reader.line_num,
            "error": exc,
        }
        return report
    if report.rejected or report.more_rejected or not records:
        if not records and not report.rejected:
            report.error = _("The file has no rows below the header.")
        logger.info(
            "register import by user %s refused: %d rows read, %d rejected",
            getattr(by, "pk", None),
            report.rows_read,
            report.rejected_count,
        )
        return report
    with transaction.atomic():
        CriminalRecord.objects.bulk_create(records, batch_size=BATCH_SIZE)
    report.imported = len(records)
    logger.info(
        "register import %s by user %s: %d rows imported", report.batch, getattr(by, "pk", None), report.imported
    )
    return report
