"""The eligibility pre-check: plain questions, answered without an account; nothing is stored."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ..constants import ReceivingParty, Relation
from ..rules import PrecheckAnswers
from .fields import MAX_AGE, AgeListField, category_field, yes_no


class PrecheckForm(forms.Form):
    """The plain questions of the pre-check; the answers become rules.PrecheckAnswers. Nothing is stored."""

    category = category_field()
    head_moves = yes_no(_("Does the head of household move?"))
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
    movers_apply = yes_no(_("Do the people moving who are 16 or over apply themselves?"))
    guardian_comes = yes_no(
        _("Does a guardian from the household you leave apply with those under 16?"),
        help_text=_("Answer “No” if nobody moving is under 16."),
    )
    everyone_in_person = yes_no(_("Do all the parties come to the police station in person?"))
    absent_have_power_of_attorney = yes_no(
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
    householder_consents = yes_no(
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
