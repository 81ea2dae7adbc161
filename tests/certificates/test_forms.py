"""The citizen forms of the no-criminal-record application: specific messages, derived data, draft saving."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from accounts.models import Office
from certificates.forms import (
    DeliveryForm,
    DocumentsForm,
    HolderAgentForm,
    PurposeForm,
    StartForm,
    SubmitForm,
)
from certificates.models import Delivery, HolderIdType, Reason
from portal.documents.models import Document
from tests.factories import OfficeFactory, UserFactory, make_id_number


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def city(code):
    return Office.objects.get(division_code=code, kind=Office.Kind.CITY)


def png(size=(400, 500), colour=(70, 130, 200)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def upload(name, content, content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def errors(form, field):
    return [str(e) for e in form.errors.get(field, [])]


# --- start ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_start_offers_only_active_police_stations_grouped_by_city_and_district_in_division_order():
    luoyang = OfficeFactory(
        name="老城派出所", name_en="Laocheng Station", division_code="410302", parent=city("410300")
    )
    zhengzhou = OfficeFactory(name="金水派出所", name_en="Jinshui Station", division_code="410105")
    OfficeFactory(name="已撤销派出所", name_en="Closed Station", active=False)
    household = OfficeFactory(name="户政", name_en="Household Admin", kind=Office.Kind.HOUSEHOLD_ADMIN)
    form = StartForm(user=UserFactory())

    html = form.as_div()
    assert html.index('<optgroup label="Zhengzhou · Jinshui District">') < html.index(
        '<optgroup label="Luoyang · Laocheng District">'
    )
    assert "Jinshui Station" in html and "Laocheng Station" in html
    assert "Closed Station" not in html and "Household Admin" not in html

    chosen = StartForm({"applying_for": "self", "office": household.pk}, user=UserFactory())
    assert errors(chosen, "office") == ["This police station cannot be chosen; choose one from the list."]
    ok = StartForm({"applying_for": "agent", "office": luoyang.pk}, user=UserFactory())
    assert ok.is_valid(), ok.errors
    assert ok.cleaned_data["office"] == luoyang
    assert zhengzhou in form.fields["office"].queryset


@pytest.mark.django_db
def test_start_requires_both_answers_with_specific_messages():
    form = StartForm({}, user=UserFactory())
    assert errors(form, "applying_for") == ["Choose whether the certificate is for you or for someone else."]
    assert errors(form, "office") == ["Choose the police station that should issue the certificate."]


@pytest.mark.django_db
def test_start_for_myself_needs_an_id_number_on_the_account(station_a):
    form = StartForm({"applying_for": "self", "office": station_a.pk}, user=UserFactory(id_number=None))
    assert "cannot apply for yourself online" in errors(form, "applying_for")[0]
    agent = StartForm({"applying_for": "agent", "office": station_a.pk}, user=UserFactory(id_number=None))
    assert agent.is_valid()


@pytest.mark.django_db
def test_an_office_outside_the_division_table_is_listed_under_other_offices():
    OfficeFactory(name="直属派出所", name_en="Direct Station", division_code="990000", parent=None)
    assert '<optgroup label="Other offices">' in StartForm(user=UserFactory()).as_div()


# --- holder (agent) ---------------------------------------------------------------------------------


def agent_form(data, files=None, *, owner, draft=False, initial=None):
    return HolderAgentForm(data, files or {}, owner=owner, draft=draft, initial=initial)


@pytest.mark.django_db
def test_agent_resident_id_derives_sex_and_birth_date_and_normalises():
    owner = UserFactory()
    number = make_id_number(birth=datetime.date(1990, 5, 17), sex="F")
    form = agent_form(
        {"holder_name": "  王  小红 ", "holder_id_type": "resident_id", "holder_id_number": number.lower() + " "},
        {"authorisation": upload("auth.png", png())},
        owner=owner,
    )
    assert form.is_valid(), form.errors
    c = form.cleaned_data
    assert (c["holder_name"], c["holder_id_number"], c["holder_sex"], c["holder_birth_date"]) == (
        "王 小红",
        number,
        "F",
        datetime.date(1990, 5, 17),
    )
    assert isinstance(c["authorisation"], Document) and c["authorisation"].kind == "authorisation"


@pytest.mark.django_db
def test_agent_resident_id_checksum_error_is_specific():
    number = make_id_number()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    form = agent_form(
        {"holder_name": "王五", "holder_id_type": "resident_id", "holder_id_number": wrong}, owner=UserFactory()
    )
    assert errors(form, "holder_id_number") == [
        "The last character does not match the rest of the number. Check each digit against your ID card."
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "valid"),
    [("E12345678", True), ("g 1234 5678", True), ("AB12", False), ("E1234-5678/9", False), ("X" * 21, False)],
)
def test_agent_passport_number_letters_and_digits_5_to_20(raw, valid):
    form = agent_form(
        {"holder_name": "Anna Li", "holder_id_type": "passport", "holder_id_number": raw},
        {"authorisation": upload("auth.png", png())},
        owner=UserFactory(),
    )
    assert form.is_valid() is valid, form.errors
    if valid:
        assert form.cleaned_data["holder_id_number"] == raw.replace(" ", "").upper()
        assert form.cleaned_data["holder_sex"] == "" and form.cleaned_data["holder_birth_date"] is None
    else:
        assert "A passport number has 5 to 20 letters and digits" in errors(form, "holder_id_number")[0]


@pytest.mark.django_db
def test_agent_needs_the_authorisation_unless_already_uploaded():
    owner = UserFactory()
    data = {"holder_name": "王五", "holder_id_type": "passport", "holder_id_number": "E12345678"}
    form = agent_form(data, owner=owner)
    assert errors(form, "authorisation") == ["Upload the holder's signed authorisation."]
    uploaded = agent_form(data, {"authorisation": upload("a.png", png())}, owner=owner)
    assert uploaded.is_valid(), uploaded.errors
    kept = agent_form(data, owner=owner, initial={"authorisation": uploaded.cleaned_data["authorisation"]})
    assert kept.is_valid(), kept.errors


@pytest.mark.django_db
def test_agent_draft_lets_missing_answers_through_but_not_malformed_ones():
    owner = UserFactory()
    assert agent_form({}, owner=owner, draft=True).is_valid()
    bad = agent_form({"holder_id_type": "resident_id", "holder_id_number": "12345"}, owner=owner, draft=True)
    assert errors(bad, "holder_id_number") == ["A resident ID number has 18 characters; you entered 5."]
    untyped = agent_form({"holder_id_number": "E12345678"}, owner=owner, draft=True)
    assert errors(untyped, "holder_id_type") == ["Choose the type of ID document the number belongs to."]


# --- purpose ----------------------------------------------------------------------------------------


def test_going_abroad_requires_the_destination():
    form = PurposeForm({"reason": "abroad", "receiving_organisation": "Embassy"})
    assert errors(form, "destination_country") == ["Enter the country or region you are going to."]
    ok = PurposeForm({"reason": "abroad", "destination_country": " New  Zealand ", "receiving_organisation": "Embassy"})
    assert ok.is_valid() and ok.cleaned_data["destination_country"] == "New Zealand"


def test_other_requires_an_explanation_and_stale_answers_are_dropped():
    form = PurposeForm({"reason": "other", "receiving_organisation": "Club"})
    assert errors(form, "reason_other") == ["Explain what the certificate is for."]
    switched = PurposeForm(
        {"reason": "employment", "destination_country": "France", "reason_other": "x", "receiving_organisation": "ACME"}
    )
    assert switched.is_valid()
    assert (switched.cleaned_data["destination_country"], switched.cleaned_data["reason_other"]) == ("", "")


def test_purpose_required_messages_and_draft():
    form = PurposeForm({})
    assert errors(form, "reason") == ["Choose what the certificate is for."]
    assert errors(form, "receiving_organisation") == ["Enter the organisation that will receive the certificate."]
    assert PurposeForm({"reason": Reason.ABROAD}, draft=True).is_valid()  # the destination can come later
    assert not PurposeForm({"reason": "piracy"}, draft=True).is_valid()


# --- delivery ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_collecting_requires_an_office_that_accepts_paper_collection():
    counter = OfficeFactory(accepts_paper_collection=True, address="金水路1号")
    other = OfficeFactory(accepts_paper_collection=False)
    form = DeliveryForm({"delivery": Delivery.COLLECT})
    assert errors(form, "collection_office") == ["Choose the office where you will collect the paper copy."]
    wrong = DeliveryForm({"delivery": Delivery.COLLECT, "collection_office": other.pk})
    assert errors(wrong, "collection_office") == [
        "Paper copies cannot be collected at this office; choose one from the list."
    ]
    ok = DeliveryForm({"delivery": Delivery.COLLECT, "collection_office": counter.pk})
    assert ok.is_valid() and ok.cleaned_data["collection_office"] == counter
    assert f"{counter.name_en} (金水路1号)" in ok.as_div()
    electronic = DeliveryForm({"delivery": Delivery.ELECTRONIC, "collection_office": counter.pk})
    assert electronic.is_valid() and electronic.cleaned_data["collection_office"] is None


# --- documents --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_documents_asked_depend_on_the_id_type():
    owner = UserFactory()
    resident = DocumentsForm({}, {}, owner=owner, id_type=HolderIdType.RESIDENT_ID, current={})
    assert list(resident.fields) == ["id_front", "id_back", "photo"]
    assert errors(resident, "id_front") == ["Upload the front of the ID card."]
    assert errors(resident, "photo") == ["Upload a bareheaded colour photo."]
    passport = DocumentsForm({}, {}, owner=owner, id_type=HolderIdType.PASSPORT, current={})
    assert list(passport.fields) == ["passport", "photo"]
    assert errors(passport, "passport") == ["Upload the passport data page."]
    assert DocumentsForm({}, {}, owner=owner, id_type=HolderIdType.PASSPORT, current={}, draft=True).is_valid()


@pytest.mark.django_db
def test_documents_already_uploaded_count_and_a_bad_photo_is_named():
    owner = UserFactory()
    first = DocumentsForm(
        {},
        {"passport": upload("pp.png", png((800, 600))), "photo": upload("me.png", png())},
        owner=owner,
        id_type=HolderIdType.PASSPORT,
        current={},
    )
    assert first.is_valid(), first.errors
    current = {kind: first.cleaned_data[kind] for kind in ("passport", "photo")}
    again = DocumentsForm({}, {}, owner=owner, id_type=HolderIdType.PASSPORT, current=current)
    assert again.is_valid()
    assert again.cleaned_data["photo"] == current["photo"]
    grey = io.BytesIO()
    Image.new("L", (400, 500), 128).save(grey, format="PNG")
    bad = DocumentsForm(
        {}, {"photo": upload("grey.png", grey.getvalue())}, owner=owner, id_type=HolderIdType.PASSPORT, current=current
    )
    assert errors(bad, "photo") == ["This photo is black and white (greyscale); upload a colour photo."]
    assert "passport" not in bad.errors


# --- submit -----------------------------------------------------------------------------------------


def test_declaration_is_required_and_the_reply_only_when_resubmitting():
    form = SubmitForm({})
    assert errors(form, "declaration") == ["Tick the declaration to confirm that the information is true."]
    assert "reply" not in form.fields
    resubmit = SubmitForm({"declaration": "on", "reply": "   "}, resubmit=True)
    assert errors(resubmit, "reply") == ["Answer the police station's request: say what you changed or added."]
    ok = SubmitForm({"declaration": "on", "reply": " Added the passport page. "}, resubmit=True)
    assert ok.is_valid() and ok.cleaned_data["reply"] == "Added the passport page."
