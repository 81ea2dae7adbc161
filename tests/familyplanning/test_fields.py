"""familyplanning.fields: the online form built from the field definitions, and its validation."""

import datetime
import random

import pytest
import time_machine
from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from familyplanning.fields import (
    FieldDef,
    FormDef,
    Kind,
    Section,
    build_form,
    form_data_from_answers,
    validate_answers,
)
from tests.factories import make_id_number

TODAY = datetime.date(2026, 11, 20)
ID = make_id_number(
    area="410105", birth=datetime.date(1990, 5, 17), sex="F", rng=random.Random(517)
)  # fixed: xdist workers must collect the same ids


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


def small_form(*extra, checks=()):
    return FormDef(
        service_key="probe_service",
        title=_("Probe"),
        version="9.9",
        date=datetime.date(2026, 1, 2),
        sections=(
            Section(
                _("Section"),
                (
                    FieldDef("applicant", _("Applicant"), Kind.PERSON),
                    FieldDef("mobile", _("Mobile phone"), Kind.MOBILE),
                    FieldDef("born", _("Date of birth"), Kind.DATE, not_future=True),
                    FieldDef("planned", _("Planned date"), Kind.DATE, required=False),
                    FieldDef("count", _("Count"), Kind.INTEGER, max_value=5),
                    FieldDef("agree", _("Agree?"), Kind.YES_NO),
                    FieldDef("colour", _("Colour"), Kind.CHOICE, choices=(("red", _("Red")), ("blue", _("Blue")))),
                    FieldDef(
                        "tags",
                        _("Tags"),
                        Kind.CHOICE,
                        multiple=True,
                        required=False,
                        choices=(("a", _("A")), ("b", _("B"))),
                    ),
                    FieldDef("note", _("Note"), Kind.TEXTAREA, required=False, max_length=10),
                    *extra,
                ),
            ),
        ),
        checks=checks,
    )


def valid_data(**overrides):
    data = {
        "applicant_name": "王小明",
        "applicant_id_number": ID.lower()[:-4] + " " + ID[-4:].lower(),
        "mobile": "138 0013 8000",
        "born": "1990-05-17",
        "planned": "2027-03-01",
        "count": "2",
        "agree": "yes",
        "colour": "red",
        "tags": ["a", "b"],
        "note": "ok",
    }
    data.update(overrides)
    return data


def test_one_form_field_per_definition_and_two_for_a_person():
    form = build_form(small_form())()
    assert list(form.fields) == [
        "applicant_name",
        "applicant_id_number",
        "mobile",
        "born",
        "planned",
        "count",
        "agree",
        "colour",
        "tags",
        "note",
    ]
    assert str(form.fields["applicant_id_number"].label) == "Applicant – Resident ID number"
    assert isinstance(form.fields["born"], forms.DateField)
    assert isinstance(form.fields["tags"], forms.MultipleChoiceField)
    assert form.fields["planned"].required is False


def test_valid_answers_are_normalised_and_serialisable():
    form = build_form(small_form())(data=valid_data())
    assert form.is_valid(), form.errors
    answers = form.answers()
    assert answers["applicant"] == {"name": "王小明", "id_number": ID}
    assert answers["mobile"] == "+8613800138000"
    assert answers["born"] == "1990-05-17"
    assert answers["agree"] is True
    assert answers["tags"] == ["a", "b"]
    # Stored answers bind the same form again (drafts, re-checks).
    again = build_form(small_form())(data=form_data_from_answers(small_form(), answers))
    assert again.is_valid(), again.errors
    assert again.answers() == answers


@pytest.mark.parametrize(
    "raw, message",
    [
        (ID[:-1] + ("0" if ID[-1] != "0" else "1"), "The last character does not match the rest of the number."),
        ("41010519900517123", "A resident ID number has 18 characters; you entered 17."),
        ("410105900517123", "This is an old 15-digit ID number"),
        ("990105199005171234", "The first two digits (99) are not a province code."),
    ],
)
def test_id_numbers_are_checked_with_the_specific_message(raw, message):
    form = build_form(small_form())(data=valid_data(applicant_id_number=raw))
    assert not form.is_valid()
    assert message in " ".join(form.errors["applicant_id_number"])


