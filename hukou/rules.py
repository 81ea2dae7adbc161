"""Who may move and who may apply (docs/services.md#one-stop-hukou-migration): pure functions, each returning reasons
a citizen can read.

Every rule takes a `MoveFacts` (plain dataclasses, built from an application by `facts_from_application` or from
the pre-check answers by `eligibility_precheck`) and the day of application, and returns a list of
`RuleViolation`; an empty list means the rule is met. Ages are completed years on that day
(`accounts.idnumber.age_on`): a person who turns 16 tomorrow is 15 today. Nothing here reads the clock,
writes to the database or knows about HTTP, so the form, each workflow step and the tests call the same code.
"""

import datetime
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import idnumber

from .constants import (
    ADULT_AGE,
    GROUNDS_FOR_CATEGORY,
    IMMEDIATE_FAMILY,
    Category,
    Grounds,
    ReceivingParty,
    Relation,
    move_materials,
)


@dataclass(frozen=True)
class RuleViolation:
    """A rule that is not met: a stable `code` for programs and tests, and a `message` for the citizen."""

    code: str
    message: str

    def __str__(self):
        return self.message


@dataclass(frozen=True)
class Person:
    """Someone in the origin household. The age comes from the date of birth, or is given (the pre-check)."""

    name: str = ""
    birth_date: datetime.date | None = None
    age_years: int | None = None
    relation: str = ""

    def age(self, on: datetime.date) -> int | None:
        if self.birth_date is not None:
            return idnumber.age_on(self.birth_date, on)
        return self.age_years

    @property
    def is_head(self) -> bool:
        return self.relation == Relation.HEAD


@dataclass(frozen=True)
class MovingPerson(Person):
    is_applicant: bool = False
    present: bool = True
    has_power_of_attorney: bool = False
    guardian_present: bool = False


@dataclass(frozen=True)
class StayingPerson(Person):
    is_new_head: bool = False


@dataclass(frozen=True)
class ReceivingSide:
    """Joining relatives: the receiving household and who applies for it."""

    householder_named: bool = False
    party: str = ""  # constants.ReceivingParty, or "" when nobody applies for the receiving side
    family_relation: str = ""  # the applying family member's relation to the receiving head of household
    has_consent: bool = False  # the receiving head of household's written consent is uploaded
    present: bool = True
    has_power_of_attorney: bool = False


@dataclass(frozen=True)
class MoveFacts:
    category: str  # who moves (constants.Category)
    grounds: str = ""  # on what grounds they settle (constants.Grounds; "" not yet answered)
    movers: tuple[MovingPerson, ...] = ()
    staying: tuple[StayingPerson, ...] = ()
    receiving: ReceivingSide | None = None
    category_explanation: str = ""


def _age(person: Person, on: datetime.date) -> int | None:
    return person.age(on)


def _is_adult(person: Person, on: datetime.date) -> bool:
    """16 or over on `on`; an unknown age never counts as adult (rule_ages_known says why)."""
    age = _age(person, on)
    return age is not None and age >= ADULT_AGE


def _name(person: Person) -> str:
    return person.name or _("A person")


# --- the rules ---------------------------------------------------------------------------------------


def rule_ages_known(facts: MoveFacts, on: datetime.date) -> list[RuleViolation]:
    """Every age rule needs a date of birth: missing ones are named rather than silently counted as children."""
    return [
        RuleViolation(
            "age_unknown",
            _("We need the date of birth of %(name)s (from the ID number or the household booklet).")
            % {"name": _name(p)},
        )
        for p in (*facts.movers, *facts.staying)
        if _age(p, on) is None
    ]


def rule_someone_moves_and_applies(facts: MoveFacts, on: datetime.date) -> list[RuleViolation]:
    """There is at least one person moving, and one of them applies."""
    if not facts.movers:
        return [RuleViolation("no_movers", _("Add the people who are moving, as written in the household booklet."))]
    if not any(m.is_applicant for m in facts.movers):
        return [
            RuleViolation(
                "no_applicant",
                _("The person moving applies for the move: mark at least one of the people moving as an applicant."),
            )
        ]
    return []


