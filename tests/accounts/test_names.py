"""Names of people: only what a resident ID card carries and the certificate's fonts draw (accounts.validators).

An emoji prints as an empty box on the signed certificate, a letter with 59 accents prints as a smear, and "王芳"
followed by a variation selector or a Hangul filler prints exactly like another person's "王芳". Every form where
a person's name is typed uses the one validator; and every character it allows has a glyph in a font of the
certificate's font stack (static/pdf/pdf.css), checked here against the installed fonts' character maps.
"""

import re
import shutil
import subprocess
import unicodedata
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.forms import RegistrationForm
from accounts.models import User
from accounts.validators import (
    NAME_DOT_LOOKALIKES,
    NAME_HAN_BMP,
    NAME_LATIN,
    NAME_MARKS,
    NAME_SEPARATORS,
    is_name_han,
    name_han_extensions,
    normalize_person_name,
    validate_person_name,
    validate_single_line,
)

from .conftest import registration_data

pytestmark = pytest.mark.django_db

# --- the fonts ---------------------------------------------------------------------------------------------


def font_stack() -> list[str]:
    """The families of the certificate's `html { font-family: … }` in static/pdf/pdf.css, generic last."""
    css = (Path(settings.BASE_DIR) / "static" / "pdf" / "pdf.css").read_text(encoding="utf-8")
    declaration = re.search(r"html\s*\{[^}]*?font-family:\s*([^;]+);", css, re.S).group(1)
    return [family.strip().strip('"') for family in declaration.split(",")]


@cache
def stack_cmaps() -> dict[str, frozenset[int]]:
    """The character map of each font the stack names, as fontconfig resolves it (the generic family too)."""
    from fontTools.ttLib import TTFont

    if not shutil.which("fc-match"):
        pytest.fail("fontconfig's fc-match is missing (the Makefile installs the fonts and fontconfig)")
    cmaps = {}
    for family in font_stack():
        found = subprocess.run(
            ["fc-match", "-f", "%{file}\n%{index}\n%{family}", family], capture_output=True, text=True, check=True
        ).stdout.split("\n")
        path, index, resolved = found[0], int(found[1] or 0), found[2]
        if family != "sans-serif" and family.lower() not in resolved.lower():
            pytest.fail(f"the certificate font {family!r} is not installed (fontconfig gives {resolved!r})")
        font = TTFont(path, fontNumber=index) if path.lower().endswith((".ttc", ".otc")) else TTFont(path)
        cmaps[family] = frozenset(font.getBestCmap())
    return cmaps


def uncovered(code_points) -> list[str]:
    union = frozenset().union(*stack_cmaps().values())
    return [f"U+{cp:04X}" for cp in code_points if cp not in union]


def allowed_alone(cp: int) -> bool:
    """Whether the validator accepts the character as (part of) a name: after a Latin letter for an accent."""
    text = ("a" + chr(cp)) if NAME_MARKS[0] <= cp <= NAME_MARKS[1] else ("王" + chr(cp) + "芳")
    try:
        validate_single_line(text)  # the two validators of every name field
        validate_person_name(text)
    except ValidationError:
        return False
    return True


def test_the_stack_is_the_one_the_makefile_installs():
    assert font_stack()[:2] == ["WenQuanYi Zen Hei", "Noto Sans CJK SC"]
    assert set(stack_cmaps()) == set(font_stack())


def test_every_allowed_character_of_the_bmp_han_latin_and_accent_ranges_has_a_glyph():
    candidates = [*range(0x0020, 0x0250), *range(0x0300, 0x0370), *range(0x1E00, 0x1F00), *range(0x3400, 0xA000)]
    allowed = [cp for cp in candidates if allowed_alone(cp)]
    assert len(allowed) > 27_000  # the two Han blocks, Latin and the accents
    assert not uncovered(allowed), "the validator allows characters the certificate cannot draw"


def test_the_declared_ranges_are_all_drawn():
    declared = [cp for low, high in (*NAME_HAN_BMP, *NAME_LATIN, NAME_MARKS) for cp in range(low, high + 1)]
    declared += [ord(ch) for ch in NAME_SEPARATORS]
    assert not uncovered(cp for cp in declared if not unicodedata.category(chr(cp)).startswith("C"))


def test_every_rare_han_character_allowed_is_drawn_by_a_font_of_the_stack():
    extensions = name_han_extensions()
    assert 0x210C1 in extensions and len(extensions) > 2000
    assert not uncovered(sorted(extensions))


