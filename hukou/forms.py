"""Citizen forms of one-stop hukou migration: the eligibility pre-check, and the application's sections."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from accounts.forms import PersonNameField
from accounts.models import Office
from portal.documents.forms import PrivateFileField, PrivateUploadFormMixin
from portal.documents.validation import ID_DOCUMENT_RULES
from portal.forms import DraftFormMixin

from .constants import (
    ADULT_AGE,
    MAX_FILES_PER_KIND,
    MAX_PEOPLE,
    UPLOAD_KINDS,
    Category,
    DocumentKind,
    ReceivingParty,
    Relation,
)
from .drafts import municipal_office_required
from .rules import PrecheckAnswers

MAX_AGE = 130
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _yes_no(label, help_text="", required_message=None):
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": required_message or _("Answer yes or no.")},
    )


class AgeListField(forms.CharField):
    """Ages in completed years, separated by commas or spaces ("35, 8"); empty means nobody."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value).replace("，", ",").replace("、", ",")
        ages = []
        for part in text.replace(",", " ").split():
            if not part.isdigit() or int(part) > MAX_AGE:
                raise ValidationError(
                    _("Give each age as a whole number of years, separated by commas; “%(value)s” is not an age."),
                    code="invalid_age",
                    params={"value": part},
                )
            ages.append(int(part))
        return tuple(ages)


class PrecheckForm(forms.Form):
    """The plain questions of the pre-check; the answers become rules.PrecheckAnswers. Nothing is stored."""

    category = forms.ChoiceField(
        label=_("What kind of move is it?"),
        choices=Category.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the category of your move.")},
    )
    head_moves = _yes_no(_("Does the head of household move?"))
    head_age = forms.IntegerField(
        label=_("Age of the head of household on the day of application"),
        required=False,
        min_value=0,
        max_value=MAX_AGE,
        help_text=_("Only if the head of household moves. Completed years."),
    )
    other_mover_ages = AgeListField(
        label=_("Ages of the other people moving"),
        help_text=_(
            "Completed years on the day of application, separated by commas, e.g. “34, 9”. Empty if nobody else moves."
        ),
    )
    staying_ages = AgeListField(
        label=_("Ages of the people who stay in the household you leave"),
        help_text=_("Leave out the new head of household, if you name one below. Empty if nobody stays."),
    )
    new_head_age = forms.IntegerField(
        label=_("Age of the new head of household"),
        required=False,
        min_value=0,
        max_value=MAX_AGE,
        help_text=_("Only if the head of household moves out and others stay: the person staying who becomes head."),
    )
    movers_apply = _yes_no(_("Do the people moving who are 16 or over apply themselves?"))
    guardian_comes = _yes_no(
        _("Does a guardian from the household you leave apply with those under 16?"),
        help_text=_("Answer “No” if nobody moving is under 16."),
    )
    everyone_in_person = _yes_no(_("Do all the parties come to the police station in person?"))
    absent_have_power_of_attorney = _yes_no(
        _("Do those who cannot come give a power of attorney?"),
        help_text=_("Answer “No” if everyone comes in person."),
    )
    receiving_party = forms.ChoiceField(
        label=_("Joining relatives: who applies for the household you join?"),
        choices=[("", _("Nobody / not joining relatives")), *ReceivingParty.choices],
        required=False,
    )
    receiving_family_relation = forms.ChoiceField(
        label=_("Relation of that family member to the receiving head of household"),
        choices=[("", "—"), *Relation.choices],
        required=False,
    )
    householder_consents = _yes_no(
        _("Has the receiving head of household given written consent?"),
        help_text=_("Only when a family member applies for the household you join."),
    )

    INITIAL = {
        "head_moves": "yes",
        "movers_apply": "yes",
        "guardian_comes": "no",
        "everyone_in_person": "yes",
        "absent_have_power_of_attorney": "no",
        "householder_consents": "no",
    }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", self.INITIAL)
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("head_moves") and cleaned.get("head_age") is None and "head_age" not in self.errors:
            self.add_error(
                "head_age",
                ValidationError(_("Give the age of the head of household, who moves."), code="required"),
            )
        if cleaned.get("head_moves") is False and not cleaned.get("other_mover_ages"):
            self.add_error(
                "other_mover_ages",
                ValidationError(_("Give the ages of the people moving."), code="required"),
            )
        return cleaned

    def answers(self) -> PrecheckAnswers:
        c = self.cleaned_data
        return PrecheckAnswers(
            category=c["category"],
            head_moves=c["head_moves"],
            head_age=c["head_age"] if c["head_moves"] else None,
            other_mover_ages=c["other_mover_ages"],
            staying_ages=c["staying_ages"],
            new_head_age=c["new_head_age"],
            movers_apply=c["movers_apply"],
            guardian_comes=c["guardian_comes"],
            everyone_in_person=c["everyone_in_person"],
            absent_have_power_of_attorney=c["absent_have_power_of_attorney"],
            receiving_party=c["receiving_party"],
            receiving_family_relation=c["receiving_family_relation"],
            householder_consents=c["householder_consents"],
        )


