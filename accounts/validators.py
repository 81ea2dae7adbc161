"""Text typed by citizens that ends up on certificates, in the admin and in messages: no invisible control characters.

Escaping stops markup, not a right-to-left override (U+202E) or a zero-width character: those reorder or hide text
on the page and on the signed certificate (a name that makes "no criminal record found" read differently), or make
two different strings look the same to an officer. They are refused with a plain message rather than dropped,
so what is stored is what the citizen sees.
"""

import functools
import unicodedata
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Control (NUL is left to Django's own ProhibitNullCharactersValidator), format (direction marks and overrides,
# zero-width characters), surrogates, private use, and the line and paragraph separators.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


@deconstructible
class PlainTextValidator:
    """Refuse invisible control characters; `multiline` allows line breaks and tabs (for a textarea)."""

    message = _(
        "This text contains an invisible control character (U+%(code)s), such as a right-to-left override or a "
        "zero-width space. Type the text again without it."
    )
    code = "control_characters"

    def __init__(self, *, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value):
        allowed = "\x00\n\r\t" if self.multiline else "\x00"
        for ch in str(value or ""):
            if ch not in allowed and unicodedata.category(ch) in REFUSED_CATEGORIES:
                raise ValidationError(self.message, code=self.code, params={"code": f"{ord(ch):04X}"})

    def __eq__(self, other):
        return isinstance(other, PlainTextValidator) and other.multiline == self.multiline


validate_single_line = PlainTextValidator()
validate_multiline = PlainTextValidator(multiline=True)


# --- names of people ------------------------------------------------------------------------------------
#
# A person's name goes onto the signed certificate, so it may hold only what a resident ID card carries and what
# the certificate's fonts draw (docs/security.md, "Names of people"; tests/accounts/test_names.py checks the fonts):
# Han characters (the BMP block and Extension A as far as the fonts go, and the rare extension characters listed in
# accounts/data/han_extensions.txt), Latin letters (for names in Latin transcription, including Zhuang and pinyin,
# and for passport holders) with at most NAME_MAX_MARKS combining accents each, the middle dot of transcribed
# minority names (买买提·吐尔逊), and a space, hyphen or apostrophe between the parts of a Latin name.

NAME_MAX_MARKS = 2
NAME_MIDDLE_DOT = "\u00b7"
# Look-alikes of the middle dot typed by input methods and keyboards: they become "·".
NAME_DOT_LOOKALIKES = frozenset("\u119e\u2022\u30fb\uff0e\uff65\u2027\u2219\u22c5\u318d\u2e31\u0387\u16eb\u2981\u00b7")
NAME_SEPARATORS = frozenset(" -'" + NAME_MIDDLE_DOT)
# BMP Han ranges the certificate fonts draw in full (U+9FF0… and U+4DB6… are newer than the fonts).
NAME_HAN_BMP = ((0x4E00, 0x9FEF), (0x3400, 0x4DB5))
NAME_LATIN = (
    (0x0041, 0x005A),
    (0x0061, 0x007A),
    (0x00C0, 0x00D6),
    (0x00D8, 0x00F6),
    (0x00F8, 0x00FF),
    (0x0100, 0x017F),  # Latin Extended-A
    (0x01CD, 0x01DC),  # the pinyin letters with caron and ü of Latin Extended-B
    (0x1E00, 0x1EFB),  # Latin Extended Additional: letters with two accents, as NFC composes them (ễ)
)
NAME_MARKS = (0x0300, 0x034E)  # combining diacritical marks the fonts draw, after a Latin letter only
# Invisible characters that are not format (Cf) characters, so PlainTextValidator lets them through.
NAME_INVISIBLE = frozenset("\u3164\u115f\u1160\uffa0\u2800\u034f\u180b\u180c\u180d\u180e\u180f")


def _in(ranges: tuple[tuple[int, int], ...], cp: int) -> bool:
    return any(low <= cp <= high for low, high in ranges)


@functools.cache
def name_han_extensions() -> frozenset[int]:
    """The rare Han characters (Extensions B–G) a name may hold: those the certificate fonts draw."""
    code_points: set[int] = set()
    for line in (Path(__file__).parent / "data" / "han_extensions.txt").read_text(encoding="ascii").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        low, _sep, high = line.partition("-")
        code_points.update(range(int(low, 16), int(high or low, 16) + 1))
    return frozenset(code_points)


def is_name_han(cp: int) -> bool:
    return _in(NAME_HAN_BMP, cp) or cp in name_han_extensions()


def is_name_latin(cp: int) -> bool:
    return _in(NAME_LATIN, cp)


def _is_han_block(cp: int) -> bool:
    return unicodedata.name(chr(cp), "").startswith("CJK UNIFIED IDEOGRAPH")


def _is_invisible(ch: str) -> bool:
    cp = ord(ch)
    return (
        ch in NAME_INVISIBLE
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0xE0100 <= cp <= 0xE01EF
        or 0xE0000 <= cp <= 0xE007F  # tags
        or (unicodedata.category(ch) in ("Cf", "Zs") and ch != " ")
    )


def normalize_person_name(value: str) -> str:
    """NFKC (full-width letters, Kangxi radicals and compatibility ideographs become the ordinary characters), the
    middle dot's look-alikes (•, ・, ．…) and a full stop between two Han characters become "·", and runs of spaces
    become one."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    chars = [NAME_MIDDLE_DOT if ch in NAME_DOT_LOOKALIKES else ch for ch in text]
    for i, ch in enumerate(chars):
        if ch == "." and 0 < i < len(chars) - 1 and is_name_han(ord(chars[i - 1])) and is_name_han(ord(chars[i + 1])):
            chars[i] = NAME_MIDDLE_DOT
    # Spaces around a middle dot go; other runs of ASCII spaces become one (invisible spaces stay, to be refused).
    text = " ".join(part for part in "".join(chars).split(" ") if part)
    return text.replace(" " + NAME_MIDDLE_DOT, NAME_MIDDLE_DOT).replace(NAME_MIDDLE_DOT + " ", NAME_MIDDLE_DOT)


@deconstructible
class PersonNameValidator:
    """Refuse what cannot be a name on a resident ID card or cannot be printed as typed on the certificate.

    Control and format characters are PlainTextValidator's (validate_single_line), which goes with this one."""

    messages = {
        "name_invisible": _(
            "This name contains an invisible character (U+%(code)s), such as a variation selector or a Hangul "
            "filler, which would make it print like another name. Type the name again without it."
        ),
        "name_marks": _(
            "This name has a letter with more than %(max)s accents (at “%(char)s”). Type it as on the ID card."
        ),
        "name_mark_alone": _("This name has an accent (U+%(code)s) that does not follow a Latin letter."),
        "name_rare_han": _(
            "The character “%(char)s” (U+%(code)s) cannot be printed on our certificates yet. Apply at a police "
            "station counter, where the name is written by hand."
        ),
        "name_character": _(
            "A name may contain only Chinese characters, Latin letters (with accents), the middle dot “·”, and "
            "spaces, hyphens or apostrophes between its parts; “%(char)s” (U+%(code)s) is not accepted."
        ),
        "name_separators": _(
            "A name starts and ends with a letter or Chinese character, with one “·”, space, hyphen or apostrophe "
            "at most between two parts."
        ),
    }

    def _error(self, kind: str, **params: object) -> ValidationError:
        return ValidationError(self.messages[kind], code=kind, params=params)

    def __call__(self, value: object) -> None:
        name = str(value or "")
        marks = 0
        base = ""
        after_latin = False
        previous_separator = True  # at the start
        for ch in name:
            cp = ord(ch)
            params = {"char": ch, "code": f"{cp:04X}"}
            if ch == "\x00" or unicodedata.category(ch) in REFUSED_CATEGORIES:
                continue  # validate_single_line's message
            if _is_invisible(ch):
                raise self._error("name_invisible", code=f"{cp:04X}")
            if _in((NAME_MARKS,), cp):
                if not after_latin:
                    raise self._error("name_mark_alone", code=f"{cp:04X}")
                marks += 1
                if marks > NAME_MAX_MARKS:
                    raise self._error("name_marks", max=NAME_MAX_MARKS, char=base)
                continue
            if ch in NAME_SEPARATORS:
                if previous_separator:
                    raise self._error("name_separators")
                previous_separator, after_latin, marks = True, False, 0
                continue
            previous_separator, marks = False, 0
            if is_name_latin(cp):
                # A precomposed letter counts its own accents: ǚ already has two.
                after_latin, base, marks = True, ch, len(unicodedata.normalize("NFD", ch)) - 1
            elif is_name_han(cp):
                after_latin = False
            elif _is_han_block(cp):
                raise self._error("name_rare_han", **params)
            else:
                raise self._error("name_character", **params)
        if name and previous_separator:
            raise self._error("name_separators")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PersonNameValidator)


validate_person_name = PersonNameValidator()