def rule_whole_household_head(facts: MoveFacts, on: datetime.date) -> list[RuleViolation]:
    """Whole household: the head moves, applies, is 16 or over; and nobody stays behind."""
    if facts.category != Category.WHOLE_HOUSEHOLD:
        return []
    violations = []
    heads = [m for m in facts.movers if m.is_head]
    if not heads:
        violations.append(
            RuleViolation(
                "whole_household_head_missing",
                _("A whole-household move includes the head of household: add them to the people moving."),
            )
        )
    for head in heads:
        age = _age(head, on)
        if age is not None and age < ADULT_AGE:
            violations.append(
                RuleViolation(
                    "whole_household_head_under_16",
                    _(
                        "For a whole-household move the head of household applies and must be 16 or over on the day "
                        "of application. %(name)s is %(age)d that day."
                    )
                    % {"name": _name(head), "age": age},
                )
            )
        if not head.is_applicant:
            violations.append(
                RuleViolation(
                    "whole_household_head_applies",
                    _("For a whole-household move the head of household (%(name)s) is the applicant.")
                    % {"name": _name(head)},
                )
            )
    if facts.staying:
        violations.append(
            RuleViolation(
                "whole_household_members_stay",
                _(
                    "In a whole-household move nobody stays behind. If some members of the household stay, "
                    "choose “Part of a household moves” instead."
                ),
            )
        )
    return violations


def rule_minors_with_guardian(facts: MoveFacts, on: datetime.date) -> list[RuleViolation]:
    """A person under 16 moves only with the original household's guardian applying with them."""
    violations = []
    for mover in facts.movers:
        age = _age(mover, on)
        if age is not None and age < ADULT_AGE and not mover.guardian_present:
            violations.append(
                RuleViolation(
                    "minor_without_guardian",
                    _(
                        "%(name)s is %(age)d on the day of application. A person under 16 can move only if their "
                        "guardian from the original household applies with them."
                    )
                    % {"name": _name(mover), "age": age},
                )
            )
    return violations


def rule_joining_relatives(facts: MoveFacts, on: datetime.date) -> list[RuleViolation]:
    """Joining relatives: the receiving head of household applies too, or an immediate family member with consent."""
    if facts.grounds != Grounds.JOIN_RELATIVES:
        return []
    receiving = facts.receiving or ReceivingSide()
    violations = []
    if not receiving.householder_named:
        violations.append(
            RuleViolation(
                "join_relatives_householder_missing",
                _("Give the name and ID number of the head of the household you are joining."),
            )
        )
    if receiving.party == ReceivingParty.HOUSEHOLDER:
        return violations
    if receiving.party == ReceivingParty.FAMILY_MEMBER:
        if receiving.family_relation not in IMMEDIATE_FAMILY:
            violations.append(
                RuleViolation(
                    "join_relatives_not_immediate_family",
                    _(
                        "Only an immediate family member of the receiving head of household (spouse, parent or "
                        "child) may apply in their place."
                    ),
                )
            )
        if not receiving.has_consent:
            violations.append(
                RuleViolation(
                    "join_relatives_consent_missing",
                    _(
                        "A family member applies for the receiving household only with the written consent of its "
                        "head of household: upload the consent."
                    ),
                )
            )
        return violations
    violations.append(
        RuleViolation(
            "join_relatives_receiving_party_missing",
            _(
                "When joining relatives, the head of the receiving household applies together with the person "
                "moving, or an immediate family member of the receiving household applies with the head of "
                "household's consent."
            ),
        )
    )
    return violations


def rule_origin_not_only_minors(facts: MoveFacts, on: datetime.date) -> list[RuleViolation]:
    """No household may be left with only members under 16."""
    if facts.category == Category.WHOLE_HOUSEHOLD or not facts.staying:
        return []  # a whole household leaves nobody behind; rule_whole_household_head covers one that would
    if any(_is_adult(p, on) for p in facts.staying):
        return []
    if any(_age(p, on) is None for p in facts.staying):
        return []  # rule_ages_known asks for the missing date of birth first
    return [
        RuleViolation(
            "origin_left_with_minors",
            ngettext(
                "The person who would stay in the household you leave is under 16. No household may be left "
                "with only members under 16: someone aged 16 or over must stay, or the child moves too.",
                "The %(count)d people who would stay in the household you leave are all under 16. No household may "
                "be left with only members under 16: someone aged 16 or over must stay, or the children move too.",
                len(facts.staying),
            )
            % {"count": len(facts.staying)},
        )
    ]