# --- the application ---------------------------------------------------------------------------------------


def police_stations():
    return Office.objects.filter(active=True, kind=Office.Kind.POLICE_STATION).order_by("division_code", "name")


def stations_by_city(stations, *, empty_label):
    """Select choices with one <optgroup> per city, cities in division-code order: the city is the city office
    whose materialised path starts the station's path (two queries in all)."""
    cities = list(Office.objects.filter(kind=Office.Kind.CITY).order_by("division_code"))
    groups = {city.pk: [] for city in cities}
    elsewhere = []
    for station in stations:
        city = next((c for c in cities if station.path.startswith(c.path)), None)
        (groups[city.pk] if city else elsewhere).append((str(station.pk), str(station)))
    choices = [("", empty_label)]
    choices += [(str(city), groups[city.pk]) for city in cities if groups[city.pk]]
    if elsewhere:
        choices.append((str(_("Other police stations")), elsewhere))
    return choices


def _station_field(label, help_text, required_message):
    return forms.ModelChoiceField(
        label=label,
        queryset=Office.objects.none(),
        help_text=help_text,
        error_messages={
            "required": required_message,
            "invalid_choice": _("This police station cannot be chosen; choose one from the list."),
        },
    )


class _StationChoicesMixin:
    """Fills the police-station selects named in `station_fields` at instantiation (not at import)."""

    station_fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.station_fields:
            return
        choices = stations_by_city(police_stations(), empty_label=_("Choose a police station"))
        for name in self.station_fields:
            self.fields[name].queryset = police_stations()
            self.fields[name].choices = choices


def _move_in_station_field():
    return _station_field(
        _("Police station of the place you move to (move-in police station)"),
        _("It accepts your application; the household administration of its city approves the move."),
        _("Choose the police station of the place you move to."),
    )


def _check_move_in_station(office):
    if office is not None:
        municipal_office_required(office)  # a station whose city takes no online moves is refused, with the reason
    return office


def _normal_text(value):
    return " ".join((value or "").split())


def _parse_id(form, field, value):
    """The normalised number, or "" with the parser's specific message on `field`."""
    number = idnumber.normalize(value)
    if not number:
        return ""
    try:
        return idnumber.parse(number).number
    except ValidationError as exc:
        form.add_error(field, exc)
        return ""


class StartForm(_StationChoicesMixin, forms.Form):
    """The first page: the category of the move and the move-in police station. Creates the draft."""

    station_fields = ("office",)

    category = forms.ChoiceField(
        label=_("What kind of move is it?"),
        choices=Category.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the category of your move.")},
    )
    office = _move_in_station_field()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_office(self):
        return _check_move_in_station(self.cleaned_data["office"])

    def clean(self):
        cleaned = super().clean()
        if not self.user.id_number:
            raise ValidationError(
                _(
                    "Your account has no resident ID number, so you cannot apply online. Apply at the counter of the "
                    "police station with your ID card and Household Register Booklet."
                ),
                code="no_id_number",
            )
        return cleaned


DESTINATION_HOUSEHOLD, DESTINATION_COLLECTIVE = "household", "collective"
RELATION_CHOICES = [("", _("Choose")), *Relation.choices]
# The relation of someone to a receiving head of household: anyone but that head.
RECEIVING_RELATION_CHOICES = [choice for choice in RELATION_CHOICES if choice[0] != Relation.HEAD]


