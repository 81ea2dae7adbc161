"""familyplanning.catalogue: every service of the issue, its guide, document and effect, and its form's rules."""

import datetime

import pytest
import time_machine
from django.utils import translation

from familyplanning import catalogue
from familyplanning.catalogue import DocumentKind, Effect, ServiceGroup
from familyplanning.fields import build_form
from tests.factories import make_id_number

EXPECTED = {
    # key: (group, issued document, effect, the document affected)
    "birth_registration": (ServiceGroup.FAMILIES, DocumentKind.BIRTH_SERVICE_CERTIFICATE, Effect.NONE, ""),
    "birth_registration_floating": (ServiceGroup.FAMILIES, DocumentKind.BIRTH_SERVICE_CERTIFICATE, Effect.NONE, ""),
    "birth_registration_cancellation": (
        ServiceGroup.FAMILIES,
        "",
        Effect.REVOKES,
        DocumentKind.BIRTH_SERVICE_CERTIFICATE,
    ),
    "only_child_certificate": (ServiceGroup.FAMILIES, DocumentKind.ONLY_CHILD_CERTIFICATE, Effect.NONE, ""),
    "only_child_certificate_cancellation": (
        ServiceGroup.FAMILIES,
        "",
        Effect.REVOKES,
        DocumentKind.ONLY_CHILD_CERTIFICATE,
    ),
    "floating_population_certificate": (
        ServiceGroup.FAMILIES,
        DocumentKind.FLOATING_POPULATION_CERTIFICATE,
        Effect.NONE,
        "",
    ),
    "institution_establishment": (ServiceGroup.INSTITUTIONS, "", Effect.NONE, ""),
    "institution_change": (ServiceGroup.INSTITUTIONS, "", Effect.NONE, ""),
    "practice_licence": (ServiceGroup.INSTITUTIONS, DocumentKind.PRACTICE_LICENCE, Effect.NONE, ""),
    "practice_licence_validation": (ServiceGroup.INSTITUTIONS, "", Effect.EXTENDS, DocumentKind.PRACTICE_LICENCE),
    "qualification_certificate": (ServiceGroup.PERSONNEL, DocumentKind.QUALIFICATION_CERTIFICATE, Effect.NONE, ""),
    "qualification_certificate_validation": (
        ServiceGroup.PERSONNEL,
        "",
        Effect.EXTENDS,
        DocumentKind.QUALIFICATION_CERTIFICATE,
    ),
}
WIFE = make_id_number(birth=datetime.date(1994, 3, 8), sex="F")
HUSBAND = make_id_number(birth=datetime.date(1992, 7, 1), sex="M")
CHILD = make_id_number(birth=datetime.date(2021, 6, 1), sex="M")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"), time_machine.travel(datetime.datetime(2026, 11, 20, 10, tzinfo=datetime.UTC)):
        yield


def test_the_catalogue_covers_every_service_of_the_issue():
    assert {key: (s.group, s.issues, s.effect, s.affects) for key, s in catalogue.SERVICES.items()} == EXPECTED
    # Every document kind is issued by some service, and whatever is revoked or extended was issued by one.
    assert {s.issues for s in catalogue.SERVICES.values()} - {""} == set(DocumentKind.values)
    assert {s.affects for s in catalogue.SERVICES.values()} - {""} <= set(DocumentKind.values)


@pytest.mark.parametrize("key", list(EXPECTED))
def test_every_service_has_a_guide_and_its_own_form(key):
    service = catalogue.get_service(key)
    assert service.form.service_key == key
    assert service.form.title == service.title
    assert service.form.version and service.form.date <= datetime.date(2026, 11, 20)
    guide = service.guide
    assert guide.conditions and guide.materials
    assert 1 <= guide.time_limit <= catalogue.STANDARD_TIME_LIMIT
    assert {str(law) for law in guide.legal_basis} & {
        "Population and Family Planning Law of the People's Republic of China",
        "Regulations on the Administration of Family-Planning Technical Services",
    }
    assert len(build_form(service.form)().fields) >= 6


def test_unknown_service_and_helpers():
    with pytest.raises(KeyError):
        catalogue.get_service("dog_licence")
    assert [s.key for s in catalogue.services_in(ServiceGroup.PERSONNEL)] == [
        "qualification_certificate",
        "qualification_certificate_validation",
    ]
    assert catalogue.issuing_service(DocumentKind.PRACTICE_LICENCE).key == "practice_licence"
    assert dict(catalogue.service_choices())["birth_registration"] == catalogue.get_service("birth_registration").title


def address(name, city="410100", district="410105", detail="花园路1号", *, street="", province="410000"):
    """What a citizen chooses and types for the address in parts `name`."""
    parts = {"province": province, "city": city, "district": district, "street": street, "detail": detail}
    return {f"{name}_{part}": value for part, value in parts.items()}


