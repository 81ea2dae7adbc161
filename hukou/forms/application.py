"""The application's own answers, as ModelForms on MigrationApplication: the first page (category and move-in
station), the destination, and the household left."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.address import AddressField, AddressFormMixin
from accounts.forms import PersonNameField
from portal.forms import DraftFormMixin

from ..constants import GROUNDS_FOR_CATEGORY, Category, Grounds, ReceivingParty
from ..models import MigrationApplication
from .fields import (
    RECEIVING_RELATION_CHOICES,
    AnswersForm,
    IdNumberAsTypedField,
    StationChoicesMixin,
    category_field,
    check_move_in_station,
    formfield_with,
    grounds_field,
    move_in_station_field,
    normal_text,
    parse_id,
    station_field,
)


class StartForm(StationChoicesMixin, AnswersForm):
    """The first page: who moves, on what grounds, and the move-in police station. Creates the draft.

    Coming from the pre-check, the two questions are already answered (the query string fills them in) and who
    applies for the household joined travels along in hidden fields, to be saved with the draft.
    """

    station_fields = ("office",)

    category = category_field()
    grounds = grounds_field()
    office = move_in_station_field()
    receiving_party = forms.ChoiceField(
        choices=[("", ""), *ReceivingParty.choices], required=False, widget=forms.HiddenInput
    )
    receiving_family_member_relation = forms.ChoiceField(
        choices=RECEIVING_RELATION_CHOICES, required=False, widget=forms.HiddenInput
    )

    class Meta:
        model = MigrationApplication
        fields = ("category", "grounds", "office", "receiving_party", "receiving_family_member_relation")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_office(self):
        return check_move_in_station(self.cleaned_data["office"])

    def clean(self):
        cleaned = super().clean()
        grounds = cleaned.get("grounds")
        if grounds and cleaned.get("category") and grounds not in GROUNDS_FOR_CATEGORY[cleaned["category"]]:
            self.add_error(
                "grounds",
                ValidationError(
                    _("A move into a collective household is for employment, study or other grounds you explain."),
                    code="grounds_mismatch",
                ),
            )
        if not self.user.id_number:
            raise ValidationError(
                _(
                    "Your account has no resident ID number, so you cannot apply online. Apply at the counter of the "
                    "police station with your ID card and Household Register Booklet."
                ),
                code="no_id_number",
            )
        return cleaned

    def start_answers(self) -> dict:
        """What else the draft starts with: who applies for the household joined, when the grounds are joining."""
        c = self.cleaned_data
        if c.get("grounds") != Grounds.JOIN_RELATIVES or not c.get("receiving_party"):
            return {}
        answers = {"receiving_party": c["receiving_party"]}
        if c["receiving_party"] == ReceivingParty.FAMILY_MEMBER:
            answers["receiving_family_member_relation"] = c.get("receiving_family_member_relation") or ""
        return answers


class DestinationForm(AddressFormMixin, DraftFormMixin, StationChoicesMixin, AnswersForm):
    """Who moves and why, the destination, and (only when joining relatives) the household joined.

    Only the questions that fit the answers are shown (`shown`): the collective household's name for a move into one,
    the explanation for other grounds, the receiving household when joining relatives, and the family member who
    applies for it only when one does. With JavaScript they are revealed as the answers change (portal.js); without
    it, a page saved with new answers comes back with the questions that now apply. Answers that do not apply are
    neither required nor kept.
    """

    station_fields = ("office",)

    category = category_field()
    grounds = grounds_field()
    office = move_in_station_field()
    destination_address = AddressField(
        parts="destination",
        label=_("Address you move to"),
        help_text=_("As it will be registered."),
        error_messages={"required": _("Enter the address you move to.")},
    )

    class Meta:
        model = MigrationApplication
        # destination_collective follows from who moves (into a collective household or not): not asked.
        fields = tuple(name for name in MigrationApplication.DESTINATION_ANSWERS if name != "destination_collective")
        field_classes = {
            "receiving_householder_name": PersonNameField,
            "receiving_householder_id_number": IdNumberAsTypedField,
            "receiving_family_member_name": PersonNameField,
            "receiving_family_member_id_number": IdNumberAsTypedField,
        }
        formfield_callback = formfield_with(
            {
                "category_explanation": {"max_length": 1000},
                "receiving_relation": {"choices": RECEIVING_RELATION_CHOICES},
                "receiving_party": {"choices": ReceivingParty.choices},
                "receiving_family_member_relation": {"choices": RECEIVING_RELATION_CHOICES},
            }
        )
        labels = {
            "category_explanation": _("Explain the grounds for settlement"),
            "collective_household_name": _("Name of the collective household"),
            "receiving_householder_name": _("Name of the head of the household you join"),
            "receiving_householder_id_number": _("ID number of the head of the household you join"),
            "receiving_relation": _("How are the people moving related to that head of household?"),
            "receiving_party": _("Who applies for the household you join?"),
            "receiving_family_member_name": _("Name of the family member who applies"),
            "receiving_family_member_id_number": _("ID number of the family member who applies"),
            "receiving_family_member_relation": _("Their relation to the head of the household you join"),
            "receiving_present": _(
                "The person applying for the household you join comes to the police station in person"
            ),
        }
        help_texts = {
            "collective_household_name": _("For example the employer's or school's name."),
            "receiving_relation": _("For several people, the relation of the first one."),
            "receiving_family_member_relation": _(
                "Only a spouse, parent or child may apply in the head of household's place, with written consent."
            ),
            "receiving_present": _("If not, you upload their power of attorney in a later step."),
        }
        widgets = {
            "category_explanation": forms.Textarea(attrs={"rows": 3}),
            "receiving_party": forms.RadioSelect,
        }

    def __init__(self, *args, lock_office=False, **kwargs):
        super().__init__(*args, **kwargs)
        if lock_office:
            self.fields["office"].disabled = True
            self.fields["office"].help_text = _("The police station cannot be changed after submission.")

    def _answer(self, name):
        if self.is_bound:
            return self.data.get(name, "")
        return self.initial.get(name, "")

    @property
    def shown(self) -> dict:
        """Which groups of questions apply to the answers as they stand (sent, or saved)."""
        joining = self._answer("grounds") == Grounds.JOIN_RELATIVES
        return {
            "explanation": self._answer("grounds") == Grounds.OTHER,
            "collective": self._answer("category") == Category.COLLECTIVE,
            "joining": joining,
            "family_member": joining and self._answer("receiving_party") == ReceivingParty.FAMILY_MEMBER,
        }

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
        category, grounds = cleaned.get("category"), cleaned.get("grounds")
        collective = category == Category.COLLECTIVE
        joining = grounds == Grounds.JOIN_RELATIVES

        if grounds and category and grounds not in GROUNDS_FOR_CATEGORY[category]:
            self.add_error(
                "grounds",
                ValidationError(
                    _("A move into a collective household is for employment, study or other grounds you explain."),
                    code="grounds_mismatch",
                ),
            )
        if grounds == Grounds.OTHER and not cleaned.get("category_explanation"):
            self.add_required_error(
                "category_explanation", _("Explain the grounds on which you settle at the destination.")
            )
        if collective and not cleaned.get("collective_household_name"):
            self.add_required_error(
                "collective_household_name", _("Enter the name of the collective household you move into.")
            )
        if joining:
            self._clean_receiving_householder(cleaned)
            self._clean_receiving_party(cleaned)
        else:
            # Answers that no longer apply are not kept (the household joined after switching to other grounds).
            cleaned.update(
                receiving_householder_name="",
                receiving_householder_id_number="",
                receiving_relation="",
                receiving_party="",
                receiving_family_member_name="",
                receiving_family_member_id_number="",
                receiving_family_member_relation="",
                receiving_present=True,
            )
        if not collective:
            cleaned["collective_household_name"] = ""
        if grounds != Grounds.OTHER:
            cleaned["category_explanation"] = ""
        return cleaned

    def _clean_receiving_householder(self, cleaned):
        number = parse_id(self, "receiving_householder_id_number", cleaned.get("receiving_householder_id_number"))
        cleaned["receiving_householder_id_number"] = number
        if not cleaned.get("receiving_householder_name") and "receiving_householder_name" not in self.errors:
            self.add_required_error(
                "receiving_householder_name",
                _("When joining relatives, give the name of the head of the household you join."),
            )
        if not number and "receiving_householder_id_number" not in self.errors:
            self.add_required_error(
                "receiving_householder_id_number", _("Enter the ID number of the head of the household you join.")
            )
        if not cleaned.get("receiving_relation"):
            self.add_required_error(
                "receiving_relation", _("Give how the people moving are related to the head of the household you join.")
            )

    def _clean_receiving_party(self, cleaned):
        party = cleaned.get("receiving_party")
        if not party:
            self.add_required_error("receiving_party", _("Choose who applies for the household you join."))
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
            self.add_required_error(
                "receiving_family_member_name", _("Enter the name of the family member who applies.")
            )
        if not number and "receiving_family_member_id_number" not in self.errors:
            self.add_required_error(
                "receiving_family_member_id_number", _("Enter the ID number of the family member who applies.")
            )
        if not cleaned.get("receiving_family_member_relation"):
            self.add_required_error(
                "receiving_family_member_relation",
                _("Give the family member's relation to the head of the household you join."),
            )

    def answers(self) -> dict:
        """The cleaned answers as MigrationApplication fields (for drafts.hukou_save_answers)."""
        c = self.cleaned_data
        # An answer missing from a draft was left empty (only "required" errors are let through): it is saved empty.
        fields = {
            name: c.get(name) or ""
            for name in self._meta.fields
            if name not in ("category", "office", "receiving_present")
        }
        if c.get("category"):
            fields["category"] = c["category"]
            fields["destination_collective"] = c["category"] == Category.COLLECTIVE
        fields["receiving_present"] = c.get("receiving_present", True)
        if c.get("office") is not None and not self.fields["office"].disabled:
            fields["office"] = c["office"]
        return fields


class OriginForm(AddressFormMixin, DraftFormMixin, StationChoicesMixin, AnswersForm):
    """The household the people leave: its address, police station and head."""

    station_fields = ("origin_office",)

    origin_office = station_field(
        _("Police station of the household you leave (move-out police station)"),
        _("It registers the move-out. It may be in another city; if it is outside Henan, apply at the counter."),
        _("Choose the police station of the household you leave."),
    )
    origin_address = AddressField(
        parts="origin",
        label=_("Address of the household you leave"),
        help_text=_("As in the Household Register Booklet."),
        error_messages={"required": _("Enter the address of the household you leave.")},
    )

    class Meta:
        model = MigrationApplication
        fields = MigrationApplication.ORIGIN_ANSWERS
        field_classes = {"origin_head_name": PersonNameField, "origin_head_id_number": IdNumberAsTypedField}
        formfield_callback = formfield_with(
            {
                "origin_head_name": {"required": True},
                "origin_head_id_number": {"required": True},
            }
        )
        labels = {
            "origin_head_name": _("Head of the household you leave"),
            "origin_head_id_number": _("ID number of the head of the household you leave"),
        }
        help_texts = {
            "origin_head_name": _("The head of household written on the booklet's first page, even if they move too."),
        }
        error_messages = {
            "origin_head_name": {"required": _("Enter the name of the head of the household you leave.")},
            "origin_head_id_number": {"required": _("Enter the ID number of the head of the household you leave.")},
        }

    def __init__(self, *args, moving_head=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.moving_head = moving_head
        if moving_head is not None:
            # The head who moves is the head of the household left: already given with the people moving, so not
            # asked again (the page says so).
            del self.fields["origin_head_name"], self.fields["origin_head_id_number"]

    def clean_origin_head_name(self):
        return normal_text(self.cleaned_data.get("origin_head_name"))

    def clean(self):
        cleaned = super().clean()
        head = self.moving_head
        if head is not None:
            cleaned.update(origin_head_name=head.name, origin_head_id_number=head.id_number)
            return cleaned
        cleaned["origin_head_id_number"] = parse_id(self, "origin_head_id_number", cleaned.get("origin_head_id_number"))
        return cleaned

    def answers(self) -> dict:
        c = self.cleaned_data
        return {name: c.get(name) if name == "origin_office" else c.get(name) or "" for name in self._meta.fields}
