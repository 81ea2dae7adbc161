"""The rules of a row of the register's CSV files, in Python (SQLite, `make run`): _clean_row, the one implementation
that certificates/register/sql.py states again in SQL (proven equal by tests/services/test_register_sql.py)."""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts import idnumber

from ..models import ImportKind

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
FULL_COLUMNS = ("record_id", *CSV_COLUMNS)
FULL_OPTIONAL_COLUMNS = ("sealed_by_order",)
DELTA_COLUMNS = ("action", "record_id", *CSV_COLUMNS)
ACTIONS = ("add", "correct", "seal", "remove")
ACTIONS_WITHOUT_DATA = ("seal", "remove")  # only the record id is needed (the other cells may be empty)
TEXT_LIMITS = {"name": 60, "offence": 200, "court": 200, "sentence": 200}
RECORD_ID_MAX = 64
RECORD_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:/")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SEALED_VALUES = {"": False, "0": False, "1": True, "false": False, "true": True, "no": False, "yes": True}
MAX_SENTENCE_MONTHS = 1200  # life imprisonment is recorded as 1200 months; more is a typing error
MIN_AGE, MAX_AGE = 12, 120  # criminal responsibility in the PRC starts at 12 at the earliest
MAX_REJECTIONS_LISTED = 500  # a badly wrong file should not produce a page of a million lines
MAX_CHANGED_CASES_LISTED = 1000
SNAPSHOT_BATCH = 500  # ID numbers per query when the register is looked up for the open applications
DELTA = str(ImportKind.DELTA)  # a plain string: compared once per row


def _clean_row(row: dict, today: datetime.date, *, kind: str = ImportKind.FULL) -> dict:
    """One CSV row to register fields (with `action`); ValidationError with a message naming each bad column.

    The one implementation of the rules of a row, for full and delta imports alike. A delta row that seals or
    removes a record needs its record id only.
    """
    get = row.get
    problems = []
    action = "add"
    if kind == DELTA:
        action = (get("action") or "").strip().lower()
        if action not in ACTIONS:
            problems.append(
                _("action: “%(value)s” is not one of %(actions)s")
                % {"value": action[:20], "actions": ", ".join(ACTIONS)}
            )
    record_id = (get("record_id") or "").strip()
    if not record_id:
        problems.append(_("%(column)s: required") % {"column": "record_id"})
    elif len(record_id) > RECORD_ID_MAX:
        problems.append(
            _("%(column)s: longer than %(limit)d characters") % {"column": "record_id", "limit": RECORD_ID_MAX}
        )
    elif not RECORD_ID_CHARS.issuperset(record_id):
        problems.append(_("record_id: only letters A-Z, digits and - _ . : / are allowed"))
    if action in ACTIONS_WITHOUT_DATA or action not in ACTIONS:  # no data needed, or no telling what is needed
        if problems:
            raise ValidationError("; ".join(problems))
        return {"action": action, "record_id": record_id}

    number = birth = None
    try:
        info = idnumber.parse((get("id_number") or "").strip(), today=today, county_check=False)
    except ValidationError as exc:
        problems.append(_("id_number: %(error)s") % {"error": " ".join(exc.messages)})
    else:
        number, birth = info.number, info.birth_date
    texts = {}
    for name, limit in TEXT_LIMITS.items():
        value = texts[name] = (get(name) or "").strip()
        if not value:
            problems.append(_("%(column)s: required") % {"column": name})
        elif len(value) > limit:
            problems.append(_("%(column)s: longer than %(limit)d characters") % {"column": name, "limit": limit})
    raw_date = (get("judgment_date") or "").strip()
    try:
        # Exactly YYYY-MM-DD in ASCII digits (fromisoformat alone also takes 20150601 and week dates).
        if not ISO_DATE.fullmatch(raw_date):
            raise ValueError(raw_date)
        judgment_date = datetime.date.fromisoformat(raw_date)
    except ValueError:
        judgment_date = None
        problems.append(_("judgment_date: “%(value)s” is not a date in the form YYYY-MM-DD") % {"value": raw_date[:20]})
    else:
        if judgment_date > today:
            problems.append(_("judgment_date: %(date)s is in the future") % {"date": judgment_date.isoformat()})
    integers = {}
    for name, low, high in (("sentence_months", 0, MAX_SENTENCE_MONTHS), ("age_at_offence", MIN_AGE, MAX_AGE)):
        raw = (get(name) or "").strip()
        if not raw.isascii() or not raw.isdigit():
            problems.append(_("%(column)s: “%(value)s” is not a whole number") % {"column": name, "value": raw[:20]})
            continue
        value = integers[name] = int(raw)
        if not low <= value <= high:
            problems.append(
                _("%(column)s: %(value)s is outside %(low)d to %(high)d")
                % {"column": name, "value": raw, "low": low, "high": high}
            )
    if birth and judgment_date and "age_at_offence" in integers:
        if integers["age_at_offence"] > idnumber.age_on(birth, judgment_date):
            problems.append(
                _("age_at_offence: %(age)d is older than the person was on the date of judgment")
                % {"age": integers["age_at_offence"]}
            )
    sealed = (get("sealed_by_order") or "").strip().lower()
    if sealed not in SEALED_VALUES:
        problems.append(_("sealed_by_order: “%(value)s” is not 0 or 1") % {"value": sealed[:20]})
    if problems:
        raise ValidationError("; ".join(problems))
    return {
        "action": action,
        "record_id": record_id,
        "id_number": number,
        **texts,
        "judgment_date": judgment_date,
        **integers,
        "sealed_by_order": SEALED_VALUES[sealed],
    }


def _stage_row(line: int, clean: dict) -> tuple:
    get = clean.get
    return (
        line,
        clean["action"],
        clean["record_id"],
        get("id_number"),
        get("name"),
        get("offence"),
        get("court"),
        get("judgment_date"),
        get("sentence"),
        get("sentence_months"),
        get("age_at_offence"),
        bool(get("sealed_by_order")),
    )