def birth_data(**overrides):
    data = {
        "wife_name": "赵敏",
        "wife_id_number": WIFE,
        "wife_marital_status": "first_marriage",
        **address("wife_hukou_address", detail="经三路5号"),
        **address("wife_residence_address"),
        "wife_mobile": "13800138000",
        "husband_name": "王小明",
        "husband_id_number": HUSBAND,
        "husband_marital_status": "first_marriage",
        **address("husband_hukou_address", "410200", "410202", "自由路8号"),
        **address("husband_residence_address"),
        "husband_mobile": "13900139000",
        "marriage_date": "2019-10-01",
        "marriage_certificate_number": "J410105-2019-001234",
        "children_count": "1",
        "child_1_name": "王乐",
        "child_1_id_number": CHILD,
        "child_1_birth_date": "2021-06-01",
        "child_order": "second",
        "pregnant": "yes",
        "expected_birth_date": "2027-02-14",
    }
    data.update(overrides)
    return data


def birth_form(**overrides):
    return build_form(catalogue.get_service("birth_registration").form)(data=birth_data(**overrides))


def test_birth_registration_accepts_a_consistent_application():
    form = birth_form()
    assert form.is_valid(), form.errors
    assert form.answers()["child_1"] == {"name": "王乐", "id_number": CHILD}


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"child_order": "first"}, "child_order"),  # one child already born: this one is not the first
        ({"children_count": "2"}, "child_2_name"),  # two children said, one listed
        ({"child_1_birth_date": ""}, "child_1_birth_date"),
        ({"expected_birth_date": ""}, "expected_birth_date"),  # pregnant, but no expected date
        ({"marriage_date": "2026-12-01"}, "marriage_date"),  # in the future
        ({"husband_id_number": HUSBAND[:-1] + ("1" if HUSBAND[-1] == "0" else "0")}, "husband_id_number"),
    ],
)
def test_birth_registration_rules(overrides, field):
    form = birth_form(**overrides)
    assert not form.is_valid()
    assert field in form.errors


def test_the_floating_population_form_asks_for_the_residence():
    floating = build_form(catalogue.get_service("birth_registration_floating").form)
    assert not floating(data=birth_data()).is_valid()
    form = floating(data=birth_data(residence_permit_number="410105-2024-0001", resident_since="2024-03-01"))
    assert form.is_valid(), form.errors


def test_the_certificate_of_honour_is_for_a_child_of_the_one_child_period():
    form_class = build_form(catalogue.get_service("only_child_certificate").form)
    child = make_id_number(birth=datetime.date(2005, 4, 2), sex="F")
    data = {
        key.replace("wife", "mother").replace("husband", "father"): value
        for key, value in birth_data().items()
        if key.startswith(("wife", "husband", "marriage"))
    }
    data.update(
        child_name="王芳",
        child_id_number=child,
        child_relationship="born",
        no_other_child="yes",
        child_birth_date="2005-04-02",
    )
    assert form_class(data=data).is_valid(), form_class(data=data).errors
    form = form_class(data={**data, "child_birth_date": "2016-01-01"})
    assert "child_birth_date" in form.errors
    form = form_class(data={**data, "no_other_child": "no"})
    assert "no_other_child" in form.errors


def test_institution_change_needs_the_new_value_of_each_ticked_item():
    form_class = build_form(catalogue.get_service("institution_change").form)
    data = {
        "institution_name": "郑州市金水区计划生育服务站",
        "licence_number": "豫计服2024001",
        "contact_mobile": "13800138000",
        "changes": ["address"],
        **address("new_address", detail="经三路5号"),
        "reason": "搬迁",
    }
    assert form_class(data=data).is_valid(), form_class(data=data).errors
    assert "new_name" in form_class(data={**data, "changes": ["address", "name"]}).errors
    assert "changes" in form_class(data={**data, "new_name": "新名称"}).errors


def test_a_validation_with_incidents_needs_their_description():
    form_class = build_form(catalogue.get_service("qualification_certificate_validation").form)
    holder = make_id_number(birth=datetime.date(1985, 1, 1), sex="F")
    data = {
        "certificate_number": "豫计合2021-0099",
        "holder_name": "陈静",
        "holder_id_number": holder,
        "valid_until": "2027-01-31",
        "mobile": "13800138000",
        "employer": "郑州市计划生育服务站",
        "training_hours": "40",
        "incidents": "no",
    }
    assert form_class(data=data).is_valid(), form_class(data=data).errors
    assert "incidents_detail" in form_class(data={**data, "incidents": "yes"}).errors
    assert form_class(data={**data, "incidents": "yes", "incidents_detail": "一起投诉，已答复"}).is_valid()
