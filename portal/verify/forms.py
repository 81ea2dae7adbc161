"""The two ways to verify: by code, and by uploading the PDF."""

from typing import cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from .codes import normalize_code

PDF_MAX_BYTES = 5 * 1024 * 1024


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=40,
        help_text=_("The 20 characters printed under the QR code, e.g. ABCD-EFGH-JKMN-PQRS-TVWX."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def clean_code(self) -> str:
        code = normalize_code(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(
                _("A verification code has 20 letters and digits, in five groups of four."), code="malformed"
            )
        return code


class PdfForm(forms.Form):
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
