"""Import the office tree from a CSV or JSON file, matching offices by their stable code (docs/deploy.md#offices-and-staff).

Every row is checked before anything is written, and the writes are one transaction: a file with one bad row changes
nothing, and the errors name each bad row's line (CSV) or record (JSON) and the reason.
"""

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import Office

COLUMNS = ("code", "parent_code", "agency", "kind", "division_code", "name", "name_en", "address", "hours", "phone")
REQUIRED_COLUMNS = ("code", "parent_code", "agency", "kind", "division_code", "name")
# The file's column for each Office field the import sets.
FIELDS = {
    "agency": "agency",
    "kind": "kind",
    "division_code": "division_code",
    "name": "name",
    "name_en": "name_en",
    "address": "address",
    "opening_hours": "hours",
    "phone": "phone",
}
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
DIVISION_RE = re.compile(r"^[1-9]\d{5}$")


class ImportFailed(Exception):
    """The file was refused; `errors` lists each problem, "line 7: …"."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass
class Row:
    where: str  # "line 7" or "record 3", for error messages
    values: dict[str, str]


def read_table(path: Path, *, columns: tuple[str, ...], required: tuple[str, ...]) -> list[Row]:
    """The rows of a .csv (UTF-8, header line) or .json (a list of objects) file, each value a stripped string."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ImportFailed([_("%(path)s: the file name must end in .csv or .json") % {"path": path}])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailed([_("cannot read %(path)s: %(error)s") % {"path": path, "error": exc}]) from None
    rows: list[Row] = []
    if suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        header = [name.strip() for name in reader.fieldnames or []]
        _check_columns(header, "line 1", columns=columns, required=required)
        reader.fieldnames = header
        for record in reader:
            if None in record:
                raise ImportFailed([_("line %(line)d: more values than columns") % {"line": reader.line_num}])
            values = {key: (value or "").strip() for key, value in record.items()}
            if any(values.values()):
                rows.append(Row(f"line {reader.line_num}", values))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFailed([_("not valid JSON: %(error)s") % {"error": exc}]) from None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise ImportFailed([_("a JSON file must hold a list of objects, one per row")])
        for number, item in enumerate(data, start=1):
            where = f"record {number}"
            _check_columns(list(item), where, columns=columns, required=required)
            rows.append(Row(where, {key: "" if value is None else str(value).strip() for key, value in item.items()}))
    return rows


def _check_columns(names: list[str], where: str, *, columns: tuple[str, ...], required: tuple[str, ...]) -> None:
    missing = [name for name in required if name not in names]
    unknown = [name for name in names if name not in columns]
    errors = []
    if missing:
        errors.append(_("%(where)s: missing columns: %(columns)s") % {"where": where, "columns": ", ".join(missing)})
    if unknown:
        errors.append(_("%(where)s: unknown columns: %(columns)s") % {"where": where, "columns": ", ".join(unknown)})
    if errors:
        raise ImportFailed(errors)


