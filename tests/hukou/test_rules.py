"""The eligibility rules of one-stop migration, each both ways, with ages on the day of application."""

import datetime

import pytest

from hukou import rules
from hukou.constants import Category, Grounds, ReceivingParty, Relation
from hukou.rules import MoveFacts, MovingPerson, PrecheckAnswers, ReceivingSide, StayingPerson
from tests.factories import identities

# The synthetic minor pinned in tests/data/make_identities.py: born 2014-06-01, 16 on 2030-06-01.
XIAOMING = next(p for p in identities()["valid"] if p["id_number"] == "410105201406010319")
XIAOMING_BIRTH = datetime.date.fromisoformat(XIAOMING["birth_date"])
DAY_BEFORE_16 = datetime.date(2030, 5, 31)
SIXTEENTH_BIRTHDAY = datetime.date(2030, 6, 1)
TODAY = datetime.date(2026, 11, 24)


def adult(name="张三", relation=Relation.SPOUSE, **kw):
    return MovingPerson(name=name, birth_date=datetime.date(1980, 3, 1), relation=relation, **kw)


def head(**kw):
    return adult(name="王芳", relation=Relation.HEAD, **kw)


def child(name="王小明", birth=XIAOMING_BIRTH, **kw):
    return MovingPerson(name=name, birth_date=birth, relation=Relation.CHILD, **kw)


def stays(name="李四", birth=datetime.date(1975, 1, 1), **kw):
    return StayingPerson(name=name, birth_date=birth, relation=Relation.SPOUSE, **kw)


def codes(violations):
    return [v.code for v in violations]


def test_xiaoming_is_the_synthetic_minor_from_the_test_data():
    assert XIAOMING["name"] == "王小明"
    assert XIAOMING_BIRTH == datetime.date(2014, 6, 1)


# --- whole household: the head is 16 or over -------------------------------------------------------


def test_whole_household_head_who_turns_16_tomorrow_is_refused():
    facts = MoveFacts(
        Category.WHOLE_HOUSEHOLD,
        movers=(
            MovingPerson(
                name="王小明",
                birth_date=XIAOMING_BIRTH,
                relation=Relation.HEAD,
                is_applicant=True,
                guardian_present=True,
            ),
        ),
    )
    violations = rules.check_facts(facts, on=DAY_BEFORE_16)
    assert codes(violations) == ["whole_household_head_under_16"]
    assert "王小明" in violations[0].message and "15" in violations[0].message


def test_whole_household_head_on_the_16th_birthday_is_allowed():
    facts = MoveFacts(
        Category.WHOLE_HOUSEHOLD,
        movers=(MovingPerson(name="王小明", birth_date=XIAOMING_BIRTH, relation=Relation.HEAD, is_applicant=True),),
    )
    assert rules.check_facts(facts, on=SIXTEENTH_BIRTHDAY) == []


def test_whole_household_needs_the_head_among_the_movers_and_as_the_applicant():
    no_head = MoveFacts(Category.WHOLE_HOUSEHOLD, movers=(adult(is_applicant=True),))
    assert codes(rules.rule_whole_household_head(no_head, TODAY)) == ["whole_household_head_missing"]
    head_not_applying = MoveFacts(Category.WHOLE_HOUSEHOLD, movers=(head(), adult(is_applicant=True)))
    assert codes(rules.rule_whole_household_head(head_not_applying, TODAY)) == ["whole_household_head_applies"]
    fine = MoveFacts(Category.WHOLE_HOUSEHOLD, movers=(head(is_applicant=True), adult()))
    assert rules.check_facts(fine, on=TODAY) == []


def test_whole_household_leaves_nobody_behind():
    facts = MoveFacts(Category.WHOLE_HOUSEHOLD, movers=(head(is_applicant=True),), staying=(stays(),))
    assert codes(rules.check_facts(facts, on=TODAY)) == ["whole_household_members_stay"]


# --- minors move with the guardian ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "guardian", "expected"),
    [
        (DAY_BEFORE_16, False, ["minor_without_guardian"]),  # turns 16 tomorrow: still 15
        (DAY_BEFORE_16, True, []),
        (SIXTEENTH_BIRTHDAY, False, []),  # 16 today: moves without a guardian
    ],
)
def test_a_mover_under_16_needs_the_guardian(on, guardian, expected):
    facts = MoveFacts(
        Category.PART_HOUSEHOLD, movers=(child(is_applicant=True, guardian_present=guardian),), staying=(stays(),)
    )
    assert codes(rules.check_facts(facts, on=on)) == expected