def test_han_characters_the_fonts_cannot_draw_are_not_allowed():
    union = frozenset().union(*stack_cmaps().values())
    han = [cp for cp in range(0x3400, 0x32400) if unicodedata.name(chr(cp), "").startswith("CJK UNIFIED IDEOGRAPH")]
    drawn = [cp for cp in han if cp in union]
    not_drawn = [cp for cp in han if cp not in union]
    assert not_drawn, "some ideographs are newer than the fonts (U+9FF0, U+2A6D6 …)"
    assert not [f"U+{cp:04X}" for cp in not_drawn if is_name_han(cp)]
    assert sum(1 for cp in drawn if is_name_han(cp)) == len(drawn), "a drawn ideograph was left out of the table"


# --- what is refused, and what is normalised -------------------------------------------------------------

REFUSED = {
    "emoji": ("王😀芳", "“😀” (U+1F600) is not accepted"),
    "59_combining_marks": ("a" + "\u0301" * 59, "more than 2 accents"),
    "three_marks_on_one_letter": ("Zoe\u0301\u0302\u0303", "more than 2 accents"),
    "marks_on_a_precomposed_pinyin_letter": ("L\u01da\u0301", "more than 2 accents"),
    "mark_on_a_han_character": ("王\u0301芳", "does not follow a Latin letter"),
    "variation_selector": ("王芳\ufe00", "invisible character (U+FE00)"),
    "ideographic_variation_selector": ("王芳\U000e0101", "invisible character (U+E0101)"),
    "hangul_filler": ("王芳\u3164", "invisible character (U+1160)"),  # NFKC makes U+3164 the jungseong filler
    "hangul_choseong_filler": ("王芳\u115f", "invisible character (U+115F)"),
    "hangul_jungseong_filler": ("王芳\u1160", "invisible character (U+1160)"),
    "halfwidth_hangul_filler": ("王芳\uffa0", "invisible character (U+1160)"),
    "braille_blank": ("王芳\u2800", "invisible character (U+2800)"),
    "mongolian_free_variation_selector": ("王芳\u180b", "invisible character (U+180B)"),
    "zero_width_joiner": ("王\u200d芳", "invisible control character (U+200D)"),
    "digit": ("王芳2", "“2” (U+0032) is not accepted"),
    "cyrillic": ("Иван", "(U+0418) is not accepted"),
    "hangul_syllables": ("김민준", "(U+AE40) is not accepted"),
    "markup": ("<b>王芳</b>", "“<” (U+003C) is not accepted"),
    "newer_than_the_fonts": ("王\u9ff0", "(U+9FF0) cannot be printed on our certificates"),
    "rare_extension_not_drawn": ("王\U0002a6d6", "(U+2A6D6) cannot be printed on our certificates"),
    "leading_middle_dot": ("·吐尔逊", "starts and ends with a letter"),
    "double_middle_dot": ("买买提··吐尔逊", "one “·”, space, hyphen or apostrophe at most"),
}


@pytest.mark.parametrize("typed,message", REFUSED.values(), ids=REFUSED.keys())
def test_registration_refuses_a_name_that_would_print_badly(client, typed, message):
    response = client.post(reverse("accounts:register"), registration_data(real_name=typed))
    assert response.status_code == 200
    errors = response.context["form"].errors["real_name"]
    assert any(message in error for error in errors), errors
    assert not User.objects.exists()


NORMALISED = {
    "bullet": ("买买提•吐尔逊", "买买提·吐尔逊"),
    "katakana_middle_dot": ("买买提・吐尔逊", "买买提·吐尔逊"),
    "full_width_full_stop": ("买买提．吐尔逊", "买买提·吐尔逊"),
    "halfwidth_katakana_middle_dot": ("买买提･吐尔逊", "买买提·吐尔逊"),
    "hyphenation_point": ("买买提‧吐尔逊", "买买提·吐尔逊"),
    "full_stop_between_han": ("买买提.吐尔逊", "买买提·吐尔逊"),
    "spaces_around_the_dot": ("买买提 · 吐尔逊", "买买提·吐尔逊"),
    "kangxi_radical": ("王\u2f45", "王方"),  # the radical ⽅ prints like 方 and becomes it
    "compatibility_ideograph": ("\uf900", "\u8c48"),
    "full_width_latin": ("ＷＡＮＧ Ｆａｎｇ", "WANG Fang"),
    "decomposed_pinyin": ("Lu\u0308\u030c", "L\u01da"),
}


