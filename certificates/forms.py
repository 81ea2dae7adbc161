"""Citizen forms of the no-criminal-record application: one form per section, plus start and submit."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from accounts.forms import PersonNameField
from accounts.models import Office
from accounts.officepicker import OfficePickerField, OfficePickerFormMixin
from accounts.validators import validate_multiline, validate_single_line
from portal.cases.forms import SubmissionForm
from portal.documents.forms import PrivateFileField, PrivateUploadFormMixin
from portal.documents.validation import ID_DOCUMENT_RULES, PHOTO_RULES
from portal.formmessages import RequiredMessagesMixin, radio_choice

from .models import Delivery, HolderIdType, Reason

PASSPORT_NUMBER = re.compile(r"^[A-Z0-9]{5,20}$")

# The uploads each ID document type needs, in the order they are asked for.
DOCUMENT_KINDS = {
    HolderIdType.RESIDENT_ID: ("id_front", "id_back", "photo"),
    HolderIdType.PASSPORT: ("passport", "photo"),
}
DOCUMENT_LABELS = {
    "id_front": _("ID card, front (the side with the photo)"),
    "id_back": _("ID card, back (the side with the national emblem)"),
    "passport": _("Passport data page"),
    "photo": _("Bareheaded colour photo"),
    "authorisation": _("Written authorisation, signed by the holder"),
}
DOCUMENT_HELP = {
    "id_front": _("A scan or photo of the whole card, readable: JPEG, PNG or PDF, at most 10 MB."),
    "id_back": _("A scan or photo of the whole card, readable: JPEG, PNG or PDF, at most 10 MB."),
    "passport": _("The page with the photo and personal data: JPEG, PNG or PDF, at most 10 MB."),
    "photo": _(
        "Recent, bareheaded, in colour, portrait format, at least 358 × 441 pixels: JPEG or PNG, at most 5 MB. "
        "Black-and-white photos are not accepted."
    ),
    "authorisation": _(
        "The holder's signed authorisation for you to apply on their behalf: JPEG, PNG or PDF, at most 10 MB."
    ),
}


REQUIRED_UPLOAD = {
    "id_front": _("Upload the front of the ID card."),
    "id_back": _("Upload the back of the ID card."),
    "passport": _("Upload the passport data page."),
    "photo": _("Upload a bareheaded colour photo."),
}


def police_stations():
    return Office.objects.filter(active=True, kind=Office.Kind.POLICE_STATION).order_by("division_code", "name")


def collection_offices():
    return Office.objects.filter(active=True, accepts_paper_collection=True).order_by("division_code", "name")


class SectionFormMixin(OfficePickerFormMixin, RequiredMessagesMixin):
    """A section form saved with "Save as draft and leave" may be incomplete, but never wrong.

    Missing answers (errors with code "required") are let through for a draft; application_missing lists
    them on the check page. Malformed answers (a bad ID number, a refused file) still stop the save.
    """

    def __init__(self, *args, draft=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.draft = draft

    def full_clean(self):
        super().full_clean()
        if not self.draft or not self._errors:
            return
        for name in list(self._errors):
            kept = [error for error in self._errors[name].as_data() if error.code != "required"]
            if kept:
                self._errors[name] = self.error_class(kept, renderer=self.renderer)
            else:
                del self._errors[name]


class StartForm(OfficePickerFormMixin, RequiredMessagesMixin, forms.Form):
    FOR_SELF, FOR_OTHER = "self", "agent"

    applying_for = radio_choice(
        _("Who is the certificate for?"),
        [
            (FOR_SELF, _("Myself")),
            (FOR_OTHER, _("Someone else: I am their agent, with their written authorisation")),
        ],
        _("Choose whether the certificate is for you or for someone else."),
    )
    office = OfficePickerField(
        label=_("Police station"),
        queryset=Office.objects.none(),
        empty_label=_("Choose a police station"),
        help_text=_("The police station of the holder's hukou or of their residence."),
        error_messages={
            "required": _("Choose the police station that should issue the certificate."),
            "invalid_choice": _("This police station cannot be chosen; choose one from the list."),
        },
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["office"].queryset = police_stations()

    def clean_applying_for(self):
        value = self.cleaned_data["applying_for"]
        if value == self.FOR_SELF and not self.user.id_number:
            raise ValidationError(
                _(
                    "Your account has no resident ID number, so you cannot apply for yourself online. "
                    "Apply at a police station counter with your ID document."
                ),
                code="no_id_number",
            )
        return value


class HolderSelfForm(SectionFormMixin, forms.Form):
    """Nothing to type: the holder's data comes from the applicant's profile."""


class HolderAgentForm(SectionFormMixin, PrivateUploadFormMixin, forms.Form):
    holder_name = PersonNameField(
        label=_("Holder's full name"),
        max_length=60,
        help_text=_("Exactly as on the holder's ID document."),
        error_messages={"required": _("Enter the full name of the person the certificate is for.")},
    )
    holder_id_type = radio_choice(
        _("Holder's ID document"), HolderIdType.choices, _("Choose the type of the holder's ID document.")
    )
    holder_id_number = forms.CharField(
        label=_("Holder's ID document number"),
        max_length=40,
        help_text=_(
            "Resident ID card: 18 characters; sex and date of birth are read from it. Passport: 5 to 20 letters and digits."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
        error_messages={"required": _("Enter the number of the holder's ID document.")},
    )
    authorisation = PrivateFileField(
        label=DOCUMENT_LABELS["authorisation"],
        help_text=DOCUMENT_HELP["authorisation"],
        rules=ID_DOCUMENT_RULES,
        kind="authorisation",
        error_messages={"required": _("Upload the holder's signed authorisation.")},
    )

    def clean_holder_name(self):
        return " ".join(self.cleaned_data["holder_name"].split())

    def clean(self):
        cleaned = super().clean()
        id_type, number = cleaned.get("holder_id_type"), cleaned.get("holder_id_number", "")
        cleaned["holder_sex"], cleaned["holder_birth_date"] = "", None
        if not number:
            return cleaned
        if not id_type:
            if "holder_id_type" not in self.errors or self.draft:
                self.add_error(
                    "holder_id_type",
                    ValidationError(_("Choose the type of ID document the number belongs to."), code="id_type_needed"),
                )
        elif id_type == HolderIdType.PASSPORT:
            number = idnumber.normalize(number)
            if not PASSPORT_NUMBER.match(number):
                self.add_error(
                    "holder_id_number",
                    ValidationError(
                        _("A passport number has 5 to 20 letters and digits; you entered %(value)s."),
                        code="passport_format",
                        params={"value": number},
                    ),
                )
            else:
                cleaned["holder_id_number"] = number
        elif id_type == HolderIdType.RESIDENT_ID:
            try:
                info = idnumber.parse(number)
            except ValidationError as exc:
                self.add_error("holder_id_number", exc)
            else:
                cleaned["holder_id_number"] = info.number
                cleaned["holder_sex"], cleaned["holder_birth_date"] = info.sex, info.birth_date
        return cleaned


class PurposeForm(SectionFormMixin, forms.Form):
    reason = radio_choice(_("What is the certificate for?"), Reason.choices, _("Choose what the certificate is for."))
    destination_country = forms.CharField(
        label=_("Destination country or region"),
        max_length=80,
        validators=[validate_single_line],
        required=False,
        help_text=_("Only if you are going abroad."),
    )
    reason_other = forms.CharField(
        label=_("Explain the purpose"),
        max_length=200,
        validators=[validate_multiline],
        required=False,
        help_text=_("Only if you chose “Other”. At most 200 characters."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    receiving_organisation = forms.CharField(
        label=_("Receiving organisation"),
        max_length=200,
        validators=[validate_single_line],
        help_text=_("The employer, embassy, school or other organisation that asked for the certificate."),
        error_messages={"required": _("Enter the organisation that will receive the certificate.")},
    )

    def clean(self):
        cleaned = super().clean()
        reason = cleaned.get("reason")
        for name in ("destination_country", "reason_other", "receiving_organisation"):
            if name in cleaned:
                cleaned[name] = " ".join(cleaned[name].split())
        if reason == Reason.ABROAD and not cleaned.get("destination_country"):
            self.add_error(
                "destination_country",
                ValidationError(_("Enter the country or region you are going to."), code="required"),
            )
        if reason == Reason.OTHER and not cleaned.get("reason_other"):
            self.add_error("reason_other", ValidationError(_("Explain what the certificate is for."), code="required"))
        # An answer that no longer applies is not kept (a destination after switching to employment).
        if reason != Reason.ABROAD:
            cleaned["destination_country"] = ""
        if reason != Reason.OTHER:
            cleaned["reason_other"] = ""
        return cleaned


class DeliveryForm(SectionFormMixin, forms.Form):
    delivery = radio_choice(
        _("How do you want to receive the certificate?"),
        Delivery.choices,
        _("Choose how you want to receive the certificate."),
    )
    collection_office = OfficePickerField(
        label=_("Office to collect the paper copy"),
        queryset=Office.objects.none(),
        empty_label=_("Choose an office"),
        with_address=True,
        required=False,
        help_text=_("Only if you want a paper copy to collect. You will be told when it is ready."),
        error_messages={
            "invalid_choice": _("Paper copies cannot be collected at this office; choose one from the list.")
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection_office"].queryset = collection_offices()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("delivery") == Delivery.COLLECT:
            if not cleaned.get("collection_office") and "collection_office" not in self.errors:
                self.add_error(
                    "collection_office",
                    ValidationError(_("Choose the office where you will collect the paper copy."), code="required"),
                )
        else:
            cleaned["collection_office"] = None
        return cleaned


class DocumentsForm(SectionFormMixin, PrivateUploadFormMixin, forms.Form):
    """One upload per kind the ID document type needs; a kind already uploaded is kept unless replaced."""

    def __init__(self, *args, id_type, current, **kwargs):
        self.kinds = DOCUMENT_KINDS.get(id_type, DOCUMENT_KINDS[HolderIdType.RESIDENT_ID])
        kwargs.setdefault("initial", {kind: current[kind] for kind in self.kinds if current.get(kind)})
        super().__init__(*args, **kwargs)
        for kind in self.kinds:
            field = PrivateFileField(
                label=DOCUMENT_LABELS[kind],
                help_text=DOCUMENT_HELP[kind],
                rules=PHOTO_RULES if kind == "photo" else ID_DOCUMENT_RULES,
                kind=kind,
                error_messages={"required": REQUIRED_UPLOAD[kind]},
            )
            field.owner = self.owner
            self.fields[kind] = field


class SubmitForm(SubmissionForm):
    reply_label = _("Your answer to the police station")
    reply_required = _("Answer the police station's request: say what you changed or added.")
    field_order = ("declaration", "reply")

    declaration = forms.BooleanField(
        label=_(
            "I declare that the information I have given is true and complete, and that the uploaded documents are "
            "genuine. I know that false information may lead to refusal and to legal consequences."
        ),
        error_messages={"required": _("Tick the declaration to confirm that the information is true.")},
    )
