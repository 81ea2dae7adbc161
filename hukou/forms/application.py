"""The application's own answers, as ModelForms on MigrationApplication: the first page (category and move-in
station), the destination, and the household left."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.forms import PersonNameField
from portal.forms import DraftFormMixin

from ..constants import Category, ReceivingParty
from ..models import MigrationApplication
from .fields import (
    RECEIVING_RELATION_CHOICES,
    AnswersForm,
    IdNumberAsTypedField,
    StationChoicesMixin,
    category_field,
    check_move_in_station,
    formfield_with,
    move_in_station_field,
    normal_text,
    parse_id,
    station_field,
)


class StartForm(StationChoicesMixin, AnswersForm):
    """The first page: the category of the move and the move-in police station. Creates the draft."""

    station_fields = ("office",)

    category = category_field()
    office = move_in_station_field()

    class Meta:
        model = MigrationApplication
        fields = ("category", "office")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_office(self):
        return check_move_in_station(self.cleaned_data["office"])

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


class DestinationForm(DraftFormMixin, StationChoicesMixin, AnswersForm):
    """Category and destination: the station, the household or collective household, the receiving householder."""

    station_fields = ("office",)

    category = category_field()
    office = move_in_station_field()
    # MigrationApplication.destination_collective, as the citizen answers it (unanswered until an address is given).
    destination_type = forms.ChoiceField(
        label=_("You move into"),
        choices=[
            (DESTINATION_HOUSEHOLD, _("A family household (your own or a relative's)")),
            (DESTINATION_COLLECTIVE, _("A collective household (of an employer, school or other unit)")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether you move into a family or a collective household.")},
    )

    class Meta:
        model = MigrationApplication
        # destination_collective as the citizen answers it: destination_type, in its place.
        fields = tuple(
            "destination_type" if name == "destination_collective" else name
            for name in MigrationApplication.DESTINATION_ANSWERS
        )
        field_classes = {
            "receiving_householder_name": PersonNameField,
            "receiving_householder_id_number": IdNumberAsTypedField,
            "receiving_family_member_name": PersonNameField,
            "receiving_family_member_id_number": IdNumberAsTypedField,
        }
        formfield_callback = formfield_with(
            {
                "category_explanation": {"max_length": 1000},
                "destination_address": {"required": True},
                "receiving_relation": {"choices": RECEIVING_RELATION_CHOICES},
                "receiving_party": {"choices": ReceivingParty.choices},
                "receiving_family_member_relation": {"choices": RECEIVING_RELATION_CHOICES},
            }
        )
        labels = {
            "category_explanation": _("Grounds for settlement"),
            "destination_address": _("Address you move to"),
            "collective_household_name": _("Name of the collective household"),
            "receiving_householder_name": _("Name of the head of the household you join"),
            "receiving_householder_id_number": _("ID number of the head of the household you join"),
            "receiving_relation": _("How are the people moving related to that head of household?"),
            "receiving_party": _("Joining relatives: who applies for the household you join?"),
            "receiving_family_member_name": _("Name of the family member who applies"),
            "receiving_family_member_id_number": _("ID number of the family member who applies"),
            "receiving_family_member_relation": _("Their relation to the head of the household you join"),
            "receiving_present": _(
                "The person applying for the household you join comes to the police station in person"
            ),
        }
        help_texts = {
            "category_explanation": _(
                "Only for “Other settlement grounds”: explain why you settle at the destination."
            ),
            "destination_address": _("As it will be registered: city, district, street and number, building and flat."),
            "collective_household_name": _("Only for a collective household, e.g. the employer's or school's name."),
            "receiving_householder_name": _("Leave empty if you form a new household of your own."),
            "receiving_relation": _(
                "Needed when joining relatives; for several people, the relation of the first one."
            ),
            "receiving_party": _("Only when joining relatives."),
            "receiving_family_member_relation": _(
                "Only a spouse, parent or child may apply in the head of household's place, with written consent."
            ),
            "receiving_present": _("If not, you upload their power of attorney in a later step."),
        }
        widgets = {
            "category_explanation": forms.Textarea(attrs={"rows": 3}),
            "receiving_party": forms.RadioSelect,
        }
        error_messages = {"destination_address": {"required": _("Enter the address you move to.")}}

    def __init__(self, *args, lock_office=False, **kwargs):
        super().__init__(*args, **kwargs)
        if "destination_type" not in self.initial:
            a = self.instance
            self.initial["destination_type"] = (
                DESTINATION_COLLECTIVE
                if a.destination_collective
                else DESTINATION_HOUSEHOLD
                if a.destination_address
                else None
            )
        if lock_office:
            self.fields["office"].disabled = True
            self.fields["office"].help_text = _("The police station cannot be changed after submission.")

    def clean_office(self):
        office = self.cleaned_data["office"]
        return office if self.fields["office"].disabled else check_move_in_station(office)

    def clean(self):
        cleaned = super().clean()
        for name in (
            "destination_address",
            "collective_household_name",
            "receiving_householder_name",
            "receiving_family_member_name",
        ):
            if name in cleaned:
                cleaned[name] = normal_text(cleaned[name])
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
        number = parse_id(self, "receiving_householder_id_number", cleaned.get("receiving_householder_id_number"))
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
        number = parse_id(self, "receiving_family_member_id_number", cleaned.get("receiving_family_member_id_number"))
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
            for name in self._meta.fields
            if name not in ("category", "office", "destination_type", "receiving_present")
        }
        if c.get("category"):
            fields["category"] = c["category"]
        if c.get("destination_type"):
            fields["destination_collective"] = c["destination_type"] == DESTINATION_COLLECTIVE
        fields["receiving_present"] = c.get("receiving_present", True)
        if c.get("office") is not None and not self.fields["office"].disabled:
            fields["office"] = c["office"]
        return fields


class OriginForm(DraftFormMixin, StationChoicesMixin, AnswersForm):
    """The household the people leave: its address, police station and head."""

    station_fields = ("origin_office",)

    origin_office = station_field(
        _("Police station of the household you leave (move-out police station)"),
        _("It registers the move-out. It may be in another city; if it is outside Henan, apply at the counter."),
        _("Choose the police station of the household you leave."),
    )

    class Meta:
        model = MigrationApplication
        fields = MigrationApplication.ORIGIN_ANSWERS
        field_classes = {"origin_head_name": PersonNameField, "origin_head_id_number": IdNumberAsTypedField}
        formfield_callback = formfield_with(
            {
                "origin_address": {"required": True},
                "origin_head_name": {"required": True},
                "origin_head_id_number": {"required": True},
            }
        )
        labels = {
            "origin_address": _("Address of the household you leave"),
            "origin_head_name": _("Head of the household you leave"),
            "origin_head_id_number": _("ID number of the head of the household you leave"),
        }
        help_texts = {
            "origin_address": _("As in the Household Register Booklet."),
            "origin_head_name": _("The head of household written on the booklet's first page, even if they move too."),
        }
        error_messages = {
            "origin_address": {"required": _("Enter the address of the household you leave.")},
            "origin_head_name": {"required": _("Enter the name of the head of the household you leave.")},
            "origin_head_id_number": {"required": _("Enter the ID number of the head of the household you leave.")},
        }

    def __init__(self, *args, moving_head=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.moving_head = moving_head
        if moving_head is not None:
            # The head who moves is the head of the household left, until the citizen says otherwise.
            self.initial["origin_head_name"] = self.initial.get("origin_head_name") or moving_head.name
            self.initial["origin_head_id_number"] = self.initial.get("origin_head_id_number") or moving_head.id_number

    def clean_origin_head_name(self):
        return normal_text(self.cleaned_data["origin_head_name"])

    def clean_origin_address(self):
        return normal_text(self.cleaned_data["origin_address"])

    def clean(self):
        cleaned = super().clean()
        number = parse_id(self, "origin_head_id_number", cleaned.get("origin_head_id_number"))
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
        return {name: c.get(name) if name == "origin_office" else c.get(name) or "" for name in self._meta.fields}
