"""Resident ID numbers (GB 11643-1999): normalisation, validation, and what the number tells.

python-stdnum checks the checksum and the date; its county-code table is only a warning here, because a
number carries the county code in force when it was issued, not in the year of birth (docs/architecture.md#identity).
"""

import datetime
import logging
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric

logger = logging.getLogger(__name__)

# First two digits: provinces, autonomous regions and municipalities of the mainland (GB/T 2260).
MAINLAND_PROVINCES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
    }
)
# parse()'s warning for a county code that python-stdnum's table has never had (in no year).
COUNTY_CODE_UNKNOWN = "county_code_unknown"
# Residence permits for Hong Kong, Macao and Taiwan residents (810000, 820000, 830000).
RESIDENCE_PERMIT_PREFIXES = ("81", "82", "83")


MIN_BIRTH_YEAR = 1880
# Why parse() refuses a number, by problem; the register import's SQL check (certificates/register/sql.py) names
# the same problems and words them with these same messages.
MESSAGES = {
    "required": _("Enter your resident ID number."),
    "old_number": _(
        "This is an old 15-digit ID number, which cannot be used online. "
        "Enter the 18-character number of your second-generation ID card."
    ),
    "length": _("A resident ID number has 18 characters; you entered %(count)d."),
    "format": _("A resident ID number has 17 digits followed by a digit or the letter X."),
    "residence_permit": _(
        "This is a residence permit number for residents of Hong Kong, Macao or Taiwan. Online registration "
        "needs a mainland resident ID card; please apply in person at a police station."
    ),
    "province": _("The first two digits (%(code)s) are not a province code."),
    "checksum": _("The last character does not match the rest of the number. Check each digit against your ID card."),
    "birth_date": _("Digits 7 to 14 are not a real date of birth (%(date)s)."),
    "future_birth_date": _("The date of birth in the number (%(date)s) is in the future."),
    "implausible_birth_date": _("The date of birth in the number (%(date)s) is not plausible."),
}
# The ValidationError code of each problem (an implausible birth date has always been "birth_date").
_CODES = {"implausible_birth_date": "birth_date"}


def invalid(problem: str, **params: object) -> ValidationError:
    """The ValidationError parse() raises for `problem` (a key of MESSAGES)."""
    return ValidationError(MESSAGES[problem], code=_CODES.get(problem, problem), params=params or None)


@dataclass(frozen=True)
class IdInfo:
    number: str
    sex: str  # "M" or "F"
    birth_date: datetime.date
    area_code: str
    warnings: tuple = field(default=())


def normalize(raw: str) -> str:
    """Full-width to half-width, any script's decimal digits to ASCII, spaces, hyphens and invisible marks out, x to X.

    Every spelling of one number must come out as the same ASCII string: the duplicate-account check, the
    criminal-record register and "staff never decide their own case" compare these strings exactly.
    """
    if raw is None:
        return ""
    raw = str(raw)
    if raw.isascii() and raw.isalnum():
        # Nothing to normalise but the letter case (NFKC leaves ASCII letters and digits alone): the common case,
        # and the one a register import of millions of rows takes.
        return raw.upper()
    value = unicodedata.normalize("NFKC", raw)
    kept = []
    for ch in value:
        if ch.isspace() or ch == "-" or unicodedata.category(ch) == "Cf":  # Cf: zero-width and direction marks
            continue
        digit = unicodedata.decimal(ch, None)  # e.g. Devanagari or Arabic-Indic digits
        kept.append(str(digit) if digit is not None else ch)
    return "".join(kept).upper()


def check_character(body: str) -> str:
    """The 18th character of a number whose first 17 characters (ASCII digits) are `body` (GB 11643-1999).

    The weights are 2^(17-i) mod 11; read in base 13 (13 = 2 mod 11), the digits give that weighted sum times 2
    modulo 11 in one C call, so the check is (1 - 2·int(body, 13)) mod 11 (python-stdnum's formula), 10 written X.
    """
    value = (1 - 2 * int(body, 13)) % 11
    return "X" if value == 10 else str(value)