class DestinationForm(DraftFormMixin, _StationChoicesMixin, forms.Form):
    """Category and destination: the station, the household or collective household, the receiving householder."""

    station_fields = ("office",)

    category = forms.ChoiceField(
        label=_("What kind of move is it?"),
        choices=Category.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the category of your move.")},
    )
    category_explanation = forms.CharField(
        label=_("Grounds for settlement"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only for “Other settlement grounds”: explain why you settle at the destination."),
    )
    office = _move_in_station_field()
    destination_address = forms.CharField(
        label=_("Address you move to"),
        max_length=255,
        help_text=_("As it will be registered: city, district, street and number, building and flat."),
        error_messages={"required": _("Enter the address you move to.")},
    )
    destination_type = forms.ChoiceField(
        label=_("You move into"),
        choices=[
            (DESTINATION_HOUSEHOLD, _("A family household (your own or a relative's)")),
            (DESTINATION_COLLECTIVE, _("A collective household (of an employer, school or other unit)")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether you move into a family or a collective household.")},
    )
    collective_household_name = forms.CharField(
        label=_("Name of the collective household"),
        required=False,
        max_length=120,
        help_text=_("Only for a collective household, e.g. the employer's or school's name."),
    )
    receiving_householder_name = PersonNameField(
        label=_("Name of the head of the household you join"),
        required=False,
        max_length=60,
        help_text=_("Leave empty if you form a new household of your own."),
    )
    receiving_householder_id_number = forms.CharField(
        label=_("ID number of the head of the household you join"),
        required=False,
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    receiving_relation = forms.ChoiceField(
        label=_("How are the people moving related to that head of household?"),
        required=False,
        choices=RECEIVING_RELATION_CHOICES,
        help_text=_("Needed when joining relatives; for several people, the relation of the first one."),
    )
    receiving_party = forms.ChoiceField(
        label=_("Joining relatives: who applies for the household you join?"),
        required=False,
        choices=ReceivingParty.choices,
        widget=forms.RadioSelect,
        help_text=_("Only when joining relatives."),
    )
    receiving_family_member_name = PersonNameField(
        label=_("Name of the family member who applies"), required=False, max_length=60
    )
    receiving_family_member_id_number = forms.CharField(
        label=_("ID number of the family member who applies"),
        required=False,
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    receiving_family_member_relation = forms.ChoiceField(
        label=_("Their relation to the head of the household you join"),
        required=False,
        choices=RECEIVING_RELATION_CHOICES,
        help_text=_("Only a spouse, parent or child may apply in the head of household's place, with written consent."),
    )
    receiving_present = forms.BooleanField(
        label=_("The person applying for the household you join comes to the police station in person"),
        required=False,
        initial=True,
        help_text=_("If not, you upload their power of attorney in a later step."),
    )

    def __init__(self, *args, lock_office=False, **kwargs):
        super().__init__(*args, **kwargs)
        if lock_office:
            self.fields["office"].disabled = True
            self.fields["office"].help_text = _("The police station cannot be changed after submission.")

    def clean_office(self):
        office = self.cleaned_data["office"]
        return office if self.fields["office"].disabled else _check_move_in_station(office)

    def clean(self):
        cleaned = super().clean()
        for name in (
            "destination_address",
            "collective_household_name",
            "receiving_householder_name",
            "receiving_family_member_name",
        ):
            if name in cleaned:
                cleaned[name] = _normal_text(cleaned[name])
        if "category_explanation" in cleaned:
            cleaned["category_explanation"] = cleaned["category_explanation"].strip()  # keeps its line breaks
        category = cleaned.get("category")
        collective = cleaned.get("destination_type") == DESTINATION_COLLECTIVE
        joining = category == Category.JOIN_RELATIVES

        if category == Category.OTHER and not cleaned.get("category_explanation"):
            self.add_error(
                "category_explanation",
                ValidationError(_("Explain the grounds on which you settle at the destination."), code="required"),
            )
        if category == Category.COLLECTIVE and cleaned.get("destination_type") == DESTINATION_HOUSEHOLD:
            self.add_error(
                "destination_type",
                ValidationError(
                    _("A move into a collective household goes to a collective household: choose it here."),
                    code="category_mismatch",
                ),
            )
        if joining and collective:
            self.add_error(
                "destination_type",
                ValidationError(
                    _("When joining relatives you move into their family household, not a collective household."),
                    code="category_mismatch",
                ),
            )
        if collective and not cleaned.get("collective_household_name"):
            self.add_error(
                "collective_household_name",
                ValidationError(_("Enter the name of the collective household you move into."), code="required"),
            )

        # The receiving head of household: name and number together, the number checked.
        number = _parse_id(self, "receiving_householder_id_number", cleaned.get("receiving_householder_id_number"))
        cleaned["receiving_householder_id_number"] = number
        name = cleaned.get("receiving_householder_name", "")
        if number and not name:
            self.add_error(
                "receiving_householder_name",
                ValidationError(_("Enter the name of the head of the household you join."), code="required"),
            )
        if name and not number and "receiving_householder_id_number" not in self.errors:
            self.add_error(
                "receiving_householder_id_number",
                ValidationError(_("Enter the ID number of the head of the household you join."), code="required"),
            )
        if joining:
            if not name and "receiving_householder_name" not in self.errors:
                self.add_error(
                    "receiving_householder_name",
                    ValidationError(
                        _("When joining relatives, give the name of the head of the household you join."),
                        code="required",
                    ),
                )
            if not cleaned.get("receiving_relation"):
                self.add_error(
                    "receiving_relation",
                    ValidationError(
                        _("Give how the people moving are related to the head of the household you join."),
                        code="required",
                    ),
                )
            self._clean_receiving_party(cleaned)
        if collective:
            cleaned.update(receiving_householder_name="", receiving_householder_id_number="", receiving_relation="")
        else:
            cleaned["collective_household_name"] = ""
        if not joining:
            # Answers that no longer apply are not kept (a receiving party after switching away from joining relatives).
            cleaned.update(
                receiving_party="",
                receiving_family_member_name="",
                receiving_family_member_id_number="",
                receiving_family_member_relation="",
                receiving_present=True,
            )
        if category != Category.OTHER:
            cleaned["category_explanation"] = ""
        return cleaned

    def _clean_receiving_party(self, cleaned):
        party = cleaned.get("receiving_party")
        if not party:
            self.add_error(
                "receiving_party",
                ValidationError(_("Choose who applies for the household you join."), code="required"),
            )
        if party != ReceivingParty.FAMILY_MEMBER:
            cleaned.update(
                receiving_family_member_name="",
                receiving_family_member_id_number="",
                receiving_family_member_relation="",
            )
            return
        number = _parse_id(self, "receiving_family_member_id_number", cleaned.get("receiving_family_member_id_number"))
        cleaned["receiving_family_member_id_number"] = number
        if not cleaned.get("receiving_family_member_name"):
            self.add_error(
                "receiving_family_member_name",
                ValidationError(_("Enter the name of the family member who applies."), code="required"),
            )
        if not number and "receiving_family_member_id_number" not in self.errors:
            self.add_error(
                "receiving_family_member_id_number",
                ValidationError(_("Enter the ID number of the family member who applies."), code="required"),
            )
        if not cleaned.get("receiving_family_member_relation"):
            self.add_error(
                "receiving_family_member_relation",
                ValidationError(
                    _("Give the family member's relation to the head of the household you join."), code="required"
                ),
            )

    def answers(self) -> dict:
        """The cleaned answers as MigrationApplication fields (for drafts.hukou_save_answers)."""
        c = self.cleaned_data
        # An answer missing from a draft was left empty (only "required" errors are let through): it is saved empty.
        fields = {
            name: c.get(name) or ""
            for name in (
                "category_explanation",
                "destination_address",
                "collective_household_name",
                "receiving_householder_name",
                "receiving_householder_id_number",
                "receiving_relation",
                "receiving_party",
                "receiving_family_member_name",
                "receiving_family_member_id_number",
                "receiving_family_member_relation",
            )
        }
        if c.get("category"):
            fields["category"] = c["category"]
        if c.get("destination_type"):
            fields["destination_collective"] = c["destination_type"] == DESTINATION_COLLECTIVE
        fields["receiving_present"] = c.get("receiving_present", True)
        if c.get("office") is not None and not self.fields["office"].disabled:
            fields["office"] = c["office"]
        return fields


class _PersonRowForm(DraftFormMixin, forms.Form):
    """One person of a household booklet. A row with nothing typed is blank and ignored."""

    name = PersonNameField(label=_("Name"), required=False, max_length=60)
    id_number = forms.CharField(
        label=_("Resident ID number"),
        required=False,
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )
    relation = forms.ChoiceField(label=_("Relation to the head of household"), required=False, choices=RELATION_CHOICES)

    typed_fields = ("name", "id_number", "relation")

    @property
    def is_blank(self):
        data = getattr(self, "cleaned_data", None) or {}
        return all(not data.get(name) for name in self.typed_fields)

    def derived(self, on: datetime.date):
        """What the typed ID number tells (sex, date of birth, age on `on`), or None."""
        value = self["id_number"].value() if self.is_bound else self.initial.get("id_number")
        try:
            info = idnumber.parse(value or "")
        except ValidationError:
            return None
        return {"sex": info.sex, "birth_date": info.birth_date, "age": idnumber.age_on(info.birth_date, on)}

    def _clean_person(self, cleaned):
        cleaned["name"] = _normal_text(cleaned.get("name"))
        if self.is_blank:
            return cleaned
        if not cleaned["name"]:
            self.add_error(
                "name",
                ValidationError(
                    _("Enter the name as written in the household booklet, or clear the whole row."), code="name"
                ),
            )
        cleaned["id_number"] = _parse_id(self, "id_number", cleaned.get("id_number"))
        if not cleaned.get("relation"):
            self.add_error(
                "relation", ValidationError(_("Choose the relation to the head of household."), code="required")
            )
        return cleaned


class MoverForm(_PersonRowForm):
    is_applicant = forms.BooleanField(
        label=_("Applies for the move"),
        required=False,
        help_text=_("Everyone moving aged 16 or over normally applies; a whole household's head always does."),
    )
    present = forms.BooleanField(
        label=_("Comes to the police station in person"),
        required=False,
        initial=True,
        help_text=_("If not, you upload their power of attorney in a later step."),
    )
    guardian_present = forms.BooleanField(
        label=_("Under 16: a guardian from the household they leave applies with them"), required=False
    )
    guardian_name = PersonNameField(label=_("Guardian's name"), required=False, max_length=60)

    typed_fields = ("name", "id_number", "relation", "guardian_name")

    def clean(self):
        cleaned = self._clean_person(super().clean())
        if self.is_blank:
            return cleaned
        if not cleaned.get("id_number") and "id_number" not in self.errors:
            self.add_error(
                "id_number",
                ValidationError(
                    _("Enter the resident ID number as written in the household booklet; the age is read from it."),
                    code="id_number",
                ),
            )
        cleaned["guardian_name"] = _normal_text(cleaned.get("guardian_name"))
        info = self.derived(timezone.localdate()) if cleaned.get("id_number") else None
        if info and info["age"] >= ADULT_AGE:
            cleaned.update(guardian_present=False, guardian_name="")  # a guardian only for those under 16
        elif cleaned.get("guardian_present") and not cleaned["guardian_name"]:
            self.add_error(
                "guardian_name",
                ValidationError(_("Enter the name of the guardian who applies with them."), code="required"),
            )
        return cleaned

    def row(self) -> dict:
        c = self.cleaned_data
        return {
            "name": c["name"],
            "id_number": c["id_number"],
            "relation": c.get("relation", ""),
            "is_applicant": c.get("is_applicant", False),
            "present": c.get("present", False),
            "guardian_present": c.get("guardian_present", False),
            "guardian_name": c.get("guardian_name", "") if c.get("guardian_present") else "",
        }


class StayingForm(_PersonRowForm):
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Only for a child without an ID number; otherwise it is read from the number."),
        error_messages={"invalid": _("Enter the date as YYYY-MM-DD.")},
    )
    is_new_head = forms.BooleanField(
        label=_("Becomes the new head of household"),
        required=False,
        help_text=_("Only if the head of household moves out: one person staying, aged 16 or over."),
    )
    id_number = forms.CharField(
        label=_("Resident ID number"),
        required=False,
        max_length=24,
        help_text=_("Leave empty only for a child who has none yet, and give the date of birth."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )

    typed_fields = ("name", "id_number", "relation", "birth_date")
    field_order = ("name", "id_number", "birth_date", "relation", "is_new_head")

    def clean(self):
        cleaned = self._clean_person(super().clean())
        if self.is_blank:
            return cleaned
        born = cleaned.get("birth_date")
        if born and born > timezone.localdate():
            self.add_error("birth_date", ValidationError(_("The date of birth is in the future."), code="future"))
        if cleaned.get("id_number"):
            parsed = idnumber.parse(cleaned["id_number"]).birth_date
            if born and born != parsed:
                self.add_error(
                    "birth_date",
                    ValidationError(
                        _("The ID number gives %(date)s as the date of birth; leave this field empty or correct it."),
                        code="mismatch",
                        params={"date": parsed.isoformat()},
                    ),
                )
            cleaned["birth_date"] = parsed
        elif not born and "id_number" not in self.errors and "birth_date" not in self.errors:
            self.add_error(
                "birth_date",
                ValidationError(_("Give the ID number or, for a child without one, the date of birth."), code="born"),
            )
        return cleaned

    def row(self) -> dict:
        c = self.cleaned_data
        return {
            "name": c["name"],
            "id_number": c.get("id_number", ""),
            "birth_date": c.get("birth_date"),
            "relation": c.get("relation", ""),
            "is_new_head": c.get("is_new_head", False),
        }


class _PeopleFormSet(forms.BaseFormSet):
    """Rows of people; blank and removed rows are left out, every other row must be right."""

    def __init__(self, *args, draft=False, **kwargs):
        self.draft = draft
        # Every row is validated (not only changed ones): a pre-filled row the citizen left as it was still counts.
        kwargs["form_kwargs"] = {**kwargs.get("form_kwargs", {}), "draft": draft, "empty_permitted": False}
        super().__init__(*args, **kwargs)

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove this person from the list")

    def kept_forms(self):
        return [f for f in self.forms if not (self.can_delete and self._should_delete_form(f)) and not f.is_blank]

    def rows(self) -> list[dict]:
        return [form.row() for form in self.kept_forms()]

    def _check_duplicates(self):
        seen = {}
        for position, form in enumerate(self.kept_forms(), start=1):
            number = form.cleaned_data.get("id_number")
            if not number:
                continue
            if number in seen:
                form.add_error(
                    "id_number",
                    ValidationError(
                        _("This ID number is already given for %(name)s."),
                        code="duplicate",
                        params={"name": seen[number]},
                    ),
                )
            else:
                seen[number] = form.cleaned_data.get("name") or position


def people_formset(form_class, formset_class, *, extra):
    return forms.formset_factory(
        form_class,
        formset=formset_class,
        extra=extra,
        can_delete=True,
        can_delete_extra=False,
        max_num=MAX_PEOPLE,
        validate_max=True,
        absolute_max=MAX_PEOPLE,
    )


class MoverFormSet(_PeopleFormSet):
    def clean(self):
        self._check_duplicates()
        heads = [f for f in self.kept_forms() if f.cleaned_data.get("relation") == Relation.HEAD]
        for form in heads[1:]:
            form.add_error(
                "relation",
                ValidationError(
                    _("Only one person is the head of household; %(name)s is already."),
                    code="two_heads",
                    params={"name": heads[0].cleaned_data["name"]},
                ),
            )
        if not self.kept_forms() and not self.draft:
            raise ValidationError(
                _("Add the people who are moving, as written in the household booklet."), code="required"
            )


class StayingFormSet(_PeopleFormSet):
    def __init__(self, *args, moving_numbers=(), head_moves=False, **kwargs):
        self.moving_numbers = set(moving_numbers)
        self.head_moves = head_moves
        super().__init__(*args, **kwargs)

    def clean(self):
        self._check_duplicates()
        new_heads = []
        for form in self.kept_forms():
            if form.cleaned_data.get("id_number") in self.moving_numbers:
                form.add_error(
                    "id_number",
                    ValidationError(
                        _("This person is among the people moving: list here only those who stay."), code="moving"
                    ),
                )
            if form.cleaned_data.get("is_new_head"):
                new_heads.append(form)
                if form.cleaned_data.get("relation") == Relation.HEAD:
                    form.add_error(
                        "relation",
                        ValidationError(
                            _("The head of household stays, so no new head is needed: untick “new head”."),
                            code="head_stays",
                        ),
                    )
        if new_heads and not self.head_moves:
            new_heads[0].add_error(
                "is_new_head",
                ValidationError(
                    _("A new head of household is named only when the head of household moves out."),
                    code="new_head_not_needed",
                ),
            )
        for form in new_heads[1:]:
            form.add_error(
                "is_new_head", ValidationError(_("Name only one new head of household."), code="new_head_ambiguous")
            )


class OriginForm(DraftFormMixin, _StationChoicesMixin, forms.Form):
    """The household the people leave: its address, police station and head."""

    station_fields = ("origin_office",)

    origin_address = forms.CharField(
        label=_("Address of the household you leave"),
        max_length=255,
        help_text=_("As in the Household Register Booklet."),
        error_messages={"required": _("Enter the address of the household you leave.")},
    )
    origin_office = _station_field(
        _("Police station of the household you leave (move-out police station)"),
        _("It registers the move-out. It may be in another city; if it is outside Henan, apply at the counter."),
        _("Choose the police station of the household you leave."),
    )
    origin_head_name = PersonNameField(
        label=_("Head of the household you leave"),
        max_length=60,
        help_text=_("The head of household written on the booklet's first page, even if they move too."),
        error_messages={"required": _("Enter the name of the head of the household you leave.")},
    )
    origin_head_id_number = forms.CharField(
        label=_("ID number of the head of the household you leave"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Enter the ID number of the head of the household you leave.")},
    )

    def __init__(self, *args, moving_head=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.moving_head = moving_head

    def clean_origin_head_name(self):
        return _normal_text(self.cleaned_data["origin_head_name"])

    def clean_origin_address(self):
        return _normal_text(self.cleaned_data["origin_address"])

    def clean(self):
        cleaned = super().clean()
        number = _parse_id(self, "origin_head_id_number", cleaned.get("origin_head_id_number"))
        cleaned["origin_head_id_number"] = number
        head = self.moving_head
        if head is not None and number and number != head.id_number:
            self.add_error(
                "origin_head_id_number",
                ValidationError(
                    _(
                        "%(name)s moves as the head of household, so they are the head of the household you leave; "
                        "give their ID number here, or correct the people moving."
                    ),
                    code="head_mismatch",
                    params={"name": head.name},
                ),
            )
        return cleaned

    def answers(self) -> dict:
        c = self.cleaned_data
        fields = {name: c.get(name) or "" for name in ("origin_address", "origin_head_name", "origin_head_id_number")}
        fields["origin_office"] = c.get("origin_office")
        return fields


class AuthorisationsForm(DraftFormMixin, PrivateUploadFormMixin, forms.Form):
    """A power of attorney for each absent party, and the receiving householder's consent when a family member applies.

    Built from the answers so far; a document already uploaded is kept unless replaced.
    """

    def __init__(self, *args, absent_movers=(), receiving_absent=False, consent_needed=False, current=None, **kwargs):
        current = current or {}
        kwargs.setdefault("initial", {name: doc for name, doc in current.items() if doc is not None})
        super().__init__(*args, **kwargs)
        for mover in absent_movers:
            self._add(
                f"mover_{mover.pk}",
                _("Power of attorney of %(name)s") % {"name": mover.name},
                _("Signed by %(name)s, who does not come in person.") % {"name": mover.name},
                _("Upload the power of attorney of %(name)s, who does not come in person.") % {"name": mover.name},
                DocumentKind.POWER_OF_ATTORNEY,
            )
        if receiving_absent:
            self._add(
                "receiving_power_of_attorney",
                _("Power of attorney of the person applying for the household you join"),
                _("They do not come in person, so they hand over their papers with a signed power of attorney."),
                _("Upload the power of attorney of the person applying for the household you join."),
                DocumentKind.POWER_OF_ATTORNEY,
            )
        if consent_needed:
            self._add(
                "householder_consent",
                DocumentKind.HOUSEHOLDER_CONSENT.label,
                _("Signed by the head of the household you join, agreeing that the family member applies for them."),
                _("Upload the written consent of the head of the household you join."),
                DocumentKind.HOUSEHOLDER_CONSENT,
            )

    def _add(self, name, label, help_text, required_message, kind):
        field = PrivateFileField(
            label=label,
            help_text=help_text,
            rules=ID_DOCUMENT_RULES,
            kind=kind,
            error_messages={"required": required_message},
        )
        field.owner = self.owner
        self.fields[name] = field

    def mover_documents(self) -> dict:
        return {
            int(name.removeprefix("mover_")): document
            for name, document in self.cleaned_data.items()
            if name.startswith("mover_")
        }


UPLOAD_LABELS = {
    DocumentKind.ID_CARD: _("Add an ID card"),
    DocumentKind.BOOKLET: _("Add a booklet page"),
    DocumentKind.EVIDENCE: _("Add a document for your category"),
}
UPLOAD_HELP = {
    DocumentKind.ID_CARD: _(
        "Front and back of the ID card of each person moving who has one (one file each side, or a PDF with both): "
        "JPEG, PNG or PDF, at most 10 MB."
    ),
    DocumentKind.BOOKLET: _(
        "The booklet's first page (with the head of household) and the page of each person moving: JPEG, PNG or PDF, "
        "at most 10 MB."
    ),
    DocumentKind.EVIDENCE: _("The materials listed above for your category: JPEG, PNG or PDF, at most 10 MB."),
}
UPLOAD_REQUIRED = {
    DocumentKind.ID_CARD: _("Upload the ID cards of the people moving."),
    DocumentKind.BOOKLET: _("Upload the pages of the Household Register Booklet."),
    DocumentKind.EVIDENCE: _("Upload the materials for your category of move."),
}


class DocumentsForm(DraftFormMixin, PrivateUploadFormMixin, forms.Form):
    """One new file of each kind per submission (each adds to those uploaded); in a draft, files can be removed."""

    remove = forms.MultipleChoiceField(
        label=_("Remove files"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick the files uploaded by mistake; they are deleted when you save."),
    )

    def __init__(self, *args, current=None, allow_remove=True, **kwargs):
        self.current = current or {}  # kind -> list of attached documents
        super().__init__(*args, **kwargs)
        for kind in UPLOAD_KINDS:
            field = PrivateFileField(
                label=UPLOAD_LABELS[kind],
                help_text=UPLOAD_HELP[kind],
                rules=ID_DOCUMENT_RULES,
                kind=kind,
                required=False,
            )
            field.owner = self.owner
            self.fields[kind] = field
        existing = [d for kind in UPLOAD_KINDS for d in self.current.get(kind, ())]
        if allow_remove and existing:
            self.fields["remove"].choices = [(str(d.public_id), d.original_name or d.kind) for d in existing]
            # Removal comes last, after the uploads.
            self.fields["remove"] = self.fields.pop("remove")
        else:
            del self.fields["remove"]

    def removed(self) -> list:
        chosen = set(self.cleaned_data.get("remove") or ())
        return [d for kind in UPLOAD_KINDS for d in self.current.get(kind, ()) if str(d.public_id) in chosen]

    def clean(self):
        cleaned = super().clean()
        removed = {d.pk for d in self.removed()} if "remove" in self.fields else set()
        for kind in UPLOAD_KINDS:
            if kind in self.errors:
                continue
            left = [d for d in self.current.get(kind, ()) if d.pk not in removed]
            new = 1 if cleaned.get(kind) is not None else 0
            if not left and not new:
                self.add_error(kind, ValidationError(UPLOAD_REQUIRED[kind], code="required"))
            elif len(left) + new > MAX_FILES_PER_KIND:
                self.add_error(
                    kind,
                    ValidationError(
                        _("At most %(max)d files of this kind; remove one first."),
                        code="too_many",
                        params={"max": MAX_FILES_PER_KIND},
                    ),
                )
        return cleaned

    def uploads(self) -> list:
        return [self.cleaned_data[kind] for kind in UPLOAD_KINDS if self.cleaned_data.get(kind) is not None]


DECLARATION = _(
    "I declare that the information I have given is true and complete, that the people named agree to the move, and "
    "that the uploaded documents are genuine. I know that false information may lead to refusal and to legal "
    "consequences."
)


class SubmitForm(forms.Form):
    declaration = forms.BooleanField(
        label=DECLARATION,
        error_messages={"required": _("Tick the declaration to confirm that the information is true.")},
    )


class ReplyForm(forms.Form):
    """The answer to a request for more information; sending it restarts the office's clock."""

    reply = forms.CharField(
        label=_("Your answer"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Say what you changed or added. At most 2000 characters."),
        error_messages={"required": _("Answer the request: say what you changed or added.")},
    )
    declaration = forms.BooleanField(
        label=DECLARATION,
        error_messages={"required": _("Tick the declaration to confirm that the information is true.")},
    )

    def clean_reply(self):
        return self.cleaned_data["reply"].strip()
