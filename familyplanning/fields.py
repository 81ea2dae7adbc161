"""Declarative field definitions from which both the online form and the blank PDF form are produced."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from dataclasses import astuple, dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts import idnumber, phone
from accounts.address import HENAN, Address, AddressField, AddressFormMixin
from accounts.address import PARTS as ADDRESS_PARTS
from accounts.forms import PersonNameField
from accounts.validators import validate_single_line
from portal.formmessages import lazy_interpolate


class Kind:
    """What a field holds; decides the form field, its validation and the box drawn on the blank form."""

    TEXT = "text"
    TEXTAREA = "textarea"
    DATE = "date"
    CHOICE = "choice"
    ID_NUMBER = "id_number"
    MOBILE = "mobile"
    INTEGER = "integer"
    YES_NO = "yes_no"
    PERSON = "person"  # a group: the person's name and resident ID number
    ADDRESS = "address"  # in parts (accounts.address): province, city, district (GB/T 2260), street, detail

    ALL = frozenset({TEXT, TEXTAREA, DATE, CHOICE, ID_NUMBER, MOBILE, INTEGER, YES_NO, PERSON, ADDRESS})


# The sub-fields of a PERSON group, as "<name>_<suffix>" in the online form.
PERSON_NAME_SUFFIX = "name"
PERSON_ID_SUFFIX = "id_number"
PERSON_NAME_MAX_LENGTH = 60
YES, NO = "yes", "no"
# An address answer is its one-line text under its name (what pages, PDFs and the admin show) and its parts beside it
# under "<name>_parts" ({"province": code, "city": code, "district": code, "street": ..., "detail": ...}).
ADDRESS_PARTS_SUFFIX = "parts"
ONE_LINE_ADDRESS_MAX_LENGTH = 255


def address_parts_key(name: str) -> str:
    return f"{name}_{ADDRESS_PARTS_SUFFIX}"


def is_one_line_address(answers: dict, name: str) -> bool:
    """An address answered before addresses had parts: its text alone."""
    return bool((answers or {}).get(name)) and not isinstance((answers or {}).get(address_parts_key(name)), dict)


def stored_address(answers: dict, name: str) -> Address | None:
    """The address answer `name` in parts; an old one-line answer as its detail part (nothing typed is lost)."""
    parts = (answers or {}).get(address_parts_key(name))
    if isinstance(parts, dict):
        return Address(*(str(parts.get(part) or "") for part in ADDRESS_PARTS))
    text = (answers or {}).get(name)
    return Address(detail=str(text)) if text else None


@dataclass(frozen=True)
class FieldDef:
    name: str
    label: str  # a lazy translatable string (English msgid)
    kind: str = Kind.TEXT
    required: bool = True
    help_text: str = ""
    choices: tuple = ()  # ((value, lazy label), ...) for CHOICE
    multiple: bool = False  # CHOICE: several may be ticked
    max_length: int | None = None  # TEXT / TEXTAREA
    min_value: int | None = None  # INTEGER
    max_value: int | None = None  # INTEGER
    not_future: bool = False  # DATE: on or before today (a birth, a marriage)
    lines: int = 3  # TEXTAREA: ruled lines on the blank form

    def __post_init__(self):
        if self.kind not in Kind.ALL:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")
        if self.kind == Kind.CHOICE and not self.choices:
            raise ValueError(f"{self.name}: a choice needs choices")
        if self.kind != Kind.CHOICE and (self.choices or self.multiple):
            raise ValueError(f"{self.name}: only a choice has choices")
        if not self.name.isidentifier():
            raise ValueError(f"{self.name!r} is not a valid field name")

    @property
    def form_field_names(self) -> tuple[str, ...]:
        """The names this definition takes in the online form (two for a person, one otherwise)."""
        if self.kind == Kind.PERSON:
            return (f"{self.name}_{PERSON_NAME_SUFFIX}", f"{self.name}_{PERSON_ID_SUFFIX}")
        return (self.name,)


@dataclass(frozen=True)
class Section:
    title: str
    fields: tuple[FieldDef, ...]


@dataclass(frozen=True)
class FormDef:
    """One service's application form, in the version printed on the blank form."""

    service_key: str
    title: str  # the service's title, printed at the head of the blank form
    version: str
    date: datetime.date  # the date this version of the form was adopted
    sections: tuple[Section, ...]
    # Rules across fields: each takes the cleaned data and returns {field name or None: message} for what is wrong.
    checks: tuple[Callable[[dict], dict], ...] = ()

    def __post_init__(self):
        if len({f.name for f in self.fields}) != len(self.fields):
            raise ValueError(f"{self.service_key}: two field definitions share a name")
        names = [n for f in self.fields for n in f.form_field_names]
        names += [address_parts_key(f.name) for f in self.fields if f.kind == Kind.ADDRESS]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.service_key}: two form fields share a name")

    @property
    def fields(self) -> tuple[FieldDef, ...]:
        return tuple(f for section in self.sections for f in section.fields)

    def field(self, name: str) -> FieldDef:
        for definition in self.fields:
            if definition.name == name:
                return definition
        raise KeyError(name)

    def adding(self, definition: FieldDef, *, section: int = -1) -> FormDef:
        """A copy with `definition` appended to a section (the last one unless told)."""
        sections = list(self.sections)
        target = sections[section]
        sections[section] = dataclasses.replace(target, fields=(*target.fields, definition))
        return dataclasses.replace(self, sections=tuple(sections))


