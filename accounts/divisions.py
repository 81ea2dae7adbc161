"""China's administrative divisions (GB/T 2260 codes) for pickers and structured addresses.

The codes and Chinese names come from python-stdnum's table of county-level codes (`stdnum/cn/loc.dat`, with the
years each name was in force; the same table accounts.idnumber checks ID numbers against), so updating the pinned
python-stdnum updates the divisions. Only divisions in force today are offered. English names of Henan's divisions
are kept in `accounts/data/henan_divisions.csv` (pinyin, with its source and date); elsewhere English pages show the
Chinese name. docs/architecture.md#offices-and-addresses.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from django.utils.translation import get_language

HENAN_NAMES_FILE = Path(__file__).resolve().parent / "data" / "henan_divisions.csv"
# A name with the years it was in force: "[2021-]孟津区" (in force), "[1983-2021]孟津县" (abolished), "郑州市".
_NAMED = re.compile(r"^(?:\[(\d*)-(\d*)\])?(.+)$")
# Rows of the table that are no place a person lives in: "市辖区" (the city's own districts as a whole) and the
# grouping of the county-level cities a province administers directly (their counties are shown as cities).
_GROUPINGS = ("市辖区", "省直辖县级行政单位", "自治区直辖县级行政区划", "县")


@dataclass(frozen=True)
class Division:
    code: str  # six digits: 410000 a province, 410100 a city, 410105 a district or county
    name: str
    name_en: str = ""
    parent: str = ""  # the code of the division above; "" for a province

    @property
    def level(self) -> str:
        if not self.parent:
            return "province"
        return "city" if self.code.endswith("00") or _is_direct_county(self) else "county"

    def __str__(self) -> str:
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


def _is_direct_county(division: Division) -> bool:
    return division.parent.endswith("0000")  # a county-level city under the province itself (济源市)


def _current_name(raw: str) -> str | None:
    """The name in force today of a table entry ("[1987-2002]邙山区,[2003-]惠济区" → 惠济区), None if abolished."""
    last = raw.split(",")[-1].strip()
    match = _NAMED.match(last)
    if not match:
        return None
    _start, end, name = match.groups()
    return None if end else name.strip()


@functools.cache
def _english_names() -> dict[str, str]:
    with HENAN_NAMES_FILE.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {row["code"]: row["name_en"] for row in rows}


@functools.cache
def table() -> dict[str, Division]:
    """Every division in force, by code, in the table's order (provinces, each followed by its cities and counties)."""
    english = _english_names()
    divisions: dict[str, Division] = {}
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, _sep, props = line.strip().partition(" ")
        value = props.split("=", 1)[1].strip().strip('"') if "=" in props else ""
        if not line.startswith(" "):
            province = code + "0000"
            name = _current_name(value)
            if name:
                divisions[province] = Division(province, name, english.get(province, ""))
            continue
        full = province[:2] + code
        name = _current_name(value)
        if full == province or not name or name in _GROUPINGS:
            continue
        if full.endswith("00"):
            parent = province
        else:
            city = full[:4] + "00"
            # Counties of a grouping that is no city (4190xx, 济源市) hang from the province directly.
            parent = city if city in divisions else province
        divisions[full] = Division(full, name, english.get(full, ""), parent)
    return divisions


def get(code: str) -> Division | None:
    return table().get(code or "")


def children(code: str) -> list[Division]:
    """The divisions directly below `code` (the cities of a province, the districts and counties of a city)."""
    return [division for division in table().values() if division.parent == code]


def provinces() -> list[Division]:
    return [division for division in table().values() if not division.parent]


def city_of(code: str) -> Division | None:
    """The prefecture-level city (or province-administered county-level city) a code lies in."""
    division = get(code)
    while division is not None and division.level == "county":
        division = get(division.parent)
    return division if division is not None and division.level == "city" else None


def chain(code: str) -> list[Division]:
    """The province, city and district of a code, top down (as many as exist)."""
    parts: list[Division] = []
    division = get(code)
    while division is not None:
        parts.insert(0, division)
        division = get(division.parent)
    return parts