def test_xiaoming_today_is_a_minor():
    facts = MoveFacts(Category.PART_HOUSEHOLD, movers=(child(is_applicant=True),), staying=(stays(),))
    [violation] = rules.check_facts(facts, on=TODAY)
    assert violation.code == "minor_without_guardian"
    assert "王小明" in violation.message and "12" in violation.message


# --- joining relatives ----------------------------------------------------------------------------------


def join(receiving, movers=None):
    return MoveFacts(
        Category.PART_HOUSEHOLD,
        grounds=Grounds.JOIN_RELATIVES,
        movers=movers or (adult(is_applicant=True),),
        receiving=receiving,
    )


def test_joining_relatives_with_the_receiving_householder_applying_is_allowed():
    facts = join(ReceivingSide(householder_named=True, party=ReceivingParty.HOUSEHOLDER))
    assert rules.check_facts(facts, on=TODAY) == []


def test_joining_relatives_without_the_receiving_side_is_refused():
    assert codes(rules.check_facts(join(ReceivingSide(householder_named=True)), on=TODAY)) == [
        "join_relatives_receiving_party_missing"
    ]
    assert codes(rules.check_facts(join(None), on=TODAY)) == [
        "join_relatives_householder_missing",
        "join_relatives_receiving_party_missing",
    ]


def test_joining_relatives_needs_the_mover_to_apply_too():
    facts = join(ReceivingSide(householder_named=True, party=ReceivingParty.HOUSEHOLDER), movers=(adult(),))
    assert codes(rules.check_facts(facts, on=TODAY)) == ["no_applicant"]


def test_joining_relatives_by_an_immediate_family_member_needs_the_householders_consent():
    member = {"householder_named": True, "party": ReceivingParty.FAMILY_MEMBER, "family_relation": Relation.SPOUSE}
    assert codes(rules.check_facts(join(ReceivingSide(**member)), on=TODAY)) == ["join_relatives_consent_missing"]
    assert rules.check_facts(join(ReceivingSide(**member, has_consent=True)), on=TODAY) == []


def test_joining_relatives_by_someone_not_immediate_family_is_refused_even_with_consent():
    facts = join(
        ReceivingSide(
            householder_named=True,
            party=ReceivingParty.FAMILY_MEMBER,
            family_relation=Relation.SIBLING,
            has_consent=True,
        )
    )
    assert codes(rules.check_facts(facts, on=TODAY)) == ["join_relatives_not_immediate_family"]


def test_an_absent_receiving_party_needs_a_power_of_attorney():
    absent = {"householder_named": True, "party": ReceivingParty.HOUSEHOLDER, "present": False}
    assert codes(rules.check_facts(join(ReceivingSide(**absent)), on=TODAY)) == [
        "receiving_absent_without_power_of_attorney"
    ]
    assert rules.check_facts(join(ReceivingSide(**absent, has_power_of_attorney=True)), on=TODAY) == []


# --- the household left behind --------------------------------------------------------------------------


def test_origin_household_left_with_only_a_child_who_turns_16_tomorrow_is_refused():
    facts = MoveFacts(
        Category.PART_HOUSEHOLD,
        movers=(adult(name="王芳", is_applicant=True),),
        staying=(StayingPerson(name="王小明", birth_date=XIAOMING_BIRTH, relation=Relation.CHILD),),
    )
    assert codes(rules.check_facts(facts, on=DAY_BEFORE_16)) == ["origin_left_with_minors"]
    assert rules.check_facts(facts, on=SIXTEENTH_BIRTHDAY) == []


def test_origin_household_with_an_adult_staying_beside_children_is_allowed():
    facts = MoveFacts(
        Category.PART_HOUSEHOLD,
        movers=(adult(is_applicant=True),),
        staying=(stays(name="王小明", birth=XIAOMING_BIRTH), stays(name="李四")),
    )
    assert rules.check_facts(facts, on=TODAY) == []


def test_origin_household_message_counts_the_children_left():
    facts = MoveFacts(
        Category.PART_HOUSEHOLD,
        movers=(adult(is_applicant=True),),
        staying=(stays(birth=datetime.date(2015, 1, 1)), stays(birth=datetime.date(2018, 1, 1))),
    )
    [violation] = rules.rule_origin_not_only_minors(facts, TODAY)
    assert "2" in violation.message


