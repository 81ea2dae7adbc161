"""The people of the household booklet: those who move and those who stay, as formsets of one row per person."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from accounts.forms import PersonNameField
from portal.forms import DraftFormMixin

from ..constants import ADULT_AGE, MAX_PEOPLE, Relation
from ..models import Mover, OriginMember
from .fields import RELATION_CHOICES, AnswersForm, IdNumberAsTypedField, formfield_with, normal_text, parse_id

# The resident ID number of a person in a row (on a phone, typed in capitals for the final X).
PERSON_ID_WIDGET = forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"})


class _PersonRowForm(DraftFormMixin, AnswersForm):
    """One person of a household booklet. A row with nothing typed is blank and ignored."""

    class Meta:
        field_classes = {"name": PersonNameField, "id_number": IdNumberAsTypedField}
        # Nothing is required of a field, since a row may be left blank; clean() asks what a row that is not needs.
        formfield_callback = formfield_with(
            {
                "name": {"required": False},
                "id_number": {"required": False},
                "relation": {"required": False, "choices": RELATION_CHOICES},
            }
        )
        labels = {
            "name": _("Name"),
            "id_number": _("Resident ID number"),
            "relation": _("Relation to the head of household"),
        }
        widgets = {"id_number": PERSON_ID_WIDGET}

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
        cleaned["name"] = normal_text(cleaned.get("name"))
        if self.is_blank:
            return cleaned
        if not cleaned["name"]:
            self.add_error(
                "name",
                ValidationError(
                    _("Enter the name as written in the household booklet, or clear the whole row."), code="name"
                ),
            )
        cleaned["id_number"] = parse_id(self, "id_number", cleaned.get("id_number"))
        if not cleaned.get("relation"):
            self.add_required_error("relation", _("Choose the relation to the head of household."))
        return cleaned


class MoverForm(_PersonRowForm):
    class Meta(_PersonRowForm.Meta):
        model = Mover
        fields = Mover.ANSWERS
        field_classes = {**_PersonRowForm.Meta.field_classes, "guardian_name": PersonNameField}
        labels = {
            **_PersonRowForm.Meta.labels,
            "is_applicant": _("Applies for the move"),
            "present": _("Comes to the police station in person"),
            "guardian_present": _("Under 16: a guardian from the household they leave applies with them"),
            "guardian_name": _("Guardian's name"),
        }
        help_texts = {
            "is_applicant": _(
                "Everyone moving aged 16 or over normally applies; a whole household's head always does."
            ),
            "present": _("If not, you upload their power of attorney in a later step."),
            "guardian_present": "",
        }

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
        cleaned["guardian_name"] = normal_text(cleaned.get("guardian_name"))
        info = self.derived(timezone.localdate()) if cleaned.get("id_number") else None
        if info and info["age"] >= ADULT_AGE:
            cleaned.update(guardian_present=False, guardian_name="")  # a guardian only for those under 16
        elif cleaned.get("guardian_present") and not cleaned["guardian_name"]:
            self.add_required_error("guardian_name", _("Enter the name of the guardian who applies with them."))
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
    class Meta(_PersonRowForm.Meta):
        model = OriginMember
        fields = OriginMember.ANSWERS
        labels = {
            **_PersonRowForm.Meta.labels,
            "birth_date": _("Date of birth"),
            "is_new_head": _("Becomes the new head of household"),
        }
        help_texts = {
            "id_number": _("Leave empty only for a child who has none yet, and give the date of birth."),
            "birth_date": _("Only for a child without an ID number; otherwise it is read from the number."),
            "is_new_head": _("Only if the head of household moves out: one person staying, aged 16 or over."),
        }
        widgets = {
            **_PersonRowForm.Meta.widgets,
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        error_messages = {"birth_date": {"invalid": _("Enter the date as YYYY-MM-DD.")}}

    typed_fields = ("name", "id_number", "relation", "birth_date")

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


def people_initial(form_class, people) -> list[dict]:
    """The saved people as the initial rows of a formset of `form_class`."""
    return [forms.model_to_dict(person, fields=form_class._meta.fields) for person in people]


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
