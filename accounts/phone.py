"""Mainland China mobile numbers, parsed by phonenumbers and stored in E.164.

What is typed is checked before phonenumbers sees it: the library reads keypad letters as digits ("139 1236 OOO6"
becomes +8613912366666, since O is on the 6 key), drops "ext. 12" and accepts dots, slashes and other scripts'
digits, so a mistyped number would be stored as a stranger's and the confirmation SMS sent to them. Only digits,
spaces, hyphens, brackets and a leading + are accepted, after NFKC (full-width digits, brackets and the ideographic
space become their ASCII forms).
"""

import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .validators import validate_single_line

PHONE_PUNCTUATION = frozenset(" -()")


def _check_characters(value: str) -> None:
    """Refuse a letter or any character but ASCII digits, spaces, hyphens, brackets and one leading +."""
    validate_single_line(value)  # an invisible character gets its own message
    for index, ch in enumerate(value):
        if "0" <= ch <= "9" or ch in PHONE_PUNCTUATION or (ch == "+" and index == 0):
            continue
        if ch.isalpha():
            raise ValidationError(
                _(
                    "A phone number has no letters: “%(char)s” is not a digit (was a letter O or I typed for 0 or 1?). "
                    "Type the number with digits only."
                ),
                code="letters",
                params={"char": ch},
            )
        raise ValidationError(
            _(
                "A phone number has only digits, spaces, hyphens, brackets and a + at the start; “%(char)s” is not "
                "accepted."
            ),
            code="characters",
            params={"char": ch},
        )


def normalize_mobile(raw: str) -> str:
    """Return the E.164 form of a mainland mobile number, or raise ValidationError."""
    value = unicodedata.normalize("NFKC", raw or "").strip()
    if not value:
        raise ValidationError(_("Enter your mobile phone number."), code="required")
    _check_characters(value)
    try:
        parsed = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        raise ValidationError(_("This is not a phone number."), code="invalid") from None
    if parsed.country_code != 86:
        raise ValidationError(_("Enter a mainland China mobile number (+86)."), code="country")
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("This is not a valid mainland China phone number."), code="invalid")
    if phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(
            _("This is a landline number; enter a mobile number that can receive SMS."), code="not_mobile"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def validate_mobile(value: str) -> None:
    normalize_mobile(value)


def display_mobile(e164: str) -> str:
    """A stored number as people read it: a mainland mobile in its national groups ("138 1234 5679"), any other
    number in the international format; what cannot be parsed, as stored."""
    if not e164:
        return ""
    try:
        parsed = phonenumbers.parse(e164, "CN")
    except phonenumbers.NumberParseException:
        return e164
    if not phonenumbers.is_valid_number(parsed):
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 86
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)
