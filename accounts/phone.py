"""Mainland China mobile numbers, parsed by phonenumbers and stored in E.164."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def normalize_mobile(raw: str) -> str:
    """Return the E.164 form of a mainland mobile number, or raise ValidationError."""
    value = (raw or "").strip()
    if not value:
        raise ValidationError(_("Enter your mobile phone number."), code="required")
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
