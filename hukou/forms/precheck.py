"""The eligibility pre-check: one plain question per page, each asked only when it applies; nothing is stored.

The answers so far travel in the query string (a GET form: nothing changes, so every page can be bookmarked,
reloaded and gone back to). `Precheck(request.GET)` walks the questions in order, skipping those that do not apply
to the answers before them (a whole household is never asked who applies for the household it joins, nor about
people staying behind), and stops at the first one not yet answered, or answered wrongly: that is the page shown.
When none is left, `answers()` gives the rules.PrecheckAnswers, and `application_start()` what the application
starts with (hukou.views.sections.apply reads it back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from portal.formmessages import radio_choice

from ..constants import (
    ADULT_AGE,
    GROUNDS_FOR_CATEGORY,
    IMMEDIATE_FAMILY,
    MAX_PEOPLE,
    Category,
    ReceivingParty,
    Relation,
)
from ..constants import Grounds as GroundsChoices
from ..rules import PrecheckAnswers
from .fields import MAX_AGE, category_field, grounds_field, yes_no

EDIT = "edit"  # the query parameter naming a question to answer again (the "Change" links of the summary)


def _whole_number(label, help_text, maximum, messages):
    """A whole number from 0 to `maximum` in a short numeric box; `messages`, its error messages (required, invalid,
    min_value, max_value)."""
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=maximum,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "portal-input-short"}),
        error_messages=messages,
    )


def _age(label, required_message):
    return _whole_number(
        label,
        _("Completed years on the day of application."),
        MAX_AGE,
        {
            "required": required_message,
            "invalid": _("Give the age as a whole number of years, like 34."),
            "min_value": _("An age cannot be below 0."),
            "max_value": _("Give an age of %(limit_value)s or less."),
        },
    )


def _count(label, required_message, help_text):
    return _whole_number(
        label,
        help_text,
        MAX_PEOPLE - 1,
        {
            "required": required_message,
            "invalid": _("Give the number as a whole number, like 2 (0 if nobody)."),
            "min_value": _("The number cannot be below 0."),
            "max_value": _("At most %(limit_value)s people in one application."),
        },
    )


@dataclass(frozen=True)
class Question:
    """One page: a name, its heading, the fields it asks (given the answers so far) and when it applies."""

    name: str
    title: object
    fields: Callable[[dict], dict]
    applies: Callable[[dict], bool] = lambda a: True


def _whole(a):
    return a.get("category") == Category.WHOLE_HOUSEHOLD


def _joining(a):
    return a.get("grounds") == GroundsChoices.JOIN_RELATIVES


def _family_member(a):
    return _joining(a) and a.get("receiving_party") == ReceivingParty.FAMILY_MEMBER


def _head_moves(a):
    return _whole(a) or a.get("head_moves") is True


def _mover_ages(a):
    ages = [a["head_age"]] if _head_moves(a) and a.get("head_age") is not None else []
    return ages + [a.get(f"mover_age_{n}") for n in range(1, (a.get("mover_count") or 0) + 1)]


def _staying_count(a):
    return 0 if _whole(a) else a.get("staying_count") or 0


def _grounds_choices(a):
    allowed = GROUNDS_FOR_CATEGORY.get(a.get("category"), tuple(GroundsChoices))
    return [(g.value, g.label) for g in allowed]


QUESTIONS = (
    Question("category", _("Who moves?"), lambda a: {"category": category_field()}),
    Question(
        "grounds",
        _("On what grounds do you settle at the destination?"),
        lambda a: {"grounds": grounds_field(_grounds_choices(a))},
    ),
    Question(
        "receiving_party",
        _("Who applies for the household you join?"),
        lambda a: {
            "receiving_party": radio_choice(
                _("Who applies for the household you join?"),
                ReceivingParty.choices,
                _("Choose who applies for the household you join."),
            )
        },
        _joining,
    ),
    Question(
        "receiving_family_relation",
        _("How is that family member related to the head of the household you join?"),
        lambda a: {
            "receiving_family_relation": radio_choice(
                _("How is that family member related to the head of the household you join?"),
                [c for c in Relation.choices if c[0] != Relation.HEAD],
                _("Choose the family member's relation to the head of household."),
            )
        },
        _family_member,
    ),
    Question(
        "householder_consents",
        _("Has the head of the household you join given written consent?"),
        lambda a: {"householder_consents": yes_no(_("Has the head of the household you join given written consent?"))},
        lambda a: _family_member(a) and a.get("receiving_family_relation") in IMMEDIATE_FAMILY,
    ),
    Question(
        "head_moves",
        _("Does the head of household move?"),
        lambda a: {"head_moves": yes_no(_("Does the head of household move?"))},
        lambda a: not _whole(a),
    ),
    Question(
        "head_age",
        _("How old is the head of household?"),
        lambda a: {"head_age": _age(_("Age of the head of household"), _("Give the age of the head of household."))},
        _head_moves,
    ),
    Question(
        "mover_count",
        _("How many other people move?"),
        lambda a: {
            "mover_count": _count(
                _("Number of other people moving"),
                _("Give the number of other people moving (0 if nobody)."),
                _("Besides the head of household.") if _head_moves(a) else _("Everyone who moves."),
            )
        },
    ),
    Question(
        "mover_ages",
        _("How old are the other people moving?"),
        lambda a: {
            f"mover_age_{n}": _age(
                _("Age of person moving no. %(n)d") % {"n": n},
                _("Give the age of person moving no. %(n)d.") % {"n": n},
            )
            for n in range(1, (a.get("mover_count") or 0) + 1)
        },
        lambda a: bool(a.get("mover_count")),
    ),
    Question(
        "staying_count",
        _("How many people stay in the household you leave?"),
        lambda a: {
            "staying_count": _count(
                _("Number of people staying"),
                _("Give the number of people who stay (0 if nobody)."),
                _("Everyone in the booklet who does not move."),
            )
        },
        lambda a: not _whole(a),
    ),
    Question(
        "staying_ages",
        _("How old are the people who stay?"),
        lambda a: {
            **(
                {"new_head_age": _age(_("Age of the new head of household"), _("Give the age of the new head."))}
                if _head_moves(a)
                else {}
            ),
            **{
                f"staying_age_{n}": _age(
                    _("Age of person staying no. %(n)d") % {"n": n},
                    _("Give the age of person staying no. %(n)d.") % {"n": n},
                )
                for n in range(1, _staying_count(a) + (0 if _head_moves(a) else 1))
            },
        },
        lambda a: _staying_count(a) > 0,
    ),
    Question(
        "movers_apply",
        _("Do the people moving who are 16 or over apply themselves?"),
        lambda a: {"movers_apply": yes_no(_("Do the people moving who are 16 or over apply themselves?"))},
        lambda a: not _whole(a) or bool(a.get("mover_count")),
    ),
    Question(
        "guardian_comes",
        _("Does a guardian apply with those under 16?"),
        lambda a: {
            "guardian_comes": yes_no(
                _("Does a guardian from the household you leave apply with those under 16?"),
            )
        },
        lambda a: any(age is not None and age < ADULT_AGE for age in _mover_ages(a)),
    ),
    Question(
        "everyone_in_person",
        _("Do all the parties come to the police station in person?"),
        lambda a: {"everyone_in_person": yes_no(_("Do all the parties come to the police station in person?"))},
    ),
    Question(
        "absent_have_power_of_attorney",
        _("Do those who cannot come give a power of attorney?"),
        lambda a: {"absent_have_power_of_attorney": yes_no(_("Do those who cannot come give a power of attorney?"))},
        lambda a: a.get("everyone_in_person") is False,
    ),
)


class Precheck:
    """The questions that apply to `data` (a QueryDict), the answers given and the page to show next."""

    def __init__(self, data: QueryDict):
        self.data = data
        self.answers_so_far: dict = {}
        self.asked: list[Question] = []  # the questions answered, in order (the summary and the "Back" link)
        self.current: Question | None = None
        self.form: forms.Form | None = None
        editing = data.get(EDIT)
        for question in QUESTIONS:
            if not question.applies(self.answers_so_far):
                continue
            fields = question.fields(self.answers_so_far)
            form_class = type("QuestionForm", (forms.Form,), dict(fields))
            if question.name == editing or not any(name in data for name in fields):
                initial = {name: data.get(name) for name in fields if name in data}
                self.current, self.form = question, form_class(initial=initial)
                break
            form = form_class(data)
            if not form.is_valid():
                self.current, self.form = question, form
                break
            self.answers_so_far.update(form.cleaned_data)
            self.asked.append(question)
        self.done = self.current is None

    def hidden(self) -> list[tuple[str, str]]:
        """The answers to carry along on the current page: all those given, but the current question's own."""
        own = set(self.form.fields) if self.form is not None else set()
        own.add(EDIT)
        return [(name, value) for name in self.data for value in self.data.getlist(name) if name not in own]

    def previous(self) -> Question | None:
        return self.asked[-1] if self.asked else None

    def summary(self) -> list[tuple[Question, str]]:
        """(question, the answer as the citizen reads it) for each question answered."""
        rows = []
        for question in self.asked:
            form_class = type("QuestionForm", (forms.Form,), dict(question.fields(self.answers_so_far)))
            parts = []
            for name, field in form_class.base_fields.items():
                value = self.answers_so_far.get(name)
                choices = dict(getattr(field, "choices", ()))
                if isinstance(value, bool):
                    value = "yes" if value else "no"
                shown = str(choices.get(value, value))
                parts.append(f"{field.label}: {shown}" if len(form_class.base_fields) > 1 else shown)
            rows.append((question, "; ".join(parts)))
        return rows

    def answers(self) -> PrecheckAnswers:
        a = self.answers_so_far
        head_moves = _head_moves(a)
        staying = [a[f"staying_age_{n}"] for n in range(1, 1 + MAX_PEOPLE) if f"staying_age_{n}" in a]
        return PrecheckAnswers(
            category=a["category"],
            grounds=a["grounds"],
            head_moves=head_moves,
            head_age=a.get("head_age") if head_moves else None,
            other_mover_ages=tuple(a[f"mover_age_{n}"] for n in range(1, (a.get("mover_count") or 0) + 1)),
            staying_ages=tuple(staying),
            new_head_age=a.get("new_head_age") if _staying_count(a) else None,
            movers_apply=a.get("movers_apply", True),
            guardian_comes=a.get("guardian_comes", False),
            everyone_in_person=a.get("everyone_in_person", True),
            absent_have_power_of_attorney=a.get("absent_have_power_of_attorney", False),
            receiving_party=a.get("receiving_party", "") if _joining(a) else "",
            receiving_family_relation=a.get("receiving_family_relation", "") if _family_member(a) else "",
            householder_consents=a.get("householder_consents", False),
        )

    def application_start(self) -> dict:
        """What the application starts with: who moves, the grounds, and who applies for the household joined."""
        a = self.answers_so_far
        start = {"category": a["category"], "grounds": a["grounds"]}
        if _joining(a):
            start["receiving_party"] = a.get("receiving_party", "")
            if _family_member(a):
                start["receiving_family_member_relation"] = a.get("receiving_family_relation", "")
        if _head_moves(a):
            start["head_moves"] = "yes"
        return start
