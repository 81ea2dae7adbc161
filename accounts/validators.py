"""Text typed by citizens that ends up on certificates, in the admin and in messages: no invisible control characters.

Escaping stops markup, not a right-to-left override (U+202E) or a zero-width character: those reorder or hide text
on the page and on the signed certificate (a name that makes "no criminal record found" read differently), or make
two different strings look the same to an officer. They are refused with a plain message rather than dropped,
so what is stored is what the citizen sees.
"""

import unicodedata

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