@pytest.mark.parametrize("typed,stored", NORMALISED.values(), ids=NORMALISED.keys())
def test_look_alikes_are_normalised_to_one_spelling(typed, stored):
    form = RegistrationForm(registration_data(real_name=typed))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["real_name"] == stored


@pytest.mark.parametrize(
    "name",
    ["王芳", "欧阳娜娜", "买买提·吐尔逊", "\U000210c1小明", "Lǚ Xiǎo", "Nguyễn Văn", "O'Brien-Smith", "Zoé", "王䶵"],
)
def test_names_from_id_cards_and_passports_are_accepted(name):
    form = RegistrationForm(registration_data(real_name=name))
    assert form.is_valid(), form.errors
    assert normalize_person_name(name) == form.cleaned_data["real_name"]


def test_every_look_alike_of_the_middle_dot_becomes_it():
    for dot in NAME_DOT_LOOKALIKES:
        assert normalize_person_name(f"买买提{dot}吐尔逊") == "买买提·吐尔逊", f"U+{ord(dot):04X}"


def test_the_message_is_in_chinese_too(client):
    client.cookies["portal_language"] = "zh-hans"
    html = client.post(reverse("accounts:register"), registration_data(real_name="王芳\ufe00")).content.decode()
    assert "不可见字符（U+FE00）" in html


# --- the same rule wherever a person's name is typed -----------------------------------------------------


def hukou_forms():
    from hukou import forms as hukou

    return [
        (hukou.MoverForm, "name"),
        (hukou.MoverForm, "guardian_name"),
        (hukou.StayingForm, "name"),
        (hukou.OriginForm, "origin_head_name"),
        (hukou.DestinationForm, "receiving_householder_name"),
        (hukou.DestinationForm, "receiving_family_member_name"),
    ]


@pytest.mark.django_db
def test_hukou_name_fields_refuse_and_normalise():
    for form_class, field in hukou_forms():
        form = form_class(data={field: "王芳\u3164"})
        form.is_valid()
        assert any("invisible character (U+1160)" in e for e in form.errors.get(field, [])), (form_class, field)
        assert form_class().fields[field].clean("买买提•吐尔逊") == "买买提·吐尔逊", (form_class, field)


@pytest.mark.django_db
def test_family_planning_person_names_refuse_and_normalise():
    from familyplanning.catalogue import SERVICES
    from familyplanning.fields import Kind
    from familyplanning.forms import answers_form_class

    checked = 0
    for service in SERVICES.values():
        form_class = answers_form_class(service.form)
        for definition in service.form.fields:
            if definition.kind != Kind.PERSON:
                continue
            name_field = definition.form_field_names[0]
            form = form_class(data={name_field: "王芳😀"})
            form.is_valid()
            assert any("(U+1F600) is not accepted" in e for e in form.errors.get(name_field, [])), name_field
            checked += 1
    assert checked >= 10


@pytest.mark.django_db
def test_certificate_holder_name_is_refused_through_the_page(client, citizen, station_a):
    from certificates import services

    client.force_login(citizen)
    draft = services.application_create_draft(applicant=citizen, for_self=False, office=station_a)
    url = reverse("certificates:section", kwargs={"case_number": draft.case_number, "section": "holder"})
    data = {"action": "leave", "holder_id_type": "resident_id", "holder_id_number": ""}
    response = client.post(url, {**data, "action": "continue", "holder_name": "王芳\ufe0f"})
    assert response.status_code == 400 and "invisible character (U+FE0F)" in response.content.decode()
    # Saved as a draft, the name is kept as typed, with the same message, until it is corrected.
    assert client.post(url, {**data, "holder_name": "王芳\ufe0f"}).status_code == 302
    assert "invisible character (U+FE0F)" in client.get(url).content.decode()
    response = client.post(url, {**data, "holder_name": "买买提・吐尔逊"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.holder_name == "买买提·吐尔逊"


@pytest.mark.django_db
def test_the_admin_refuses_such_a_name_too(citizen):
    citizen.real_name = "王芳\u115f"
    with pytest.raises(ValidationError) as info:
        citizen.full_clean()
    assert "real_name" in info.value.message_dict
