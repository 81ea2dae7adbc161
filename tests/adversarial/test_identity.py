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
            "action": "next",
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


# --- one mailbox, one account: every spelling of an address is the same address -----------------------

MAILBOX = "e8b@bücher.example"
SPELLINGS = {
    "upper_case_with_umlaut": "E8B@BÜCHER.EXAMPLE",  # SQLite's LOWER() leaves Ü as it is
    "punycode": "e8b@xn--bcher-kva.example",
    "punycode_upper_case": "E8B@XN--BCHER-KVA.EXAMPLE",
    "full_width_domain": "e8b@ｂüｃｈｅｒ.example",
    "decomposed_umlaut": "e8b@bu\u0308cher.example",
}


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_a_second_account_for_the_same_mailbox_is_refused(client, spelling):
    UserFactory(email=MAILBOX)
    response = register(client, email=spelling)
    assert response.status_code == 200
    assert "already registered" in response.context["form"].errors["email"][0]
    assert not User.objects.filter(username="adversary").exists()


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_every_spelling_is_stored_in_the_one_canonical_form(client, spelling):
    response = register(client, email=spelling)
    assert response.status_code == 302, response.context["form"].errors
    assert User.objects.get(username="adversary").email == MAILBOX


def test_the_database_refuses_a_second_row_for_a_mailbox_on_every_database():
    from django.db import IntegrityError, transaction

    UserFactory(email="E8B@BÜCHER.EXAMPLE")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(email="e8b@xn--bcher-kva.example")  # save() stores the canonical form: the constraint sees it


def test_a_domain_that_is_not_a_domain_name_is_refused_with_its_own_message(client):
    response = register(client, email="e8b@xn--zz.example")
    assert "is not a valid domain name" in response.context["form"].errors["email"][0]


def test_profile_refuses_another_accounts_mailbox_and_keeps_its_own_in_another_spelling(client):
    UserFactory(email=MAILBOX)
    me = UserFactory(email="me@bücher.example")
    client.force_login(me)
    data = {"language": "en", "current_password": "Correct-Horse-42", "mobile": ""}
    response = client.post(reverse("accounts:profile"), {**data, "email": "E8B@XN--BCHER-KVA.EXAMPLE"})
    assert "already registered to another account" in response.context["form"].errors["email"][0]
    confirmed = User.objects.get(pk=me.pk).email_confirmed_at
    response = client.post(reverse("accounts:profile"), {"language": "en", "email": "ME@xn--bcher-kva.example"})
    assert response.status_code == 302, response.context["form"].errors  # the same mailbox: no password needed
    me.refresh_from_db()
    assert me.email == "me@bücher.example" and me.email_confirmed_at == confirmed


def test_password_reset_finds_the_account_by_any_spelling(client):
    from portal.notify.models import OutboxMessage

    owner = UserFactory(email=MAILBOX)
    client.post(reverse("accounts:password_reset"), {"email": "E8B@XN--BCHER-KVA.EXAMPLE"})
    message = OutboxMessage.objects.get(template="accounts/password_reset")
    assert message.user_id == owner.pk and message.to == MAILBOX


def test_the_admins_user_forms_refuse_another_spelling_of_a_registered_mailbox():
    from accounts.admin import UserCreationForm

    UserFactory(email=MAILBOX)
    form = UserCreationForm(
        {
            "username": "newstaff",
            "real_name": "李雷",
            "email": "E8B@XN--BCHER-KVA.EXAMPLE",
            "usable_password": "false",
        }
    )
    assert not form.is_valid()
    assert "already registered" in form.errors["email"][0]
    form = UserCreationForm(
        {"username": "newstaff", "real_name": "李雷", "email": "New@XN--BCHER-KVA.EXAMPLE", "usable_password": "false"}
    )
    assert form.is_valid(), form.errors
    assert form.save().email == "new@bücher.example"


