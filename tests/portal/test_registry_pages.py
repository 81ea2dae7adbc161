"""/me/ and /track/ read every service through the registry."""

import pytest
from django.urls import reverse

from portal.cases import services
from tests.factories import UserFactory
from tests.testapp.models import SampleCase

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(citizen, station_a):
    return SampleCase.objects.create(
        case_number=services.next_case_number("TST"), applicant=citizen, office=station_a, status="submitted"
    )


def test_me_lists_only_my_cases(client, citizen, other_citizen, case, station_a):
    theirs = SampleCase.objects.create(
        case_number=services.next_case_number("TST"), applicant=other_citizen, office=station_a, status="submitted"
    )
    client.force_login(citizen)
    html = client.get(reverse("me")).content.decode()
    assert case.case_number in html
    assert theirs.case_number not in html


def test_me_needs_login(client):
    response = client.get(reverse("me"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize(
    ("factor", "found"), [("last4", True), ("last4-lower", True), ("full-width", True), ("name", False)]
)
def test_track_finds_a_case_with_the_last_four_id_characters_only(client, case, factor, found):
    last_four = case.applicant.id_number[-4:]
    second = {
        "last4": last_four,
        "last4-lower": last_four.lower(),
        "full-width": "".join(chr(ord(ch) + 0xFEE0) for ch in last_four),  # １２３Ｘ as a Chinese keyboard types it
        "name": case.applicant.real_name,
    }[factor]
    html = client.post(reverse("track"), {"case_number": case.case_number.lower(), "second_factor": second}).content
    assert (f'data-case="{case.case_number}"' in html.decode()) is found


def test_track_with_a_wrong_second_factor_says_only_not_found(client, case):
    other = UserFactory()
    response = client.post(reverse("track"), {"case_number": case.case_number, "second_factor": other.id_number[-4:]})
    assert response.status_code == 200
    assert (
        case.case_number
        not in response.content.decode().split("<form")[0] + response.content.decode().split("</form>")[-1]
    )
    assert response.context["searched"] and response.context["result"] is None


@pytest.mark.parametrize(
    "proxies,forwarded,expected",
    [
        (0, "6.6.6.6", "10.0.0.9"),  # no proxy of ours: X-Forwarded-For is the client's to forge
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # our proxy appended the real address last
        (1, "", "10.0.0.9"),
        (2, "6.6.6.6, 203.0.113.7, 10.1.1.1", "203.0.113.7"),
    ],
)
def test_client_ip_trusts_only_our_own_proxies(rf, settings, proxies, forwarded, expected):
    from portal.ratelimit import client_ip

    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.9")
    assert client_ip(request) == expected