def rule_new_head(facts: MoveFacts, on: datetime.date) -> list[RuleViolation]:
    """If the head moves out and others stay, one of those staying, 16 or over, is named the new head."""
    if facts.category == Category.WHOLE_HOUSEHOLD or not facts.staying:
        return []
    if not any(m.is_head for m in facts.movers):
        return []
    new_heads = [p for p in facts.staying if p.is_new_head]
    if not new_heads:
        return [
            RuleViolation(
                "new_head_missing",
                _(
                    "The head of household is moving out and others stay: name one of those staying, aged 16 or "
                    "over, as the new head of household."
                ),
            )
        ]
    if len(new_heads) > 1:
        return [RuleViolation("new_head_ambiguous", _("Name only one new head of household."))]
    new_head = new_heads[0]
    age = _age(new_head, on)
    if age is not None and age < ADULT_AGE:
        return [
            RuleViolation(
                "new_head_under_16",
                _(
                    "The new head of household must be 16 or over on the day of application. %(name)s is %(age)d "
                    "that day."
                )
                % {"name": _name(new_head), "age": age},
            )
        ]
    return []


def rule_absent_parties_authorised(facts: MoveFacts, on: datetime.date) -> list[RuleViolation]:
    """A party who does not come in person hands over their papers with a power of attorney (uploaded)."""
    violations = [
        RuleViolation(
            "absent_without_power_of_attorney",
            _("%(name)s does not apply in person: upload their power of attorney.") % {"name": _name(m)},
        )
        for m in facts.movers
        if not m.present and not m.has_power_of_attorney
    ]
    receiving = facts.receiving
    if (
        facts.grounds == Grounds.JOIN_RELATIVES
        and receiving is not None
        and receiving.party
        and not receiving.present
        and not receiving.has_power_of_attorney
    ):
        violations.append(
            RuleViolation(
                "receiving_absent_without_power_of_attorney",
                _(
                    "The party applying for the receiving household does not come in person: upload their power of "
                    "attorney."
                ),
            )
        )
    return violations


def rule_collective_mover_applies(facts: MoveFacts, on: datetime.date) -> list[RuleViolation]:
    """Into a collective household, each person moving who is 16 or over applies themself."""
    if facts.category != Category.COLLECTIVE:
        return []
    return [
        RuleViolation(
            "collective_mover_applies",
            _("Into a collective household the person moving applies themself: %(name)s must be one of the applicants.")
            % {"name": _name(m)},
        )
        for m in facts.movers
        if _is_adult(m, on) and not m.is_applicant
    ]


def rule_grounds_fit(facts: MoveFacts, on: datetime.date) -> list[RuleViolation]:
    """A collective household takes people in for work, study or other grounds explained, not to join relatives."""
    if facts.grounds and facts.grounds not in GROUNDS_FOR_CATEGORY.get(facts.category, ()):
        return [
            RuleViolation(
                "grounds_not_for_category",
                _("A move into a collective household is for employment, study or other grounds you explain."),
            )
        ]
    return []


def rule_other_grounds_explained(facts: MoveFacts, on: datetime.date) -> list[RuleViolation]:
    if facts.grounds == Grounds.OTHER and not facts.category_explanation.strip():
        return [
            RuleViolation("other_grounds_unexplained", _("Explain the grounds on which you settle at the destination."))
        ]
    return []


RULES = (
    rule_ages_known,
    rule_someone_moves_and_applies,
    rule_whole_household_head,
    rule_minors_with_guardian,
    rule_joining_relatives,
    rule_origin_not_only_minors,
    rule_new_head,
    rule_absent_parties_authorised,
    rule_collective_mover_applies,
    rule_grounds_fit,
    rule_other_grounds_explained,
)


def check_facts(facts: MoveFacts, *, on: datetime.date) -> list[RuleViolation]:
    """Every rule, in a fixed order; an empty list means the move may be applied for."""
    violations = []
    if facts.category not in Category.values:
        return [RuleViolation("category_missing", _("Choose the category of your move."))]
    for rule in RULES:
        violations.extend(rule(facts, on))
    return violations


# --- applications ------------------------------------------------------------------------------------


def facts_from_application(application) -> MoveFacts:
    """The facts the rules need, read from a MigrationApplication and its movers and staying members."""
    movers = tuple(
        MovingPerson(
            name=m.name,
            birth_date=m.birth_date,
            relation=m.relation,
            is_applicant=m.is_applicant,
            present=m.present,
            has_power_of_attorney=m.power_of_attorney_id is not None,
            guardian_present=m.guardian_present,
        )
        for m in application.movers.all()
    )
    staying = tuple(
        StayingPerson(name=p.name, birth_date=p.birth_date, relation=p.relation, is_new_head=p.is_new_head)
        for p in application.staying_members.all()
    )
    receiving = ReceivingSide(
        householder_named=bool(application.receiving_householder_name and application.receiving_householder_id_number),
        party=application.receiving_party,
        family_relation=application.receiving_family_member_relation,
        has_consent=application.householder_consent_id is not None,
        present=application.receiving_present,
        has_power_of_attorney=application.receiving_power_of_attorney_id is not None,
    )
    return MoveFacts(
        category=application.category,
        grounds=application.grounds,
        movers=movers,
        staying=staying,
        receiving=receiving,
        category_explanation=application.category_explanation,
    )