def import_offices(*, path: Path, dry_run: bool = False) -> ImportResult:
    """Create or update the offices of the file; raise ImportFailed, having written nothing, if any row is bad."""
    rows = read_table(path, columns=COLUMNS, required=REQUIRED_COLUMNS)
    errors: list[str] = []
    by_code: dict[str, Row] = {}
    for row in rows:
        code = row.values.get("code", "")
        if not CODE_RE.match(code):
            errors.append(_("%(where)s: the code %(code)r is not 1–40 letters, digits, “-”, “_” or “.”") % _w(row))
        elif code in by_code:
            errors.append(
                _("%(where)s: the code %(code)s is already used on %(other)s")
                % {**_w(row), "other": by_code[code].where}
            )
        else:
            by_code[code] = row
    existing = {office.code: office for office in Office.objects.all()}
    code_by_pk = {office.pk: code for code, office in existing.items()}
    existing_parent = {code: code_by_pk.get(office.parent_id or 0, "") for code, office in existing.items()}

    def parent_of(code: str) -> str:
        row = by_code.get(code)
        return row.values.get("parent_code", "") if row else existing_parent.get(code, "")

    def agency_of(code: str, seen: frozenset[str] = frozenset()) -> str:
        row = by_code.get(code)
        if row is None:
            return existing[code].agency if code in existing else ""
        agency = row.values.get("agency", "") or Office.KIND_AGENCY.get(row.values.get("kind", ""), "")
        parent = parent_of(code)
        if not agency and parent and parent not in seen:
            return agency_of(parent, seen | {code})
        return agency

    def division_of(code: str) -> str:
        row = by_code.get(code)
        return row.values.get("division_code", "") if row else existing[code].division_code

    depth: dict[str, int] = {}
    for code, row in by_code.items():
        errors.extend(f"{row.where}: {message}" for message in _row_errors(row, code, agency_of(code)))
        parent = parent_of(code)
        if not parent:
            depth[code] = 0
            continue
        if parent not in by_code and parent not in existing:
            errors.append(_("%(where)s: unknown parent office %(parent)s") % {**_w(row), "parent": parent})
            continue
        # Walk up the tree as it will be after the import: a cycle never reaches a root.
        chain, up = [code], parent
        while up and up not in chain:
            chain.append(up)
            up = parent_of(up)
        if up:
            errors.append(
                _("%(where)s: the parent offices form a cycle: %(cycle)s")
                % {**_w(row), "cycle": " → ".join([*chain[chain.index(up) :], up])}
            )
            continue
        depth[code] = len(chain) - 1
        parent_agency, own_agency = agency_of(parent), agency_of(code)
        if parent_agency and own_agency and parent_agency != own_agency:
            errors.append(
                _("%(where)s: an office of %(agency)s cannot be below %(parent)s, an office of %(parent_agency)s")
                % {**_w(row), "agency": own_agency, "parent": parent, "parent_agency": parent_agency}
            )
        parent_division, division = division_of(parent), row.values.get("division_code", "")
        if DIVISION_RE.match(parent_division) and DIVISION_RE.match(division):
            area = re.sub(r"(00)+$", "", parent_division)
            if not division.startswith(area):
                errors.append(
                    _("%(where)s: the division code %(division)s does not lie within %(parent_division)s of %(parent)s")
                    % {**_w(row), "division": division, "parent_division": parent_division, "parent": parent}
                )
    if errors:
        raise ImportFailed(errors)

    result = ImportResult()
    with transaction.atomic():
        # Parents before children, so that each parent exists, and has its final path, when its children are saved.
        for code in sorted(by_code, key=lambda c: (depth[c], by_code[c].where)):
            _write(by_code[code], code, agency_of(code), parent_of(code), result)
        if dry_run:
            transaction.set_rollback(True)
    return result


def _w(row: Row) -> dict[str, Any]:
    return {"where": row.where, "code": row.values.get("code", "")}


def _row_errors(row: Row, code: str, agency: str) -> list[str]:
    values = row.values
    errors = []
    kind = values.get("kind", "")
    if kind not in Office.Kind.values:
        errors.append(_("unknown kind %(kind)r (one of %(kinds)s)") % {"kind": kind, "kinds": ", ".join(Office.Kind)})
    given = values.get("agency", "")
    if given and given not in Office.Agency.values:
        errors.append(_("unknown agency %(agency)r") % {"agency": given})
    expected = Office.KIND_AGENCY.get(kind)
    if given and expected and given != expected:
        errors.append(_("an office of kind %(kind)s belongs to %(agency)s") % {"kind": kind, "agency": expected})
    if not agency and kind == Office.Kind.PROVINCE:
        errors.append(_("a provincial office needs an agency"))
    if not values.get("parent_code") and kind != Office.Kind.PROVINCE:
        errors.append(_("only a provincial office may be without a parent_code"))
    if not DIVISION_RE.match(values.get("division_code", "")):
        errors.append(
            _("the division code %(division)r is not six digits (GB/T 2260)")
            % {"division": values.get("division_code", "")}
        )
    office = Office(**{name: values.get(column, "") for name, column in FIELDS.items()}, code=code)
    try:
        office.clean_fields(exclude=["parent", "path", "kind", "agency", "division_code", "code"])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.extend(f"{FIELDS.get(name, name)}: {message}" for message in messages)
    return errors


def _write(row: Row, code: str, agency: str, parent_code: str, result: ImportResult) -> None:
    values = {name: row.values.get(column, "") for name, column in FIELDS.items()}
    values["agency"] = agency
    parent = Office.objects.get(code=parent_code) if parent_code else None
    office = Office.objects.filter(code=code).first()
    if office is None:
        Office(code=code, parent=parent, **values).save()
        result.created.append(code)
        return
    changed = office.parent_id != (parent.pk if parent else None) or any(
        getattr(office, name) != value for name, value in values.items()
    )
    if not changed:
        result.unchanged.append(code)
        return
    for name, value in values.items():
        setattr(office, name, value)
    office.parent = parent
    office.save()
    result.updated.append(code)
