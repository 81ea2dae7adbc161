"""Bad identity input at registration and in an agent's application: every trick refused or normalised, never a crash.

One identity can hold one account, and the criminal-record register is matched on the exact stored number, so
every spelling of a number (full-width, other scripts' digits, lower-case x, spaces, invisible marks) must come
out as the same ASCII string, and anything else must be refused with a message that says what is wrong.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from stdnum.cn import ric

from accounts.models import User
from certificates import services
from certificates.models import Application, CriminalRecord, HolderIdType
from tests.factories import StaffFactory, UserFactory, make_id_number

pytestmark = pytest.mark.django_db

VALID = "410105196507196913"  # a synthetic Zhengzhou number (tests/data/identities.json)
REGISTER = "/accounts/register/"


def with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def registration(**overrides):
    data = {
        "real_name": "王芳",
        "id_number": VALID,
        "mobile": "+8616692816317",
        "email": "adversary@example.test",
        "username": "adversary",
        "password1": "Zhengzhou-Spring-2026",
        "password2": "Zhengzhou-Spring-2026",
        "consent": "on",
    }
    data.update(overrides)
    return data


def register(client, **overrides):
    return client.post(REGISTER, registration(**overrides))


def id_errors(response):
    return response.context["form"].errors.get("id_number", [])


def devanagari(number: str) -> str:
    return "".join(chr(0x966 + int(c)) if c.isdigit() else c for c in number)


def arabic_indic(number: str) -> str:
    return "".join(chr(0x660 + int(c)) if c.isdigit() else c for c in number)


# --- refused, each with its own plain message ----------------------------------------------------------

TODAY = timezone.localdate()
FUTURE = TODAY + datetime.timedelta(days=30)
REFUSED = {
    "wrong_checksum": (VALID[:17] + ("0" if VALID[17] != "0" else "1"), "does not match the rest of the number"),
    "february_30th": (with_check("41010519900230001"), "not a real date of birth"),
    "month_13": (with_check("41010519901301001"), "not a real date of birth"),
    "future_birth_date": (with_check(f"410105{FUTURE:%Y%m%d}001"), "is in the future"),
    "born_before_1880": (with_check("41010518790101001"), "not plausible"),
    "old_15_digit_number": ("410105650719691", "old 15-digit ID number"),
    "hong_kong_permit_81": (with_check("81000019900101001"), "residence permit number for residents of Hong Kong"),
    "macao_permit_82": (with_check("82000019900101001"), "residence permit number for residents of Hong Kong"),
    "taiwan_permit_83": (with_check("83000019900101001"), "residence permit number for residents of Hong Kong"),
    "unknown_province_99": (with_check("99010519900101001"), "are not a province code"),
    "seventeen_characters": (VALID[:17], "has 18 characters; you entered 17"),
    "letter_inside": (VALID[:5] + "A" + VALID[6:], "17 digits followed by a digit or the letter X"),
    "kharosthi_digits_int_cannot_read": (
        "41" + "\U00010a40" * 15 + "3",
        "17 digits followed by a digit or the letter X",
    ),
    "sql_quote": ("41010519650719691' OR '1'='1", "has 18 characters"),
}


@pytest.mark.parametrize("number,message", REFUSED.values(), ids=REFUSED.keys())
def test_registration_refuses_bad_id_number_with_a_specific_message(client, number, message):
    response = register(client, id_number=number)
    assert response.status_code == 200
    assert any(message in error for error in id_errors(response)), id_errors(response)
    assert not User.objects.filter(username="adversary").exists()


def test_residence_permit_message_says_to_apply_in_person(client):
    response = register(client, id_number=with_check("81000019900101001"))
    (error,) = id_errors(response)
    assert "Hong Kong, Macao or Taiwan" in error and "apply in person at a police station" in error


# --- normalised: one number, one spelling --------------------------------------------------------------

SPELLINGS = {
    "full_width_digits": "".join(chr(ord(c) + 0xFEE0) for c in VALID),
    "spaces_and_hyphens": f" {VALID[:6]} {VALID[6:14]}-{VALID[14:]} ",
    "ideographic_spaces": f"{VALID[:6]}\u3000{VALID[6:14]}\u3000{VALID[14:]}",
    "zero_width_and_direction_marks": f"{VALID[:4]}\u200b{VALID[4:10]}\u200e{VALID[10:]}\u202c",
    "devanagari_digits": devanagari(VALID),
    "arabic_indic_digits": arabic_indic(VALID),
}


@pytest.mark.parametrize("typed", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_every_spelling_is_stored_as_ascii_and_a_second_account_is_refused(client, typed):
    UserFactory(id_number=VALID)  # the holder already has an account
    response = register(client, id_number=typed)
    assert response.status_code == 200
    assert any("An account already exists for this ID number" in e for e in id_errors(response)), id_errors(response)
    assert User.objects.filter(id_number__startswith="41").count() == 1


@pytest.mark.parametrize("typed", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_a_new_account_gets_the_ascii_number(client, typed):
    response = register(client, id_number=typed)
    assert response.status_code == 302, id_errors(response)
    assert User.objects.get(username="adversary").id_number == VALID


def test_lower_case_x_is_the_same_number_as_upper_case(client):
    number = make_id_number(birth=datetime.date(1980, 3, 3))
    while not number.endswith("X"):
        number = make_id_number(birth=datetime.date(1980, 3, 3))
    UserFactory(id_number=number)
    response = register(client, id_number=number.lower())
    assert any("An account already exists" in e for e in id_errors(response))


def test_sex_and_birth_date_cannot_be_typed_over_the_number(client):
    response = client.post(REGISTER, {**registration(), "sex": "F", "birth_date": "2001-01-01"})
    assert response.status_code == 302
    user = User.objects.get(username="adversary")
    assert (user.sex, user.birth_date) == ("M", datetime.date(1965, 7, 19))  # read from VALID, odd sequence


# --- an agent's application: the register must still find the record ----------------------------------


@pytest.mark.parametrize("spelling", ["devanagari", "full_width", "lower_case_with_spaces"])
def test_agent_cannot_hide_a_criminal_record_behind_another_spelling(client, station_a, spelling, no_tasks):
    holder_number = make_id_number(birth=datetime.date(1980, 6, 1))
    CriminalRecord.objects.create(
        id_number=holder_number,
        name="赵六",
        offence="盗窃罪",
        court="郑州市金水区人民法院",
        judgment_date=datetime.date(2010, 1, 1),
        sentence="有期徒刑三年",
        sentence_months=36,
        age_at_offence=29,
    )
    typed = {
        "devanagari": devanagari(holder_number),
        "full_width": "".join(chr(ord(c) + 0xFEE0) for c in holder_number),
        "lower_case_with_spaces": " ".join(holder_number.lower()),
    }[spelling]
    agent = UserFactory()
    client.force_login(agent)
    application = services.application_create_draft(applicant=agent, for_self=False, office=station_a)
    url = reverse("certificates:section", kwargs={"case_number": application.case_number, "section": "holder"})
    client.post(
        url,
        {
            "action": "leave",
            "holder_name": "赵六",
            "holder_id_type": HolderIdType.RESIDENT_ID,
            "holder_id_number": typed,
        },
    )
    application.refresh_from_db()
    assert application.holder_id_number == holder_number
    assert services.register_blocking(services.register_matches(id_number=application.holder_id_number))
    # And the officer cannot approve it.
    Application.objects.filter(pk=application.pk).update(status="accepted")
    application.refresh_from_db()
    with pytest.raises(services.TransitionNotAllowed):
        services.application_approve(application=application, by=StaffFactory(office=station_a))


def test_passport_number_with_cyrillic_lookalikes_is_refused(client, station_a):
    agent = UserFactory()
    client.force_login(agent)
    application = services.application_create_draft(applicant=agent, for_self=False, office=station_a)
    url = reverse("certificates:section", kwargs={"case_number": application.case_number, "section": "holder"})
    response = client.post(
        url,
        {
            "action": "leave",
            "holder_name": "Ivan Petrov",
            "holder_id_type": HolderIdType.PASSPORT,
            "holder_id_number": "Е12345678",  # a Cyrillic capital IE, not a Latin E
        },
    )
    assert response.status_code == 400
    assert "A passport number has 5 to 20 letters and digits" in response.content.decode()
    application.refresh_from_db()
    assert application.holder_id_number == ""


def test_officer_cannot_decide_their_own_case_filed_in_another_spelling_of_their_number(client, station_a, no_tasks):
    officer = StaffFactory(office=station_a, id_number=make_id_number(birth=datetime.date(1985, 2, 2)))
    accomplice = UserFactory()
    client.force_login(accomplice)
    application = services.application_create_draft(applicant=accomplice, for_self=False, office=station_a)
    url = reverse("certificates:section", kwargs={"case_number": application.case_number, "section": "holder"})
    client.post(
        url,
        {
            "action": "leave",
            "holder_name": officer.real_name,
            "holder_id_type": HolderIdType.RESIDENT_ID,
            "holder_id_number": devanagari(officer.id_number),
        },
    )
    Application.objects.filter(pk=application.pk).update(status="submitted")
    application.refresh_from_db()
    with pytest.raises(services.TransitionNotAllowed, match="for yourself"):
        services.application_accept(application=application, by=officer)