@pytest.mark.parametrize(
    "raw, message",
    [
        ("010 6552 9988", "This is a landline number; enter a mobile number that can receive SMS."),
        ("+1 202 555 0143", "Enter a mainland China mobile number (+86)."),
        ("12345", "This is not a valid mainland China phone number."),
    ],
)
def test_mobiles_are_checked_with_the_specific_message(raw, message):
    form = build_form(small_form())(data=valid_data(mobile=raw))
    assert not form.is_valid()
    assert form.errors["mobile"] == [message]


def test_a_date_marked_not_future_refuses_tomorrow_but_not_today():
    form_class = build_form(small_form())
    assert build_form(small_form())(data=valid_data(born="2026-11-20")).is_valid()
    form = form_class(data=valid_data(born="2026-11-21"))
    assert not form.is_valid()
    assert form.errors["born"] == ["This date is in the future."]
    # A date not so marked may be in the future.
    assert "planned" not in form.errors


def test_integer_bounds_choices_and_lengths():
    form = build_form(small_form())(data=valid_data(count="6", colour="green", note="x" * 11, agree=""))
    assert not form.is_valid()
    assert set(form.errors) == {"count", "colour", "note", "agree"}
    form = build_form(small_form())(data=valid_data(count="-1"))
    assert not form.is_valid() and "count" in form.errors


def test_a_person_is_given_whole_or_not_at_all():
    optional = FieldDef("witness", _("Witness"), Kind.PERSON, required=False)
    form_class = build_form(small_form(optional))
    assert form_class(data=valid_data()).is_valid()
    form = form_class(data=valid_data(witness_name="李四"))
    assert not form.is_valid()
    assert form.errors["witness_id_number"] == ["Enter this person's resident ID number too."]
    form = form_class(data=valid_data(witness_id_number=ID))
    assert form.errors["witness_name"] == ["Enter this person's name too."]


def test_cross_field_checks_run_on_otherwise_valid_data():
    def no_blue(cleaned):
        return {"colour": "No blue on Fridays."} if cleaned.get("colour") == "blue" else {}

    form_class = build_form(small_form(checks=(no_blue,)))
    assert form_class(data=valid_data()).is_valid()
    form = form_class(data=valid_data(colour="blue"))
    assert form.errors["colour"] == ["No blue on Fridays."]


def test_adding_a_field_definition_adds_the_form_field():
    before = small_form()
    after = before.adding(FieldDef("employer", _("Employer"), Kind.TEXT, max_length=50))
    assert "employer" not in build_form(before)().fields
    field = build_form(after)().fields["employer"]
    assert str(field.label) == "Employer" and field.max_length == 50 and field.required
    assert not build_form(after)(data=valid_data()).is_valid()
    assert build_form(after)(data=valid_data(employer="河南省人民医院")).is_valid()


def test_validate_answers_complete_and_partial():
    form_def = small_form()
    with pytest.raises(ValidationError) as raised:
        validate_answers(form_def, {"mobile": "+8613800138000"})
    assert "born" in raised.value.message_dict
    # A draft: missing answers are fine, but what is given must be valid.
    assert validate_answers(form_def, {"mobile": "13800138000"}, partial=True)["mobile"] == "+8613800138000"
    with pytest.raises(ValidationError) as raised:
        validate_answers(form_def, {"mobile": "010 6552 9988"}, partial=True)
    assert list(raised.value.message_dict) == ["mobile"]


def test_definitions_refuse_mistakes():
    with pytest.raises(ValueError, match="needs choices"):
        FieldDef("colour", _("Colour"), Kind.CHOICE)
    with pytest.raises(ValueError, match="unknown kind"):
        FieldDef("colour", _("Colour"), "colour")
    with pytest.raises(ValueError, match="share a name"):
        small_form(FieldDef("mobile", _("Mobile again")))
    with pytest.raises(ValueError, match="share a name"):
        small_form(FieldDef("applicant_name", _("Clashes with the person's name field")))