# --- The online form ------------------------------------------------------------------------------------


class IdNumberField(forms.CharField):
    """A resident ID number, validated by accounts.idnumber.parse with its specific messages; cleans to the
    normalised number."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 24)  # room for spaces typed between the groups
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return ""
        return idnumber.parse(value).number


class MobileField(forms.CharField):
    """A mainland China mobile number, cleaned to E.164 by accounts.phone.normalize_mobile."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.widget.input_type = "tel"
        self.widget.attrs.update({"autocomplete": "tel"})

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return ""
        return phone.normalize_mobile(value)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def not_in_future(value: datetime.date) -> None:
    if value and value > timezone.localdate():
        raise ValidationError(_("This date is in the future."), code="future_date")


def _form_fields(definition: FieldDef) -> dict[str, forms.Field]:
    common = {"label": definition.label, "required": definition.required, "help_text": definition.help_text}
    kind = definition.kind
    if kind == Kind.TEXT:
        return {definition.name: forms.CharField(max_length=definition.max_length or 200, **common)}
    if kind == Kind.TEXTAREA:
        return {
            definition.name: forms.CharField(
                max_length=definition.max_length or 2000,
                widget=forms.Textarea(attrs={"rows": definition.lines}),
                **common,
            )
        }
    if kind == Kind.DATE:
        validators = [not_in_future] if definition.not_future else []
        return {definition.name: forms.DateField(widget=DateInput(), validators=validators, **common)}
    if kind == Kind.CHOICE:
        if definition.multiple:
            return {
                definition.name: forms.MultipleChoiceField(
                    choices=definition.choices, widget=forms.CheckboxSelectMultiple, **common
                )
            }
        return {definition.name: forms.ChoiceField(choices=definition.choices, widget=forms.RadioSelect, **common)}
    if kind == Kind.ID_NUMBER:
        return {definition.name: IdNumberField(**common)}
    if kind == Kind.ADDRESS:
        return {definition.name: AddressField(parts=definition.name, **common)}
    if kind == Kind.MOBILE:
        return {definition.name: MobileField(**common)}
    if kind == Kind.INTEGER:
        return {
            definition.name: forms.IntegerField(
                min_value=definition.min_value if definition.min_value is not None else 0,
                max_value=definition.max_value,
                **common,
            )
        }
    if kind == Kind.YES_NO:
        return {
            definition.name: forms.TypedChoiceField(
                choices=((YES, _("Yes")), (NO, _("No"))),
                coerce=lambda value: value == YES,
                empty_value=None,
                widget=forms.RadioSelect,
                **common,
            )
        }
    # PERSON: the name and the ID number, each labelled with the group's label.
    name_field, id_field = definition.form_field_names
    # The group's label names the person; the messages say which part is missing ("请输入妻子的姓名").
    who = {"person": definition.label}
    return {
        name_field: PersonNameField(
            label=format_lazy("{} – {}", definition.label, _("Name")),
            max_length=PERSON_NAME_MAX_LENGTH,
            required=definition.required,
            help_text=definition.help_text,
            error_messages={"required": lazy_interpolate(_("%(person)s: enter the name"), who)},
        ),
        id_field: IdNumberField(
            label=format_lazy("{} – {}", definition.label, _("Resident ID number")),
            required=definition.required,
            error_messages={"required": lazy_interpolate(_("%(person)s: enter the resident ID number"), who)},
        ),
    }


