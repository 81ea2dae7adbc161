"""Citizen forms of the family-planning services: the office, each service's own form (built from its FormDef, the
same definitions the blank PDF is drawn from), and the declaration that submits it."""

import datetime

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from accounts import idnumber, phone
from accounts.officepicker import OfficePickerField, OfficePickerFormMixin
from portal.cases.forms import SubmissionForm
from portal.formmessages import RequiredMessagesMixin
from portal.forms import DraftFormMixin

from . import services
from .fields import ADDRESS_PARTS, YES, FormDef, Kind, build_form, form_data_from_answers, stored_address


class OfficeForm(OfficePickerFormMixin, RequiredMessagesMixin, forms.Form):
    office = OfficePickerField(
        label=_("Health and family-planning office"),
        queryset=services.fp_offices().none(),
        empty_label=_("Choose an office"),
        help_text=_("The office of the place of your household registration (hukou) or of your residence."),
        error_messages={
            "required": _("Choose the office that should handle the application."),
            "invalid_choice": _("This office cannot be chosen; choose one from the list."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = services.fp_offices()


def answers_form_class(form_def: FormDef) -> type:
    """The online form of a service: build_form's fields and rules, savable as a draft (DraftFormMixin). The rules
    across fields run only on an otherwise valid form, so a draft is never told that children it has not listed
    yet do not add up."""
    base = build_form(form_def)
    return type(base.__name__, (DraftFormMixin, base), {})


# The answers that are the applicant's own, filled in from the account on a new application.
PROFILE_PERSONS = ("applicant", "holder")
PROFILE_MOBILES = ("mobile", "contact_mobile")
# A couple's forms ask for each spouse by role; the applicant is the one of their sex (read from the resident ID
# number, accounts.idnumber), and that spouse's section is theirs: name, ID number and mobile.
SPOUSE_ROLES = {"F": ("wife", "mother"), "M": ("husband", "father")}


def _own_person(form_def: FormDef, user) -> str:
    """The person of the form who is the applicant: "applicant"/"holder", or the spouse of the user's sex."""
    names = {definition.name for definition in form_def.fields if definition.kind == Kind.PERSON}
    for name in (*PROFILE_PERSONS, *SPOUSE_ROLES.get(user.sex or "", ())):
        if name in names:
            return name
    return ""


def initial_from_profile(form_def: FormDef, user) -> dict:
    """The applicant's own name, ID number and mobile where the form asks for them: as the applicant, or as the
    spouse of their sex. Nothing for a form that asks for neither (an institution's)."""
    initial = {}
    own = _own_person(form_def, user)
    own_mobiles = (*PROFILE_MOBILES, f"{own}_mobile") if own else PROFILE_MOBILES
    for definition in form_def.fields:
        if definition.kind == Kind.PERSON and definition.name == own:
            name_field, id_field = definition.form_field_names
            initial[name_field] = user.real_name or ""
            initial[id_field] = user.id_number or ""
        elif definition.kind == Kind.MOBILE and definition.name in own_mobiles and user.mobile:
            initial[definition.name] = phone.display_mobile(user.mobile)
    return initial


def initial_from_answers(form_def: FormDef, answers: dict) -> dict:
    initial = {
        name: value for name, value in form_data_from_answers(form_def, answers).items() if value not in ("", [])
    }
    for definition in form_def.fields:
        if definition.kind != Kind.ADDRESS:
            continue
        # An address opens on its parts (an old one-line address as the detail part), not on the posted names.
        for part in ADDRESS_PARTS:
            initial.pop(f"{definition.name}_{part}", None)
        initial.pop(definition.name, None)
        if (address := stored_address(answers, definition.name)) is not None:
            initial[definition.name] = address
    return initial


def bound_sections(form_def: FormDef, form) -> list[dict]:
    """The form's fields grouped under the definition's section titles, in order."""
    return [
        {
            "title": section.title,
            "fields": [form[name] for definition in section.fields for name in definition.form_field_names],
        }
        for section in form_def.sections
    ]


def _shown(definition, value, *, masked: bool):
    """One answer for reading: text, or a list of labels for a multiple choice; None when not given."""
    if value in (None, "", [], {}):
        return None
    kind = definition.kind
    if kind == Kind.PERSON:
        if not isinstance(value, dict) or not any(value.values()):
            return None
        number = value.get("id_number") or ""
        return " · ".join(part for part in (value.get("name"), idnumber.mask(number) if masked else number) if part)
    if kind == Kind.ID_NUMBER and masked:
        return idnumber.mask(value)
    if kind == Kind.CHOICE:
        labels = dict(definition.choices)
        if definition.multiple:
            return [labels.get(v, v) for v in value]
        return labels.get(value, value)
    if kind == Kind.YES_NO:
        return _("Yes") if value is True or value == YES else _("No")
    if kind == Kind.DATE:
        return formats.date_format(datetime.date.fromisoformat(value), "DATE_FORMAT")
    if kind == Kind.MOBILE:
        return phone.display_mobile(str(value))
    return str(value)


def answer_sections(form_def: FormDef, answers: dict, *, masked: bool = False) -> list[dict]:
    """Every answer under its label, by section, for reading. ID numbers in full where the citizen checks what they
    typed; `masked` where they are only a reminder (the progress page). An optional question left unanswered is not
    listed (no "Second child: not given" for a couple with one child); a required one reads "Not given"."""
    sections = []
    for section in form_def.sections:
        rows = []
        for definition in section.fields:
            value = _shown(definition, (answers or {}).get(definition.name), masked=masked)
            if value is None and not definition.required:
                continue
            rows.append(
                {
                    "label": definition.label,
                    "value": value,
                    "multiple": definition.kind == Kind.CHOICE and definition.multiple,
                }
            )
        sections.append({"title": section.title, "rows": rows})
    return sections


class SubmitForm(SubmissionForm):
    """The declaration of truthfulness that submits the application; for a resubmission, also the answer to the
    office's request."""

    declaration = forms.BooleanField(
        label=_(
            "I declare that the information I have given is true and complete. I know that false information may "
            "lead to refusal or to the cancellation of the document, and to legal consequences."
        ),
        error_messages={"required": _("Tick the declaration to confirm that the information is true.")},
    )
