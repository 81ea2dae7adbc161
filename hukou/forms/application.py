"""The application's own answers: the first page (category and move-in station), the destination, the household left."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.forms import PersonNameField
from portal.forms import DraftFormMixin

from ..constants import Category, ReceivingParty
from .fields import (
    RECEIVING_RELATION_CHOICES,
    StationChoicesMixin,
    check_move_in_station,
    move_in_station_field,
    normal_text,
    parse_id,
    station_field,
)


class StartForm(StationChoicesMixin, forms.Form):
    """The first page: the category of the move and the move-in police station. Creates the draft."""

    station_fields = ("office",)

    category = forms.ChoiceField(
        label=_("What kind of move is it?"),
        choices=Category.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the category of your move.")},
    )
    office = move_in_station_field()

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


class DestinationForm(DraftFormMixin, StationChoicesMixin, forms.Form):
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
    office = move_in_station_field()
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


class OriginForm(DraftFormMixin, StationChoicesMixin, forms.Form):
    """The household the people leave: its address, police station and head."""

    station_fields = ("origin_office",)

    origin_address = forms.CharField(
        label=_("Address of the household you leave"),
        max_length=255,
        help_text=_("As in the Household Register Booklet."),
        error_messages={"required": _("Enter the address of the household you leave.")},
    )
    origin_office = station_field(
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
        fields = {name: c.get(name) or "" for name in ("origin_address", "origin_head_name", "origin_head_id_number")}
        fields["origin_office"] = c.get("origin_office")
        return fields