def check_application(application, *, on: datetime.date) -> list[RuleViolation]:
    """All rules for a saved application, ages taken on `on` (the day of application)."""
    return check_facts(facts_from_application(application), on=on)


# --- the plain-words pre-check -----------------------------------------------------------------------


@dataclass(frozen=True)
class PrecheckAnswers:
    """The pre-check form's answers: ages in years, no names or ID numbers.

    `staying_ages` are those who stay other than the new head; `new_head_age` is the age of the person staying
    who becomes head of household (None: nobody named).
    """

    category: str
    grounds: str = ""
    head_moves: bool = False
    head_age: int | None = None
    other_mover_ages: tuple[int, ...] = ()
    staying_ages: tuple[int, ...] = ()
    new_head_age: int | None = None
    movers_apply: bool = True  # the people moving (16 or over) apply themselves
    guardian_comes: bool = False  # a guardian from the origin household applies with those under 16
    everyone_in_person: bool = True
    absent_have_power_of_attorney: bool = False
    receiving_party: str = ""
    receiving_family_relation: str = ""
    householder_consents: bool = False


@dataclass(frozen=True)
class PrecheckResult:
    allowed: bool
    reasons: tuple[RuleViolation, ...]
    materials: tuple = field(default=())  # what to bring for the category, besides ID cards and the booklet


# The pre-check has no free-text explanation yet; the application form asks for it.
PRECHECK_RULES = tuple(r for r in RULES if r is not rule_other_grounds_explained)


def eligibility_precheck(answers: PrecheckAnswers, *, on: datetime.date | None = None) -> PrecheckResult:
    """Whether the move described in plain answers may be applied for, and if not, why not.

    Ages are the ages on the day of application as the citizen gives them, so `on` only matters for rules
    that would otherwise compute an age (none do here); it is accepted for symmetry with check_application.
    """
    on = on or datetime.date.min
    mover_kwargs = {
        "present": answers.everyone_in_person,
        "has_power_of_attorney": answers.absent_have_power_of_attorney,
        "guardian_present": answers.guardian_comes,
    }
    movers = []
    if answers.head_moves:
        movers.append(
            MovingPerson(
                name=_("The head of household"),
                age_years=answers.head_age,
                relation=Relation.HEAD,
                # The head of a whole household is the applicant by definition; otherwise as answered.
                is_applicant=answers.movers_apply or answers.category == Category.WHOLE_HOUSEHOLD,
                **mover_kwargs,
            )
        )
    for n, age in enumerate(answers.other_mover_ages, start=1):
        movers.append(
            MovingPerson(
                name=_("Person moving no. %(n)d") % {"n": n},
                age_years=age,
                relation=Relation.OTHER,
                is_applicant=answers.movers_apply,
                **mover_kwargs,
            )
        )
    staying = [
        StayingPerson(name=_("Person staying no. %(n)d") % {"n": n}, age_years=age, relation=Relation.OTHER)
        for n, age in enumerate(answers.staying_ages, start=1)
    ]
    if answers.new_head_age is not None:
        staying.append(
            StayingPerson(
                name=_("The new head of household"),
                age_years=answers.new_head_age,
                relation=Relation.OTHER,
                is_new_head=True,
            )
        )
    facts = MoveFacts(
        category=answers.category,
        grounds=answers.grounds,
        movers=tuple(movers),
        staying=tuple(staying),
        receiving=ReceivingSide(
            householder_named=True,  # the application form asks for the name and number
            party=answers.receiving_party,
            family_relation=answers.receiving_family_relation,
            has_consent=answers.householder_consents,
            present=answers.everyone_in_person,
            has_power_of_attorney=answers.absent_have_power_of_attorney,
        ),
    )
    if answers.category not in Category.values:
        reasons = [RuleViolation("category_missing", _("Choose the category of your move."))]
    else:
        reasons = [v for rule in PRECHECK_RULES for v in rule(facts, on)]
    return PrecheckResult(
        allowed=not reasons,
        reasons=tuple(reasons),
        materials=move_materials(answers.category, answers.grounds),
    )
