"""/track/: random case numbers that cannot be enumerated, one second-factor rule for every service, and a
certificate's outcome shown only to the signed-in applicant (docs/architecture.md#security-and-privacy)."""

import datetime
import re

import pytest
from django.db import IntegrityError
from django.urls import reverse

from accounts.models import Role
from certificates import services as ncr
from certificates.models import Application
from familyplanning.models import FamilyPlanningApplication
from hukou.models import MigrationApplication
from portal.cases import services as case_services
from portal.cases.tracking import track
from tests.factories import (
    ApplicationFactory,
    FamilyPlanningApplicationFactory,
    MigrationApplicationFactory,
    OfficeFactory,
    StaffFactory,
    UserFactory,
)
from tests.testapp.models import SampleCase

pytestmark = pytest.mark.django_db


@pytest.fixture
def en_client(client):
    client.cookies["portal_language"] = "en"
    return client


NEW_FORMAT = re.compile(r"(?P<prefix>[A-Z]+)-(?P<day>\d{8})-(?P<a>[0-9A-HJKMNP-TV-Z]{4})-(?P<b>[0-9A-HJKMNP-TV-Z]{4})")


def post(client, number, factor):
    return client.post(reverse("track"), {"case_number": number, "second_factor": factor})


def result(response):
    """The answer under the form: the section the page adds once someone searched."""
    html = response.content.decode()
    match = re.search(r'<section aria-labelledby="result-heading".*?</section>', html, re.S)
    assert match, "no result section"
    return match.group(0)


def found(response, number):
    return f'data-case="{number}"' in response.content.decode()


# --- case numbers --------------------------------------------------------------------------------------------------


def test_new_case_numbers_keep_prefix_and_date_and_end_in_a_random_part():
    day = datetime.date(2026, 12, 7)
    numbers = [case_services.next_case_number("NCR", day) for _ in range(1000)]
    parts = [NEW_FORMAT.fullmatch(number) for number in numbers]
    assert all(parts), [n for n, p in zip(numbers, parts, strict=True) if not p][:3]
    assert {(p["prefix"], p["day"]) for p in parts} == {("NCR", "20261207")}
    randoms = [p["a"] + p["b"] for p in parts]
    assert len(set(randoms)) == 1000  # no two share the random part
    assert all(x != y for x, y in zip(randoms, randoms[1:], strict=False))  # neighbours differ
    # No ambiguous letters; and not a counter: the random parts are not in increasing order.
    assert not set("".join(randoms)) & set("ILOU")
    assert randoms != sorted(randoms)


def test_a_drawn_number_already_taken_is_drawn_again(citizen, station_a, monkeypatch):
    taken = SampleCase.objects.create(
        case_number="TST-20261207-AAAA-AAAA", applicant=citizen, office=station_a, status="submitted"
    )
    draws = iter([taken.case_number, "TST-20261207-BBBB-BBBB"])
    monkeypatch.setattr(case_services, "next_case_number", lambda prefix, day=None: next(draws))
    case = case_services.create_with_case_number(SampleCase, "TST", applicant=citizen, office=station_a)
    assert case.case_number == "TST-20261207-BBBB-BBBB"
    # Another constraint failing is not mistaken for a collision.
    monkeypatch.setattr(case_services, "next_case_number", lambda prefix, day=None: "TST-20261207-CCCC-CCCC")
    with pytest.raises(IntegrityError):
        case_services.create_with_case_number(SampleCase, "TST", applicant=citizen, office=None)


def test_services_give_new_drafts_random_numbers(station_a, citizen):
    application = ncr.application_create_draft(applicant=citizen, for_self=True, office=station_a)
    assert NEW_FORMAT.fullmatch(application.case_number)
    assert application.case_number.startswith("NCR-")