def test_head_moving_out_with_others_staying_needs_a_new_head():
    facts = MoveFacts(Category.PART_HOUSEHOLD, movers=(head(is_applicant=True),), staying=(stays(),))
    assert codes(rules.check_facts(facts, on=TODAY)) == ["new_head_missing"]
    named = MoveFacts(Category.PART_HOUSEHOLD, movers=(head(is_applicant=True),), staying=(stays(is_new_head=True),))
    assert rules.check_facts(named, on=TODAY) == []


def test_no_new_head_needed_when_the_head_stays():
    facts = MoveFacts(Category.PART_HOUSEHOLD, movers=(adult(is_applicant=True),), staying=(stays(),))
    assert rules.rule_new_head(facts, TODAY) == []


@pytest.mark.parametrize(("on", "expected"), [(DAY_BEFORE_16, ["new_head_under_16"]), (SIXTEENTH_BIRTHDAY, [])])
def test_new_head_must_be_16_on_the_day(on, expected):
    facts = MoveFacts(
        Category.PART_HOUSEHOLD,
        movers=(head(is_applicant=True),),
        staying=(
            StayingPerson(name="王小明", birth_date=XIAOMING_BIRTH, relation=Relation.CHILD, is_new_head=True),
            stays(birth=datetime.date(1950, 1, 1)),
        ),
    )
    assert codes(rules.check_facts(facts, on=on)) == expected


def test_only_one_new_head():
    facts = MoveFacts(
        Category.PART_HOUSEHOLD,
        movers=(head(is_applicant=True),),
        staying=(stays(is_new_head=True), stays(name="赵敏", is_new_head=True)),
    )
    assert codes(rules.rule_new_head(facts, TODAY)) == ["new_head_ambiguous"]


# --- absent parties, collective households, other grounds -----------------------------------------------


def test_an_absent_mover_needs_a_power_of_attorney():
    absent = MoveFacts(
        Category.PART_HOUSEHOLD,
        grounds=Grounds.EMPLOYMENT,
        movers=(adult(is_applicant=True), adult(name="赵敏", present=False)),
    )
    [violation] = rules.check_facts(absent, on=TODAY)
    assert violation.code == "absent_without_power_of_attorney" and "赵敏" in violation.message
    authorised = MoveFacts(
        Category.PART_HOUSEHOLD,
        grounds=Grounds.EMPLOYMENT,
        movers=(adult(is_applicant=True), adult(name="赵敏", present=False, has_power_of_attorney=True)),
    )
    assert rules.check_facts(authorised, on=TODAY) == []


def test_into_a_collective_household_each_adult_mover_applies_themself():
    refused = MoveFacts(Category.COLLECTIVE, movers=(adult(name="陈静"),))
    assert codes(rules.check_facts(refused, on=TODAY)) == ["no_applicant", "collective_mover_applies"]
    two = MoveFacts(Category.COLLECTIVE, movers=(adult(name="陈静", is_applicant=True), adult(name="赵敏")))
    [violation] = rules.check_facts(two, on=TODAY)
    assert violation.code == "collective_mover_applies" and "赵敏" in violation.message
    assert rules.check_facts(MoveFacts(Category.COLLECTIVE, movers=(adult(is_applicant=True),)), on=TODAY) == []


def test_other_settlement_grounds_need_an_explanation():
    facts = MoveFacts(Category.PART_HOUSEHOLD, grounds=Grounds.OTHER, movers=(adult(is_applicant=True),))
    assert codes(rules.check_facts(facts, on=TODAY)) == ["other_grounds_unexplained"]
    explained = MoveFacts(
        Category.PART_HOUSEHOLD,
        grounds=Grounds.OTHER,
        movers=(adult(is_applicant=True),),
        category_explanation="退役安置",
    )
    assert rules.check_facts(explained, on=TODAY) == []


def test_nobody_moving_and_unknown_category_and_unknown_age():
    assert codes(rules.check_facts(MoveFacts(Category.PART_HOUSEHOLD, grounds=Grounds.EMPLOYMENT), on=TODAY)) == [
        "no_movers"
    ]
    assert codes(rules.check_facts(MoveFacts(""), on=TODAY)) == ["category_missing"]
    facts = MoveFacts(
        Category.PART_HOUSEHOLD, movers=(adult(is_applicant=True),), staying=(StayingPerson(name="某人"),)
    )
    assert codes(rules.check_facts(facts, on=TODAY)) == ["age_unknown"]