def test_the_migration_normalises_existing_addresses_and_logs_the_mailboxes_it_cannot(caplog):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0009_canonical_email_addresses")
    first, second, third, plain = (UserFactory() for _ in range(4))
    # Rows from before the normalisation, written past save() as older code (or SQLite's LOWER()) let them in.
    User.objects.filter(pk=first.pk).update(email="E8B@BÜCHER.EXAMPLE")
    User.objects.filter(pk=second.pk).update(email="e8b@xn--bcher-kva.example")
    User.objects.filter(pk=third.pk).update(email="Other@Example.TEST")
    caplog.set_level("WARNING", logger="accounts.migrations")
    migration.canonical_addresses(apps, None)
    emails = dict(User.objects.values_list("pk", "email"))
    assert emails[first.pk] == MAILBOX  # the oldest gets the canonical spelling
    assert emails[second.pk] == "e8b@xn--bcher-kva.example"  # left for an administrator, and logged
    assert emails[third.pk] == "other@example.test"
    assert emails[plain.pk] == plain.email
    (record,) = caplog.records
    assert f"user {second.pk} left as it was: user {first.pk}" in record.getMessage()
    assert "bücher" not in record.getMessage() and "xn--" not in record.getMessage()


# --- usernames: a documented set of characters, and none that looks like one taken ---------------------

REFUSED_CHARACTERS = {
    "cyrillic_es": ("\u0441itizen", "U+0441"),
    "cyrillic_ie": ("citiz\u0435n", "U+0435"),
    "dotless_i": ("c\u0131tizen", "U+0131"),
    "greek_omicron": ("\u03bffficer_zz", "U+03BF"),
    "at_sign": ("citizen@home", "U+0040"),
    "plus": ("citizen+1", "U+002B"),
    "space": ("wang fang", "U+0020"),
    "emoji": ("citizen\U0001f600", "U+1F600"),
    "zero_width_joiner": ("citi\u200dzen", "U+200D"),
    "hangul": ("시민", "U+C2DC"),
}


@pytest.mark.parametrize("typed,code", REFUSED_CHARACTERS.values(), ids=REFUSED_CHARACTERS.keys())
def test_username_outside_the_documented_characters_is_refused_naming_the_character(client, typed, code):
    UserFactory(username="citizen")
    response = register(client, username=typed)
    (error,) = response.context["form"].errors["username"]
    assert "only the letters a–z and A–Z, digits, Chinese characters and _ . -" in error and code in error
    assert not User.objects.filter(username=typed).exists()


def test_full_width_username_is_read_as_ascii_and_is_then_taken(client):
    UserFactory(username="citizen")
    response = register(client, username="ｃｉｔｉｚｅｎ")  # Django's UsernameField applies NFKC
    assert response.context["form"].errors["username"] == ["This username is taken; choose another."]


CONFUSABLE = {
    "zero_for_o": ("officer_zz", "0fficer_zz"),
    "one_for_l": ("liwei", "1iwei"),
    "capital_i_for_l": ("liwei", "Iiwei"),
    "rn_for_m": ("modern", "rnodern"),
    "m_for_rn": ("rnodern", "modern"),
    "legacy_cyrillic_account": ("\u0441itizen", "citizen"),  # an older account, from before the character rule
    "legacy_greek_account": ("\u03bffficer_zz", "officer_zz"),
}


@pytest.mark.parametrize("existing,typed", CONFUSABLE.values(), ids=CONFUSABLE.keys())
def test_username_that_looks_like_one_taken_is_refused(client, existing, typed):
    UserFactory(username=existing)
    response = register(client, username=typed)
    (error,) = response.context["form"].errors["username"]
    assert "looks the same as one already taken" in error
    assert existing not in response.content.decode()  # never says whose
    assert not User.objects.filter(username=typed).exists()


@pytest.mark.parametrize("typed", ["王芳", "wang.fang-1984", "Wang_Fang", "王fang", "liwei2"])
def test_distinct_usernames_in_the_set_are_accepted(client, typed):
    UserFactory(username="liwei")
    response = register(client, username=typed)
    assert response.status_code == 302, response.context["form"].errors
    assert User.objects.get(username=typed).username_skeleton


def test_username_rules_are_explained_in_chinese(client):
    client.cookies["portal_language"] = "zh-hans"
    UserFactory(username="officer_zz")
    html = register(client, username="0fficer_zz").content.decode()
    assert "看起来与已有的用户名相同" in html
    assert "只能包含字母" in register(client, username="\u0441itizen").content.decode()