def test_old_numbers_keep_working_on_the_status_page_and_track(client, station_a):
    application = ApplicationFactory(office=station_a)
    Application.objects.filter(pk=application.pk).update(case_number="NCR-20261124-00001")
    application.refresh_from_db()
    client.force_login(application.applicant)
    assert client.get(reverse("certificates:detail", args=[application.case_number])).status_code == 200
    assert found(post(client, "ncr-20261124-00001", application.holder_id_number[-4:]), "NCR-20261124-00001")


def test_a_sweep_over_sequential_numbers_finds_nothing(client, station_a):
    """Sixty submitted cases of one day: guessing -00001 … -00050 with the right last four finds none of them."""
    holder = UserFactory()
    for _ in range(60):
        ApplicationFactory(office=station_a, applicant=holder)
    day = datetime.date.today().strftime("%Y%m%d")
    from django.core.cache import cache

    for n in range(1, 51):
        if n % 20 == 1:
            cache.clear()  # past the rate limit: the numbers themselves must give nothing away
        response = post(client, f"NCR-{day}-{n:05d}", holder.id_number[-4:])
        assert response.status_code == 200
        assert 'class="portal-panel" role="status"' in response.content.decode()  # "no application matches"
        assert "data-case=" not in response.content.decode()


def test_normalising_a_typed_number():
    assert case_services.normalize_case_number(" ncr-20261207-7kq2-m9xd ") == "NCR-20261207-7KQ2-M9XD"
    assert case_services.normalize_case_number("NCR-20261207-7KQ2-M9XO") == "NCR-20261207-7KQ2-M9X0"
    assert case_services.normalize_case_number("ncr-20261124-00001") == "NCR-20261124-00001"


# --- one second-factor rule ------------------------------------------------------------------------------------------


def _fp_case():
    office = OfficeFactory(kind="family_planning")
    return FamilyPlanningApplicationFactory(office=office, applicant=UserFactory(real_name="欧阳思远"))


def _hk_case():
    from accounts.models import Office

    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    offices = {
        "move_in": OfficeFactory(parent=zhengzhou),
        "municipal": OfficeFactory(kind=Office.Kind.HOUSEHOLD_ADMIN, division_code="410100", parent=zhengzhou),
        "move_out": OfficeFactory(),
    }
    return MigrationApplicationFactory(
        offices=offices, status="submitted", applicant=UserFactory(real_name="王小明"), complete=True
    )


@pytest.mark.parametrize("make", ["ncr", "fp", "hk"])
def test_one_second_factor_for_every_service(make, station_a):
    case = {"ncr": lambda: ApplicationFactory(office=station_a), "fp": _fp_case, "hk": _hk_case}[make]()
    number = case.case_number
    id_number = case.applicant.id_number
    last_four = id_number[-4:]
    wrong = "0000" if last_four != "0000" else "1111"
    assert track(number, last_four).case_number == number
    assert track(number, last_four.lower()).case_number == number  # x or X
    assert track(number, " " + "".join(chr(ord(c) + 0xFEE0) for c in last_four)).case_number == number  # full width
    for refused in (case.applicant.real_name, wrong, id_number, id_number[-5:], last_four[:3], ""):
        assert track(number, refused) is None, refused


def test_a_certificate_by_an_agent_is_found_by_the_holders_or_the_agents_number(station_a):
    agent = UserFactory()
    holder = UserFactory()
    application = ApplicationFactory(
        office=station_a,
        applicant=agent,
        for_self=False,
        holder_name=holder.real_name,
        holder_id_number=holder.id_number,
    )
    assert track(application.case_number, holder.id_number[-4:]) is not None
    assert track(application.case_number, agent.id_number[-4:]) is not None


def test_a_wrong_number_and_a_wrong_second_factor_give_the_same_page(client, station_a):
    application = ApplicationFactory(office=station_a)
    last_four = application.holder_id_number[-4:]
    wrong_factor = post(client, application.case_number, "0000" if last_four != "0000" else "1111")
    wrong_number = post(client, "NCR-20261207-ZZZZ-ZZZZ", last_four)

    assert wrong_factor.status_code == wrong_number.status_code == 200
    assert result(wrong_factor) == result(wrong_number)


