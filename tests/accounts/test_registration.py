"""Registration: the ID number, mobile and uniqueness rules, what the user typed is kept, what is queued."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import idnumber
from accounts.forms import RegistrationForm
from accounts.models import User
from portal.notify.models import Channel, OutboxMessage
from tests.factories import UserFactory, identities

from .conftest import registration_data

pytestmark = pytest.mark.django_db

IDS = identities()


@pytest.mark.parametrize("person", IDS["valid"], ids=lambda p: p["id_number"])
def test_every_valid_identity_is_accepted(person):
    data = registration_data(
        real_name=person["name"],
        id_number=person["id_number"],
        mobile=person["mobile"] or "+8613800000000",
        email=person["email"] or "child@example.test",
    )
    form = RegistrationForm(data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["id_number"] == person["id_number"]


@pytest.mark.parametrize("person", IDS["invalid"], ids=lambda p: p["why"])
def test_every_invalid_identity_is_refused_with_its_specific_message(person):
    with pytest.raises(ValidationError) as expected:
        idnumber.parse(person["id_number"])
    form = RegistrationForm(registration_data(id_number=person["id_number"]))
    assert not form.is_valid()
    assert form.errors["id_number"] == expected.value.messages


def test_specific_messages_differ_by_reason():
    messages = {
        p["why"]: RegistrationForm(registration_data(id_number=p["id_number"])).errors["id_number"][0]
        for p in IDS["invalid"]
    }
    assert "15-digit" in messages["old 15-digit number"]
    assert "future" in messages["birth date in the future"]
    assert "last character" in messages["wrong check character (should be X)"]
    assert "17" in messages["17 characters"]
    assert "99" in messages["no province 99"]
    assert len(set(messages.values())) >= 5


@pytest.mark.parametrize("mobile", IDS["mobiles_invalid"])
def test_invalid_mobiles_are_refused(mobile):
    form = RegistrationForm(registration_data(mobile=mobile))
    assert not form.is_valid()
    assert "mobile" in form.errors


@pytest.mark.parametrize(
    "typed",
    ["41140219840721363x", "４１１４０２１９８４０７２１３６３Ｘ", "411402 19840721 363X", " 41140219840721363x "],
)
def test_id_number_lower_case_full_width_and_spaces_are_normalised(typed):
    form = RegistrationForm(registration_data(id_number=typed))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["id_number"] == "41140219840721363X"


def test_county_table_warning_never_blocks():
    assert idnumber.parse("410105196507196913").warnings  # python-stdnum would reject it
    form = RegistrationForm(registration_data(id_number="410105196507196913"))
    assert form.is_valid(), form.errors


def test_mobile_is_stored_in_e164(client):
    client.post(reverse("accounts:register"), registration_data(mobile="166 9281 6317"))
    assert User.objects.get(username="wangfang").mobile == "+8616692816317"


def test_registration_logs_in_queues_both_confirmations_and_explains(client):
    response = client.post(reverse("accounts:register"), registration_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:welcome")
    user = User.objects.get(username="wangfang")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert user.sex == "M" and str(user.birth_date) == "1965-07-19"  # derived, never typed
    assert user.email_confirmed_at is None and user.mobile_confirmed_at is None
    assert user.data_consent_at is not None
    messages = OutboxMessage.objects.filter(user=user)
    assert {(m.channel, m.template, m.to) for m in messages} == {
        (Channel.EMAIL, "accounts/confirm_email", "citizen00@example.test"),
        (Channel.SMS, "accounts/mobile_code", "+8616692816317"),
    }
    page = client.get(response["Location"]).content.decode()
    assert "citizen00@example.test" in page
    assert user.masked_mobile in page and user.mobile not in page
    assert 'autocomplete="one-time-code"' in page


def test_errors_keep_what_was_typed_but_not_the_passwords(client):
    data = registration_data(id_number="410105199003071230", email="Typed.Address@example.test")
    response = client.post(reverse("accounts:register"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="王芳"' in html
    assert 'value="Typed.Address@example.test"' in html
    assert 'value="410105199003071230"' in html
    assert 'value="wangfang"' in html
    assert "Zhengzhou-Spring-2026" not in html
    # An error summary at the top, linking to the field.
    assert 'role="alert"' in html and 'href="#id_id_number"' in html
    assert not User.objects.exists()


def test_a_number_held_by_a_verified_account_is_refused_without_saying_whose(client):
    owner = UserFactory(
        id_number="410105196507196913", real_name="李四", email="owner@example.test", username="holder-of-it"
    )
    response = client.post(reverse("accounts:register"), registration_data(id_number="410105196507196913"))
    errors = response.context["form"].errors
    assert errors["id_number"] == [
        "An account already exists for this ID number, and its holder's identity has been verified. If it is your "
        "account, log in or reset your password. If it is not, take your resident ID card to any police station to "
        "dispute it."
    ]
    html = response.content.decode()
    assert owner.username not in html and "owner@example.test" not in html and "李四" not in html


def test_duplicate_email_and_username_are_case_insensitive(client):
    UserFactory(email="Someone@Example.test", username="WangFang")
    response = client.post(
        reverse("accounts:register"), registration_data(email="someone@example.TEST", username="wangfang")
    )
    errors = response.context["form"].errors
    assert "already registered" in errors["email"][0]
    assert "taken" in errors["username"][0]


def test_password_twice_and_validators_and_consent(client):
    form = RegistrationForm(registration_data(password2="something-else-42"))
    assert "password2" in form.errors
    form = RegistrationForm(registration_data(password1="12345678", password2="12345678"))
    assert "password1" in form.errors
    data = registration_data()
    del data["consent"]
    form = RegistrationForm(data)
    assert "consent" in form.errors


def test_logged_in_user_is_sent_to_the_profile(client, citizen):
    client.force_login(citizen)
    assert client.get(reverse("accounts:register"))["Location"] == reverse("accounts:profile")


def test_form_has_accessible_autocomplete_attributes(client):
    html = client.get(reverse("accounts:register")).content.decode()
    for attr in (
        'autocomplete="name"',
        'autocomplete="tel"',
        'autocomplete="email"',
        'autocomplete="username"',
        'autocomplete="new-password"',
        'inputmode="tel"',
    ):
        assert attr in html
    assert 'for="id_real_name"' in html and 'for="id_consent"' in html


# --- what a mobile number may be typed with ------------------------------------------------------------

LETTER_MOBILES = {
    "letter_o_for_zero": ("139 1236 OOO6", "“O” is not a digit"),
    "lower_case_l_for_one": ("l39 1236 0006", "“l” is not a digit"),
    "extension": ("13912360006 ext 5", "“e” is not a digit"),
    "tel_prefix": ("tel:13912360006", "“t” is not a digit"),
    "full_width_letter_o": ("139 1236 ＯＯＯ6", "“O” is not a digit"),
    "roman_numeral_one": ("1391236ⅠⅠⅠ6", "“I” is not a digit"),
}


@pytest.mark.parametrize("typed,message", LETTER_MOBILES.values(), ids=LETTER_MOBILES.keys())
def test_letters_in_a_mobile_number_are_refused_not_read_as_keypad_digits(client, typed, message):
    response = client.post(reverse("accounts:register"), registration_data(mobile=typed))
    assert response.status_code == 200
    (error,) = response.context["form"].errors["mobile"]
    assert message in error and "digits only" in error
    assert not User.objects.exists()


OTHER_CHARACTERS = {
    "dots": ("139.1236.0006", "“.”"),
    "slash": ("139/1236/0006", "“/”"),
    "arabic_indic_digits": ("١٣٩١٢٣٦٠٠٠٦", "“١”"),
    "second_plus": ("+86+13912360006", "“+”"),
    "star": ("*13912360006", "“*”"),
}


@pytest.mark.parametrize("typed,shown", OTHER_CHARACTERS.values(), ids=OTHER_CHARACTERS.keys())
def test_other_characters_in_a_mobile_number_are_refused(typed, shown):
    form = RegistrationForm(registration_data(mobile=typed))
    assert not form.is_valid()
    (error,) = form.errors["mobile"]
    assert shown in error and "only digits, spaces, hyphens, brackets" in error


@pytest.mark.parametrize(
    "typed",
    [
        "１３９１２３６０００６",
        "+86 (139) 1236-0006",
        "139 1236 0006",
        "\u3000139\u30001236\u30000006",
        "（139）1236－0006",
    ],
)
def test_full_width_digits_and_usual_punctuation_are_accepted(typed):
    form = RegistrationForm(registration_data(mobile=typed))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["mobile"] == "+8613912360006"


def test_letter_in_a_mobile_number_is_explained_in_chinese(client):
    client.cookies["portal_language"] = "zh-hans"
    response = client.post(reverse("accounts:register"), registration_data(mobile="139 1236 OOO6"))
    assert "“O”不是数字" in response.content.decode()


def test_letters_in_a_new_mobile_on_the_profile_are_refused(client, citizen):
    client.force_login(citizen)
    data = {"email": citizen.email, "language": "en", "current_password": "Correct-Horse-42", "mobile": "139 1236 OOO6"}
    response = client.post(reverse("accounts:profile"), data)
    assert "“O” is not a digit" in response.context["form"].errors["mobile"][0]
    citizen.refresh_from_db()
    assert citizen.mobile != "+8613912366666"