class DefinedForm(AddressFormMixin, forms.Form):
    """Base of the forms build_form() makes; `form_def` is set on each subclass.

    Addresses are AddressFields (with the no-JavaScript "Update the lists" step of AddressFormMixin), cleaned to
    their one-line text with the parts beside it. `one_line_addresses` names address answers given before addresses
    had parts (validate_answers): they are checked as the one line of text they are.
    """

    form_def: FormDef

    def __init__(self, *args, one_line_addresses=(), **kwargs):
        super().__init__(*args, **kwargs)
        for name in one_line_addresses:
            field = self.fields[name]
            self.fields[name] = forms.CharField(
                label=field.label,
                required=field.required,
                max_length=ONE_LINE_ADDRESS_MAX_LENGTH,
                validators=[validate_single_line],
            )

    def clean(self):
        cleaned = super().clean()
        # A person is given whole or not at all (an optional person may be left blank).
        for definition in self.form_def.fields:
            if definition.kind != Kind.PERSON:
                continue
            name_field, id_field = definition.form_field_names
            has_name, has_id = bool(cleaned.get(name_field)), bool(cleaned.get(id_field))
            if has_name and not has_id and id_field not in self.errors:
                self.add_error(id_field, _("Enter this person's resident ID number too."))
            if has_id and not has_name and name_field not in self.errors:
                self.add_error(name_field, _("Enter this person's name too."))
        if not self.errors:
            for check in self.form_def.checks:
                for name, message in (check(cleaned) or {}).items():
                    self.add_error(name, message)
        return cleaned

    def answers(self) -> dict:
        """The cleaned data as JSON: dates in ISO format, a person as {"name", "id_number"}."""
        return answers_from_cleaned(self.form_def, self.cleaned_data)


def build_form(form_def: FormDef) -> type[DefinedForm]:
    """A Django form class with one field per definition (two for a person), in the definition's order."""
    attrs = {"form_def": form_def}
    for definition in form_def.fields:
        attrs.update(_form_fields(definition))
    class_name = "".join(part.title() for part in form_def.service_key.split("_")) + "Form"
    return type(class_name, (DefinedForm,), attrs)


def answers_from_cleaned(form_def: FormDef, cleaned: dict) -> dict:
    answers = {}
    for definition in form_def.fields:
        if definition.kind == Kind.PERSON:
            name_field, id_field = definition.form_field_names
            answers[definition.name] = {
                PERSON_NAME_SUFFIX: cleaned.get(name_field, ""),
                PERSON_ID_SUFFIX: cleaned.get(id_field, ""),
            }
            continue
        if definition.kind == Kind.ADDRESS:
            # AddressFormMixin.clean: the text under the name, the parts as "<name>_<part>" (none for a one-line
            # address of old).
            answers[definition.name] = cleaned.get(definition.name) or ""
            parts = {part: cleaned.get(f"{definition.name}_{part}") or "" for part in ADDRESS_PARTS}
            if any(parts.values()):
                answers[address_parts_key(definition.name)] = parts
            continue
        value = cleaned.get(definition.name)
        if isinstance(value, datetime.date):
            value = value.isoformat()
        answers[definition.name] = value
    return answers


