"""Every required field left empty names what is missing, in both languages (portal.formmessages), and phone
numbers read as people write them (accounts.phone.display_mobile)."""

import inspect

import pytest
from django import forms
from django.utils import translation

import accounts.forms
import certificates.forms
import familyplanning.forms
import portal.forms
import portal.verify.forms
from accounts.phone import display_mobile
from familyplanning import catalogue
from familyplanning.forms import answers_form_class
from portal.formmessages import GENERIC_REQUIRED, RequiredMessagesMixin, give_required_messages

pytestmark = pytest.mark.django_db

LANGUAGES = ("zh-hans", "en")


class Sample(RequiredMessagesMixin, forms.Form):
    real_name = forms.CharField(label="Real name")
    office = forms.ChoiceField(label="Police station", choices=[("1", "A")])
    pregnant = forms.ChoiceField(label="Is the wife pregnant now?", choices=[("yes", "Yes")])
    photo = forms.FileField(label="Colour photo")
    agree = forms.BooleanField(label="I agree")
    id_number = forms.CharField(label="ID number")
    own = forms.CharField(label="Own", error_messages={"required": "Say who you are."})


def errors_of(form_class, **kwargs):
    form = form_class(data={}, **kwargs)
    form.is_valid()
    return {name: list(messages) for name, messages in form.errors.items()}


def test_each_kind_of_field_names_what_is_missing_in_both_languages():
    with translation.override("en"):
        errors = errors_of(Sample)
        assert errors["real_name"] == ["Enter real name"]
        assert errors["office"] == ["Choose police station"]
        assert errors["pregnant"] == ["Answer the question “is the wife pregnant now?”"]
        assert errors["photo"] == ["Upload colour photo"]
        assert errors["agree"] == ["Tick “I agree” to go on"]
        assert errors["id_number"] == ["Enter ID number"]  # an abbreviation keeps its capitals
        assert errors["own"] == ["Say who you are."]  # a message the form sets itself is kept
    with translation.override("zh-hans"):
        errors = errors_of(Sample)
        assert errors["real_name"] == ["请输入real name"] and errors["office"] == ["请选择police station"]


def test_the_message_is_worded_in_the_language_of_the_request_that_shows_it():
    with translation.override("zh-hans"):
        form = accounts.forms.RegistrationForm(data={})
    with translation.override("en"):
        assert form.errors["id_number"] == ["Enter resident ID number"]
    with translation.override("zh-hans"):
        assert str(form.fields["id_number"].error_messages["required"]) == "请输入居民身份证号码"


def test_registration_asks_for_your_real_name_as_gov_uk_would():
    with translation.override("zh-hans"):
        assert errors_of(accounts.forms.RegistrationForm)["real_name"] == ["请输入您的真实姓名"]
    with translation.override("en"):
        assert errors_of(accounts.forms.RegistrationForm)["real_name"] == ["Enter your real name"]


@pytest.mark.parametrize("key", sorted(catalogue.SERVICES))
def test_no_family_planning_form_says_only_that_a_field_is_required(key):
    form_class = answers_form_class(catalogue.get_service(key).form)
    for language in LANGUAGES:
        with translation.override(language):
            errors = errors_of(form_class)
            assert errors, key
            generic = str(GENERIC_REQUIRED)
            assert not [name for name, messages in errors.items() if generic in messages], (key, language)


def test_a_person_is_named_in_the_message_for_each_part_missing():
    form_class = answers_form_class(catalogue.get_service("birth_registration").form)
    with translation.override("zh-hans"):
        errors = errors_of(form_class)
        assert errors["wife_name"] == ["请输入女方的姓名"]
        assert errors["husband_id_number"] == ["请输入男方的居民身份证号码"]
    with translation.override("en"):
        assert errors_of(form_class)["wife_name"] == ["Wife: enter the name"]


def _simple_forms():
    """The citizen forms of these modules that can be made from data alone."""
    for module in (accounts.forms, certificates.forms, familyplanning.forms, portal.forms, portal.verify.forms):
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                yield cls


def test_every_citizen_form_of_the_shared_modules_uses_the_mechanism():
    found = list(_simple_forms())
    assert len(found) > 10
    missing = [cls.__qualname__ for cls in found if not issubclass(cls, RequiredMessagesMixin)]
    assert missing == []


def test_give_required_messages_keeps_a_field_without_a_label_alone():
    class Unlabelled(forms.Form):
        x = forms.CharField(label="")

    form = Unlabelled(data={})
    give_required_messages(form)
    with translation.override("en"):
        assert not form.is_valid() and form.errors["x"] == [str(GENERIC_REQUIRED)]


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+8613812345679", "138 1234 5679"),
        ("+85291234567", "+852 9123 4567"),
        ("", ""),
        ("not a number", "not a number"),
    ],
)
def test_a_mobile_number_reads_in_groups(stored, shown):
    assert display_mobile(stored) == shown