def test_messages_follow_the_active_language():
    from django.utils import translation

    facts = MoveFacts(Category.PART_HOUSEHOLD, movers=(child(is_applicant=True),), staying=(stays(),))
    with translation.override("en"):
        [violation] = rules.check_facts(facts, on=TODAY)
    assert str(violation) == violation.message
    assert "under 16" in violation.message


# --- the pre-check -----------------------------------------------------------------------------------------


def test_precheck_allows_a_plain_part_household_move_and_lists_materials():
    result = rules.eligibility_precheck(
        PrecheckAnswers(Category.PART_HOUSEHOLD, other_mover_ages=(30,), staying_ages=(60,))
    )
    assert result.allowed and result.reasons == ()
    assert result.materials


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            PrecheckAnswers(Category.WHOLE_HOUSEHOLD, head_moves=True, head_age=15, guardian_comes=True),
            ["whole_household_head_under_16"],
        ),
        (PrecheckAnswers(Category.WHOLE_HOUSEHOLD, head_moves=True, head_age=16), []),
        (
            PrecheckAnswers(Category.PART_HOUSEHOLD, other_mover_ages=(12,), staying_ages=(40,)),
            ["minor_without_guardian"],
        ),
        (PrecheckAnswers(Category.PART_HOUSEHOLD, other_mover_ages=(12,), staying_ages=(40,), guardian_comes=True), []),
        (
            PrecheckAnswers(Category.PART_HOUSEHOLD, other_mover_ages=(40,), staying_ages=(10, 15)),
            ["origin_left_with_minors"],
        ),
        (
            PrecheckAnswers(Category.PART_HOUSEHOLD, head_moves=True, head_age=40, staying_ages=(10,)),
            ["origin_left_with_minors", "new_head_missing"],
        ),
        (
            PrecheckAnswers(Category.PART_HOUSEHOLD, head_moves=True, head_age=40, staying_ages=(10,), new_head_age=15),
            ["origin_left_with_minors", "new_head_under_16"],
        ),
        (
            PrecheckAnswers(Category.PART_HOUSEHOLD, head_moves=True, head_age=40, staying_ages=(10,), new_head_age=16),
            [],
        ),
        (
            PrecheckAnswers(Category.PART_HOUSEHOLD, grounds=Grounds.JOIN_RELATIVES, other_mover_ages=(70,)),
            ["join_relatives_receiving_party_missing"],
        ),
        (
            PrecheckAnswers(
                Category.PART_HOUSEHOLD,
                grounds=Grounds.JOIN_RELATIVES,
                other_mover_ages=(70,),
                receiving_party=ReceivingParty.FAMILY_MEMBER,
                receiving_family_relation=Relation.CHILD,
                householder_consents=True,
            ),
            [],
        ),
        (
            PrecheckAnswers(
                Category.PART_HOUSEHOLD, grounds=Grounds.EMPLOYMENT, other_mover_ages=(30,), everyone_in_person=False
            ),
            ["absent_without_power_of_attorney"],
        ),
        (
            PrecheckAnswers(
                Category.PART_HOUSEHOLD,
                grounds=Grounds.EMPLOYMENT,
                other_mover_ages=(30,),
                everyone_in_person=False,
                absent_have_power_of_attorney=True,
            ),
            [],
        ),
        (
            PrecheckAnswers(Category.COLLECTIVE, other_mover_ages=(22,), movers_apply=False),
            ["no_applicant", "collective_mover_applies"],
        ),
        (
            PrecheckAnswers(Category.PART_HOUSEHOLD, grounds=Grounds.OTHER, other_mover_ages=(30,)),
            [],
        ),  # the explanation is asked for on the form
        (PrecheckAnswers(""), ["category_missing"]),
    ],
)
def test_precheck_answers_in_plain_words(answers, expected):
    result = rules.eligibility_precheck(answers)
    assert codes(result.reasons) == expected
    assert result.allowed is (expected == [])
    assert all(v.message for v in result.reasons)


def test_a_collective_household_is_not_joined_as_relatives():
    facts = MoveFacts(Category.COLLECTIVE, grounds=Grounds.JOIN_RELATIVES, movers=(adult(is_applicant=True),))
    assert "grounds_not_for_category" in codes(rules.check_facts(facts, on=TODAY))
    facts = MoveFacts(Category.COLLECTIVE, grounds=Grounds.STUDY, movers=(adult(is_applicant=True),))
    assert "grounds_not_for_category" not in codes(rules.check_facts(facts, on=TODAY))