def form_data_from_answers(form_def: FormDef, answers: dict) -> dict:
    """Stored answers back into form data (to bind a form, re-check a draft or fill the fields again)."""
    data = {}
    for definition in form_def.fields:
        value = (answers or {}).get(definition.name)
        if definition.kind == Kind.PERSON:
            value = value if isinstance(value, dict) else {}
            name_field, id_field = definition.form_field_names
            data[name_field] = value.get(PERSON_NAME_SUFFIX) or ""
            data[id_field] = value.get(PERSON_ID_SUFFIX) or ""
        elif definition.kind == Kind.ADDRESS:
            address = stored_address(answers, definition.name)
            if address is None:
                continue
            data.update(
                {f"{definition.name}_{part}": v for part, v in zip(ADDRESS_PARTS, astuple(address), strict=True)}
            )
            if is_one_line_address(answers, definition.name):
                # Checked as one line (validate_answers), or, where parts are asked for, as the detail part of an
                # address in Henan whose city is still to choose.
                data[definition.name] = value
                data[f"{definition.name}_province"] = HENAN
        elif definition.kind == Kind.YES_NO:
            data[definition.name] = {True: YES, False: NO}.get(value, "")
        elif definition.kind == Kind.CHOICE and definition.multiple:
            data[definition.name] = list(value or [])
        else:
            data[definition.name] = "" if value is None else value
    return data


def validate_answers(
    form_def: FormDef, answers: dict, *, partial: bool = False, one_line_addresses: bool = True
) -> dict:
    """Check stored answers against the definition; return them cleaned, or raise ValidationError per field.

    `partial` (a draft): what is missing is no error yet, but what is given must be valid.
    An address answered before addresses had parts (one line of text) stays valid as it is, so an application sent
    then keeps opening, showing and validating; `one_line_addresses=False` (a draft about to be submitted) asks for
    its parts instead.
    """
    one_line = ()
    if one_line_addresses:
        one_line = tuple(
            d.name for d in form_def.fields if d.kind == Kind.ADDRESS and is_one_line_address(answers, d.name)
        )
    form = build_form(form_def)(data=form_data_from_answers(form_def, answers), one_line_addresses=one_line)
    if form.is_valid():
        return form.answers()
    errors = {}
    for name, field_errors in form.errors.as_data().items():
        kept = [error for error in field_errors if not (partial and error.code == "required")]
        if kept:
            errors[name or "answers"] = kept
    if errors:
        raise ValidationError(errors)
    # Only required fields were missing: keep what was given, cleaned.
    return answers_from_cleaned(form_def, form.cleaned_data)


# --- The blank PDF form -----------------------------------------------------------------------------------

BLANK_FORM_TEMPLATE = "familyplanning/pdf/blank_form.html"
ID_NUMBER_CELLS = 18
MOBILE_CELLS = 11


@dataclass(frozen=True)
class BlankField:
    """What the blank-form template draws for one definition."""

    definition: FieldDef
    cells: int = 0  # character boxes (ID number, mobile)
    lines: int = 0  # ruled lines
    choices: tuple = field(default=())
    person_id_cells: int = 0

    @property
    def kind(self):
        return self.definition.kind

    @property
    def label(self):
        return self.definition.label

    @property
    def line_range(self):
        return range(self.lines)


def _blank_field(definition: FieldDef) -> BlankField:
    kind = definition.kind
    if kind == Kind.ID_NUMBER:
        return BlankField(definition, cells=ID_NUMBER_CELLS)
    if kind == Kind.MOBILE:
        return BlankField(definition, cells=MOBILE_CELLS)
    if kind == Kind.TEXTAREA:
        return BlankField(definition, lines=max(2, definition.lines))
    if kind == Kind.CHOICE:
        return BlankField(definition, choices=definition.choices)
    if kind == Kind.YES_NO:
        return BlankField(definition, choices=((YES, _("Yes")), (NO, _("No"))))
    if kind == Kind.PERSON:
        return BlankField(definition, person_id_cells=ID_NUMBER_CELLS)
    return BlankField(definition, lines=1)


def blank_form_context(form_def: FormDef) -> dict:
    return {
        "form_def": form_def,
        "sections": [
            {"title": section.title, "fields": [_blank_field(f) for f in section.fields]}
            for section in form_def.sections
        ],
        "id_cells": range(ID_NUMBER_CELLS),
        "mobile_cells": range(MOBILE_CELLS),
    }


def render_blank_pdf(form_def: FormDef, *, language: str) -> bytes:
    """The blank application form to print and fill in by hand, from the same definitions as the online form."""
    from portal.pdf import render_pdf

    context = blank_form_context(form_def)
    return render_pdf(BLANK_FORM_TEMPLATE, context, language=language)