# --- a certificate's outcome ---------------------------------------------------------------------------------------


def _decided(station_a, *, refuse: bool):
    officer = StaffFactory(office=station_a, role=Role.POLICE_OFFICER)
    application = ApplicationFactory(office=station_a, documents=True)
    ncr.application_accept(application=application, by=officer)
    if refuse:
        ncr.application_refuse(application=application, by=officer, reason="Unsealed conviction in the register.")
    else:
        ncr.application_approve(application=application, by=officer)
    return application


def test_track_never_shows_a_certificates_outcome_to_anyone_signed_out(en_client, station_a):
    refused = _decided(station_a, refuse=True)
    approved = _decided(station_a, refuse=False)
    pages = {}
    for application in (refused, approved):
        response = post(en_client, application.case_number, application.holder_id_number[-4:])
        html = result(response)
        assert found(response, application.case_number)
        assert 'data-testid="track-stage"' in html and "Finished: log in to see the result" in html
        for secret in (
            "Refused",
            "refused",
            "Approved",
            "issued",
            "Unsealed",
            "portal-timeline",
            "Last change",
            "<time",
        ):
            assert secret not in html, secret
        pages[application] = html.replace(application.case_number, "NUMBER")
    # Refused and approved look exactly alike.
    assert pages[refused] == pages[approved]


def test_track_shows_the_stage_before_a_decision(en_client, station_a):
    application = ApplicationFactory(office=station_a)
    html = post(en_client, application.case_number, application.holder_id_number[-4:]).content.decode()
    assert "Submitted, waiting to be accepted" in html


def test_the_signed_in_applicant_sees_the_outcome_and_others_do_not(en_client, station_a):
    refused = _decided(station_a, refuse=True)
    someone = UserFactory(language="en")
    en_client.force_login(someone)
    html = post(en_client, refused.case_number, refused.holder_id_number[-4:]).content.decode()
    assert "Finished: log in to see the result" in html and '<span class="portal-status">Refused' not in html
    en_client.force_login(refused.applicant)
    html = post(en_client, refused.case_number, refused.holder_id_number[-4:]).content.decode()
    assert '<span class="portal-status">Refused</span>' in html
    assert 'class="portal-timeline"' in html


def test_the_signed_in_holder_of_an_agents_application_sees_the_outcome(en_client, station_a):
    holder = UserFactory(language="en")
    application = ApplicationFactory(
        office=station_a,
        applicant=UserFactory(),
        for_self=False,
        holder_name=holder.real_name,
        holder_id_number=holder.id_number,
    )
    en_client.force_login(holder)
    html = post(en_client, application.case_number, holder.id_number[-4:]).content.decode()
    assert '<span class="portal-status">Submitted, awaiting acceptance</span>' in html


def test_other_services_show_their_status_to_anyone_with_the_second_factor(en_client):
    application = _fp_case()
    html = post(en_client, application.case_number, application.applicant.id_number[-4:]).content.decode()
    assert '<span class="portal-status">Submitted, awaiting acceptance</span>' in html


def test_the_rate_limit_still_answers_429(en_client, station_a):
    application = ApplicationFactory(office=station_a)
    for _ in range(20):
        assert post(en_client, application.case_number, "0000").status_code == 200
    assert post(en_client, application.case_number, application.holder_id_number[-4:]).status_code == 429


def test_hukou_and_fp_services_are_reachable_by_new_numbers(client):
    application = _fp_case()
    client.force_login(application.applicant)
    number = case_services.next_case_number("FP")
    FamilyPlanningApplication.objects.filter(pk=application.pk).update(case_number=number)
    assert client.get(reverse("familyplanning:detail", args=[number])).status_code == 200
    move = _hk_case()
    client.force_login(move.applicant)
    assert MigrationApplication.objects.filter(pk=move.pk).exists()
    assert client.get(reverse("hukou:detail", args=[move.case_number])).status_code == 200
