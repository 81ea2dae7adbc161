"""Fields and helpers the hukou forms share: yes/no questions, lists of ages, the police-station pickers, names and
ID numbers as typed."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from accounts.models import Office
from accounts.officepicker import OfficePickerField, OfficePickerFormMixin
from portal.formmessages import radio_choice

from ..constants import Category, Grounds, Relation
from ..drafts import municipal_office_required

MAX_AGE = 130
YES_NO = [("yes", _("Yes")), ("no", _("No"))]
ID_NUMBER_AS_TYPED = 24  # 18 characters, with room for the spaces a citizen may type


class AnswersForm(forms.ModelForm):
    """A form of the citizen's answers, built on the model: the model declares each answer once (its kind, length
    and choices), the form's Meta adds only what the citizen reads (label, help text, widget, messages) and, through
    `formfield_with`, what the form asks differently from a draft (an answer it requires, a longer text, fewer
    choices).

    The form never saves: hukou.drafts writes the answers (`answers()`, `row()`) with its guarded UPDATE. So the
    model's own validation is not run here either; the clean methods give every message the citizen reads.
    """

    def _post_clean(self):
        pass

    def add_required_error(self, field, message):
        """An answer the other answers make required is missing: the error's code is "required", which a draft lets
        through (portal.forms.DraftFormMixin), so the answer is saved empty."""
        self.add_error(field, ValidationError(message, code="required"))


def formfield_with(overrides: dict):
    """A Meta.formfield_callback: each model field's form field, with the formfield() arguments in
    `overrides[name]`."""

    def formfield(model_field, **kwargs):
        return model_field.formfield(**{**kwargs, **overrides.get(model_field.name, {})})

    return formfield


def category_field():
    return radio_choice(
        _("Who moves?"),
        Category.choices,
        _("Choose who moves."),
        help_text=_("A whole household: everyone in the booklet moves, nobody stays behind."),
    )


def grounds_field(choices=None, required=True):
    return radio_choice(
        _("On what grounds do you settle at the destination?"),
        choices or Grounds.choices,
        _("Choose the grounds on which you settle at the destination."),
        required=required,
    )


class IdNumberAsTypedField(forms.CharField):
    """A resident ID number as the citizen types it (the model keeps the 18 characters): the form's clean() reads it
    with parse_id, which gives the specific message."""

    widget = forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})

    def __init__(self, **kwargs):
        kwargs["max_length"] = ID_NUMBER_AS_TYPED
        super().__init__(**kwargs)


def yes_no(label, help_text="", required_message=None):
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


def police_stations():
    return Office.objects.filter(active=True, kind=Office.Kind.POLICE_STATION).order_by("division_code", "name")


def station_field(label, help_text, required_message):
    """A police station, chosen by city, district or part of its name (accounts.officepicker)."""
    return OfficePickerField(
        label=label,
        queryset=Office.objects.none(),
        empty_label=_("Choose a police station"),
        help_text=help_text,
        error_messages={
            "required": required_message,
            "invalid_choice": _("This police station cannot be chosen; choose one from the list."),
        },
    )


class StationChoicesMixin(OfficePickerFormMixin):
    """Gives the police-station pickers named in `station_fields` the active stations at instantiation (not at
    import); "Find" without JavaScript narrows them and keeps the page as typed (OfficePickerFormMixin)."""

    station_fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.station_fields:
            self.fields[name].queryset = police_stations()


def move_in_station_field():
    return station_field(
        _("Police station of the place you move to (move-in police station)"),
        _("It accepts your application; the household administration of its city approves the move."),
        _("Choose the police station of the place you move to."),
    )


def check_move_in_station(office):
    if office is not None:
        municipal_office_required(office)  # a station whose city takes no online moves is refused, with the reason
    return office


def normal_text(value):
    return " ".join((value or "").split())


def parse_id(form, field, value):
    """The normalised number, or "" with the parser's specific message on `field`."""
    number = idnumber.normalize(value)
    if not number:
        return ""
    try:
        return idnumber.parse(number).number
    except ValidationError as exc:
        form.add_error(field, exc)
        return ""


RELATION_CHOICES = [("", _("Choose")), *Relation.choices]
# The relation of someone to a receiving head of household: anyone but that head.
RECEIVING_RELATION_CHOICES = [choice for choice in RELATION_CHOICES if choice[0] != Relation.HEAD]