def parse(raw: str, *, today: datetime.date | None = None, county_check: bool = True) -> IdInfo:
    """Validate a resident ID number and return what it tells; raise ValidationError with a specific message.

    `county_check=False` skips the advisory county-table lookup (the `warnings`), by far the slowest step: the
    register import validates millions of numbers and never shows those warnings.
    """
    number = normalize(raw)
    if not number:
        raise invalid("required")
    if len(number) == 15 and number.isdigit():
        raise invalid("old_number")
    if len(number) != 18:
        raise invalid("length", count=len(number))
    # ASCII only: str.isdigit() also accepts digits int() cannot read (e.g. Kharosthi), which used to crash.
    if not (number[:17].isascii() and number[:17].isdigit()) or number[17] not in "0123456789X":
        raise invalid("format")
    if number[:2] in RESIDENCE_PERMIT_PREFIXES:
        raise invalid("residence_permit")
    if number[:2] not in MAINLAND_PROVINCES:
        raise invalid("province", code=number[:2])
    if check_character(number[:17]) != number[17]:
        raise invalid("checksum")
    try:
        birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise invalid("birth_date", date=f"{number[6:10]}-{number[10:12]}-{number[12:14]}") from None
    today = today or timezone.localdate()
    if birth_date > today:
        raise invalid("future_birth_date", date=birth_date.isoformat())
    if birth_date.year < MIN_BIRTH_YEAR:
        raise invalid("implausible_birth_date", date=birth_date.isoformat())
    warnings = []
    if county_check:
        try:
            ric.get_birth_place(number)
        except Exception:  # noqa: BLE001 - the county table is advisory only; it may raise KeyError too
            warnings.append("county_code_unknown_for_birth_year")
            # A code that came into force after the birth year is normal (the number was issued later); a code the
            # table has never had is worth a look by staff, and a word to the citizen (county_code_notice).
            if not county_code_in_table(number[:6]):
                warnings.append(COUNTY_CODE_UNKNOWN)
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdInfo(number=number, sex=sex, birth_date=birth_date, area_code=number[:6], warnings=tuple(warnings))


def county_code_in_table(area_code: str) -> bool:
    """Whether python-stdnum's table of county codes has `area_code` in any year."""
    from stdnum import numdb

    try:
        found = numdb.get("cn/loc").info(area_code)
    except Exception:  # noqa: BLE001 - advisory only
        return True
    return any("county" in props for _part, props in found)


def validate_id_number(value: str) -> None:
    """Django field validator."""
    parse(value)


def mask(number: str) -> str:
    """4101**********123X: the area's first four and the last four characters."""
    if not number:
        return ""
    if len(number) < 9:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name: str) -> str:
    """张*三 for three characters, 张* for two, first and last kept for longer ones."""
    if not name:
        return ""
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    """Completed years on `day` (a person turning 16 tomorrow is 15 today)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def county_code_notice(number: str | None, *, for_staff: bool = False) -> str:
    """A plain-words notice when a valid number's first six digits are in no year of the county-code table, else "".

    Recomputed from the number each time (nothing is stored): parse() only warns, since a number keeps the code in
    force when it was issued (docs/architecture.md#identity) — a code newer than the birth year is normal and gets no notice.
    The citizen is told to carry on; staff are told to check."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    try:
        info = parse(number or "")
    except DjangoValidationError:
        return ""
    if COUNTY_CODE_UNKNOWN not in info.warnings:
        return ""
    if for_staff:
        message = _(
            "The first six digits (%(code)s) are not a county code in our table. They may be right (codes change "
            "over the years): compare them with the ID card or the household register."
        )
    else:
        message = _(
            "The first six digits of your ID number (%(code)s) are not a county code we know. If they are right, "
            "carry on — staff will check them."
        )
    return str(message % {"code": info.area_code})
