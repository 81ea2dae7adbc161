"""The two ways to verify: by code, and by uploading the PDF."""

import datetime
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from portal.formmessages import RequiredMessagesMixin

from .codes import LENGTH, SHARE_LENGTH, normalize_code

PDF_MAX_BYTES = 5 * 1024 * 1024


class TypedCodeField(forms.CharField):
    """A code typed from paper or as told (a verification or share code of `length` characters): any case, spaces
    and hyphens accepted; cleaned to its printed form, or refused with the `malformed` message."""

    def __init__(self, *, length: int, malformed: Any, **kwargs: Any) -> None:
        self.length = length
        self.malformed = malformed
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:  # the code in its printed form, not the typed text
        code = normalize_code(super().clean(value), self.length)
        if code is None:
            raise forms.ValidationError(self.malformed, code="malformed")
        return code


class CodeForm(RequiredMessagesMixin, forms.Form):
    code = TypedCodeField(
        label=_("Verification code"),
        help_text=_("The 20 characters printed under the QR code, e.g. ABCD-EFGH-JKMN-PQRS-TVWX."),
        length=LENGTH,
        malformed=_("A verification code has 20 letters and digits, in five groups of four."),
    )


class PdfForm(RequiredMessagesMixin, forms.Form):
    pdf = forms.FileField(
        label=_("The certificate as a PDF file"),
        help_text=_("The file exactly as it was downloaded, at most 5 MB. It is checked and not kept."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def clean_pdf(self) -> bytes:
        upload: UploadedFile[bytes] = self.cleaned_data["pdf"]
        # forms.FileField has refused an upload without a size (empty)
        if cast("int", upload.size) > PDF_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."), code="too_large")
        upload.seek(0)
        data: bytes = upload.read(PDF_MAX_BYTES + 1)
        if len(data) > PDF_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."), code="too_large")
        if not data.startswith(b"%PDF-"):
            raise forms.ValidationError(_("This file is not a PDF."), code="wrong_type")
        return data


def _single_line(value: str) -> None:
    from accounts.validators import validate_single_line

    validate_single_line(value)


def _share_text(label: Any, help_text: Any) -> forms.CharField:
    """One line of text about a share code, its organisation or purpose (as long as ShareCode and ShareCodeUse keep)."""
    return forms.CharField(label=label, max_length=200, validators=[_single_line], help_text=help_text)


class BirthDateField(forms.CharField):
    """A date of birth typed as YYYY-MM-DD or as 8 digits (YYYYMMDD, as in a resident ID number)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Date of birth"))
        kwargs.setdefault("help_text", _("As YYYY-MM-DD or as 8 digits, e.g. 1990-03-07 or 19900307."))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"})
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> datetime.date:  # a date, not the typed text
        from .sharing import parse_birth_date

        text = super().clean(value)
        born = parse_birth_date(text)
        if born is None:
            raise forms.ValidationError(
                _("Enter the date of birth as YYYY-MM-DD or as 8 digits (YYYYMMDD)."), code="invalid_date"
            )
        return born


class HolderCheckForm(RequiredMessagesMixin, forms.Form):
    """On /verify/<code>/: the holder's full name and date of birth, as printed on the document shown."""

    name = forms.CharField(
        label=_("Holder's full name"),
        max_length=60,
        validators=[_single_line],
        help_text=_("Exactly as printed on the document you were shown."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    birth_date = BirthDateField()


class ShareUseForm(RequiredMessagesMixin, forms.Form):
    """On /verify/share/: the share code the holder gave, the holder's date of birth and who is asking."""

    code = TypedCodeField(
        label=_("Share code"),
        help_text=_("The 24 characters the holder gave you, e.g. ABCD-EFGH-JKMN-PQRS-TVWX-YZ01."),
        length=SHARE_LENGTH,
        malformed=_("A share code has 24 letters and digits, in six groups of four."),
    )
    birth_date = BirthDateField(label=_("Holder's date of birth"))
    organisation = _share_text(_("Your organisation"), _("The holder sees this name, and when you used the code."))
    notify_email = forms.EmailField(
        label=_("E-mail for a revocation notice (optional)"),
        required=False,
        help_text=_("If the document is revoked while the share code is valid, we tell this address once."),
    )


class ShareCreateForm(RequiredMessagesMixin, forms.Form):
    """On /me/: share one valid document with one organisation, for one purpose, for up to 30 days."""

    document = forms.ChoiceField(label=_("Document"))
    organisation = _share_text(_("Organisation"), _("Who will check the document, e.g. the employer or school."))
    purpose = _share_text(_("Purpose"), _("e.g. job application"))
    days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=30,
        initial=30,
        help_text=_("1 to 30 days; you can cancel the code at any time."),
    )

    def __init__(self, *args: Any, documents: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ChoiceField", self.fields["document"]).choices = documents