def test_the_admins_user_forms_apply_the_username_rules():
    from accounts.admin import UserChangeForm, UserCreationForm

    legacy = UserFactory(username="\u0441itizen")  # older than the character rule: keeps its name
    form = UserCreationForm(
        {"username": "citizen", "real_name": "李雷", "email": "n@example.test", "usable_password": "false"}
    )
    assert not form.is_valid() and "looks the same" in form.errors["username"][0]
    form = UserCreationForm(
        {"username": "c\u0131tizen2", "real_name": "李雷", "email": "n@example.test", "usable_password": "false"}
    )
    assert not form.is_valid() and "U+0131" in form.errors["username"][0]
    other = UserFactory(username="officer_zz")
    change = UserChangeForm(instance=other)
    data = {**change.initial, "username": "0fficer_zz", "password": other.password}
    assert UserChangeForm(data, instance=other).is_valid()  # its own skeleton is no conflict
    data = {**UserChangeForm(instance=legacy).initial, "password": legacy.password}
    assert UserChangeForm(data, instance=legacy).is_valid(), "an unchanged older name is kept"
    data["username"] = "officer_zz2"
    assert UserChangeForm(data, instance=legacy).is_valid()
    data["username"] = "0FFICER_ZZ"
    form = UserChangeForm(data, instance=legacy)
    assert not form.is_valid() and "taken" in form.errors["username"][0]


def test_the_migration_fills_the_skeleton_of_existing_users_and_logs_look_alikes(caplog):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0010_username_skeleton")
    first, second, third = (
        UserFactory(username="citizen"),
        UserFactory(username="\u0441itizen"),
        UserFactory(username="王芳"),
    )
    User.objects.update(username_skeleton="")
    caplog.set_level("WARNING", logger="accounts.migrations")
    migration.fill_skeletons(apps, None)
    skeletons = dict(User.objects.values_list("pk", "username_skeleton"))
    assert skeletons == {first.pk: "citizen", second.pk: "citizen", third.pk: "王芳"}
    (record,) = caplog.records
    assert f"users {first.pk}, {second.pk} look alike" in record.getMessage()


def test_a_renamed_user_gets_a_new_skeleton():
    user = UserFactory(username="officer_zz")
    user.username = "modern"
    user.save(update_fields=["username"])
    assert User.objects.get(pk=user.pk).username_skeleton == "rnodern"


# --- an ID number whose county code is in no table: told, not thrown away ---------------------------------

UNKNOWN_COUNTY = with_check("41019919900101001")  # 410199: Zhengzhou has no county 99


def test_registration_tells_the_citizen_about_an_unknown_county_code(client):
    response = register(client, id_number=UNKNOWN_COUNTY)
    assert response.status_code == 302
    notice = "The first six digits of your ID number (410199) are not a county code we know"
    welcome = client.get(response["Location"]).content.decode()
    assert notice in welcome and "staff will check them" in welcome
    assert notice in client.get(reverse("accounts:profile")).content.decode()
    assert User.objects.get(username="adversary").id_number == UNKNOWN_COUNTY  # nothing else stored


@pytest.mark.parametrize("number", [VALID, "410102198906169082"], ids=["code_newer_than_the_birth_year", "known"])
def test_no_notice_for_a_county_code_in_the_table(client, number):
    response = register(client, id_number=number)
    assert response.status_code == 302
    assert 'data-testid="id-number-notice"' not in client.get(reverse("accounts:profile")).content.decode()


def test_the_notice_is_in_chinese_too(client):
    client.cookies["portal_language"] = "zh-hans"
    register(client, id_number=UNKNOWN_COUNTY)
    assert (
        "您身份证号码的前六位数字（410199）不是我们已知的县级行政区划代码"
        in client.get(reverse("accounts:profile")).content.decode()
    )


def test_the_officer_sees_the_notice_beside_the_applicant_on_the_review_page(staff_client, station_a, officer_a):
    from tests.factories import ApplicationFactory

    unknown = ApplicationFactory(office=station_a, applicant=UserFactory(id_number=UNKNOWN_COUNTY))
    known = ApplicationFactory(office=station_a, applicant=UserFactory(id_number="410102198906169082"))
    client = staff_client(officer_a)
    client.cookies["portal_language"] = "en"
    html = client.get(reverse("admin:certificates_application_change", args=[unknown.pk])).content.decode()
    assert 'data-testid="ncr-id-number-notice"' in html
    assert "The first six digits (410199) are not a county code in our table" in html
    html = client.get(reverse("admin:certificates_application_change", args=[known.pk])).content.decode()
    assert 'data-testid="ncr-id-number-notice"' not in html


def test_the_staff_notice_is_recomputed_from_any_number_and_silent_on_others():
    from accounts.templatetags.accounts_tags import id_number_notice

    assert "410199" in id_number_notice(UNKNOWN_COUNTY)
    for other in ("", None, "E12345678", VALID[:17] + "0", VALID):
        assert id_number_notice(other) == ""
