"""Identity assurance: the carrier check against a real HTTP gateway on loopback, the demo check, who keeps an ID
number, frozen cases, the level each service needs, the counter check on the review page, the production checks."""

import re
import time

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.urls import reverse
from django.utils import translation

from accounts import identity
from accounts.models import Assurance, IdentityCheck, IdentityMethod, User
from certificates.models import Application, Status
from portal.cases import services as cases
from portal.cases.models import Transition
from portal.notify.models import OutboxMessage
from tests.certificates.pages import complete_draft, submit, url
from tests.factories import OfficeFactory, StaffFactory, UserFactory, make_id_number
from tests.identity_gateway import identity_gateway
from tests.testapp.models import SampleCase

Outcome = IdentityCheck.Outcome


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


# --- the operator's gateway, a real HTTP server on 127.0.0.1 --------------------------------------------------


@pytest.fixture
def gateway(settings, monkeypatch):
    """The mobile operator's check: `answers` lists "match", "mismatch", "slow" or an HTTP status, in turn."""
    with identity_gateway(settings, monkeypatch, token="gw-token") as server:
        settings.IDENTITY_GATEWAY_TIMEOUT = 0.5
        settings.IDENTITY_GATEWAY_ATTEMPTS = 2
        yield server


@pytest.mark.django_db
def test_carrier_match_raises_the_account_to_verified(gateway):
    user = UserFactory(declared=True)
    check = identity.identity_check_run(user=user, method="carrier")
    assert check.outcome == Outcome.MATCH and check.reference == "op-1"
    user.refresh_from_db()
    assert (user.assurance_level, user.assurance_method, user.assurance_check_id) == (
        Assurance.VERIFIED,
        IdentityMethod.CARRIER,
        check.pk,
    )
    sent = gateway.received[0]
    assert sent["auth"] == "Bearer gw-token"
    assert {k: sent["json"][k] for k in ("name", "id_number", "mobile")} == {
        "name": user.real_name,
        "id_number": user.id_number,
        "mobile": user.mobile,
    }


@pytest.mark.django_db
def test_carrier_mismatch_is_recorded_and_changes_nothing(gateway):
    gateway.answers = ["mismatch"]
    user = UserFactory(declared=True)
    check = identity.identity_check_run(user=user, method="carrier")
    assert check.outcome == Outcome.MISMATCH
    user.refresh_from_db()
    assert user.assurance_level == Assurance.DECLARED and user.assurance_check is None
    assert len(gateway.received) == 1


@pytest.mark.django_db
def test_carrier_timeout_is_recorded_and_not_retried(gateway):
    gateway.answers = ["slow"]
    user = UserFactory(declared=True)
    started = time.monotonic()
    check = identity.identity_check_run(user=user, method="carrier")
    assert time.monotonic() - started < 1.4
    assert check.outcome == Outcome.TIMEOUT and "0.5 s" in check.detail
    user.refresh_from_db()
    assert user.assurance_level == Assurance.DECLARED
    assert len(gateway.received) <= 1


@pytest.mark.django_db
def test_carrier_5xx_is_retried_a_bounded_number_of_times(gateway):
    gateway.answers = [503, 502, "match"]
    user = UserFactory(declared=True)
    check = identity.identity_check_run(user=user, method="carrier")
    assert check.outcome == Outcome.ERROR and check.detail == "identity gateway answered HTTP 502"
    assert len(gateway.received) == 2  # IDENTITY_GATEWAY_ATTEMPTS
    user.refresh_from_db()
    assert user.assurance_level == Assurance.DECLARED
    # One 5xx, then an answer: the retry succeeds.
    gateway.answers = [500, "match"]
    assert identity.identity_check_run(user=user, method="carrier").outcome == Outcome.MATCH


@pytest.mark.django_db
def test_carrier_needs_the_confirmed_mobile(gateway):
    user = UserFactory(declared=True, mobile_confirmed_at=None)
    with pytest.raises(ValidationError, match="Confirm your mobile number first"):
        identity.identity_check_run(user=user, method="carrier")
    assert not gateway.received and not IdentityCheck.objects.exists()


@pytest.mark.django_db
def test_checks_are_limited_per_day(gateway):
    gateway.answers = ["mismatch"] * 10
    user = UserFactory(declared=True)
    for _ in range(identity.IDENTITY_CHECKS_PER_DAY):
        identity.identity_check_run(user=user, method="carrier")
    with pytest.raises(ValidationError, match="too often today"):
        identity.identity_check_run(user=user, method="carrier")
    assert len(gateway.received) == identity.IDENTITY_CHECKS_PER_DAY


@pytest.mark.django_db
def test_the_verify_page_runs_the_carrier_check(client, gateway):
    user = UserFactory(declared=True)
    client.force_login(user)
    page = client.get(reverse("accounts:verify_identity")).content.decode()
    assert 'data-testid="verify-carrier"' in page and 'data-testid="demo-check"' not in page
    response = client.post(reverse("accounts:verify_identity"), {"method": "carrier"}, follow=True)
    assert "Your identity is verified" in response.content.decode()
    user.refresh_from_db()
    assert user.identity_verified
    # A method that is not enabled is refused, whatever the form says.
    other = UserFactory(declared=True)
    client.force_login(other)
    response = client.post(reverse("accounts:verify_identity"), {"method": "demo"}, follow=True)
    assert "not offered" in response.content.decode()
    assert not IdentityCheck.objects.filter(user=other).exists()


# --- the demonstration check ----------------------------------------------------------------------------------


def number_ending(parity):
    while True:
        number = make_id_number()
        if number[-1].isdigit() and int(number[-1]) % 2 == parity:
            return number


@pytest.mark.django_db
def test_demo_outcomes_follow_the_last_digit(settings):
    settings.DEBUG = True
    settings.IDENTITY_CHECK_BACKENDS = ["demo"]
    even, odd = (
        UserFactory(declared=True, id_number=number_ending(0)),
        UserFactory(declared=True, id_number=number_ending(1)),
    )
    assert identity.identity_check_run(user=even, method="demo").outcome == Outcome.MATCH
    assert identity.identity_check_run(user=odd, method="demo").outcome == Outcome.MISMATCH
    assert User.objects.get(pk=even.pk).assurance_level == Assurance.VERIFIED
    assert User.objects.get(pk=odd.pk).assurance_level == Assurance.DECLARED


@pytest.mark.django_db
def test_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    settings.IDENTITY_CHECK_BACKENDS = ["demo"]
    user = UserFactory(declared=True, id_number=number_ending(0))
    with pytest.raises(ImproperlyConfigured):
        identity.identity_check_run(user=user, method="demo")
    assert User.objects.get(pk=user.pk).assurance_level == Assurance.DECLARED


def portal_errors():
    return {m.id: m for m in checks.run_checks(tags=["portal"]) if m.id.startswith("portal.E01")}


@pytest.mark.django_db
def test_production_checks_refuse_demo_and_incomplete_backends(settings):
    settings.DEBUG = False
    settings.IDENTITY_CHECK_BACKENDS = ["demo", "carrier", "oidc"]
    settings.IDENTITY_GATEWAY_URL = ""
    settings.OIDC_ISSUER = ""
    found = portal_errors()
    assert {"portal.E013", "portal.E014", "portal.E015"} <= set(found)
    assert "IDENTITY_GATEWAY_URL" in found["portal.E014"].hint and "OIDC_ISSUER" in found["portal.E015"].hint
    settings.IDENTITY_CHECK_BACKENDS = ["carrier", "oidc"]
    settings.IDENTITY_GATEWAY_URL = "https://idcheck.example.test/check"
    settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET = "https://gov.example.test", "a", "b"
    assert not {"portal.E013", "portal.E014", "portal.E015", "portal.E016"} & set(portal_errors())
    settings.IDENTITY_CHECK_BACKENDS = ["carrier", "magic"]
    assert "portal.E016" in portal_errors()


# --- who keeps the number -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_registering_with_a_number_held_by_an_unverified_account_is_accepted(client):
    number = make_id_number()
    UserFactory(declared=True, id_number=number)
    response = client.post(
        reverse("accounts:register"),
        {
            "real_name": "王芳",
            "id_number": number,
            "mobile": "13800138000",
            "email": "wangfang@example.test",
            "username": "wangfang",
            "password1": "Zhengzhou-Spring-2026",
            "password2": "Zhengzhou-Spring-2026",
            "consent": "on",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(id_number=number).count() == 2


@pytest.mark.django_db
def test_the_first_to_verify_keeps_the_number_and_the_other_is_suspended_with_cases_frozen(gateway, station_a):
    admin = UserFactory(is_superuser=True, is_staff=True, id_number=None, username="root")
    impostor = UserFactory(declared=True, real_name="冒名者")
    victim = UserFactory(declared=True, id_number=impostor.id_number, real_name="真名人")
    draft = complete_draft(impostor, station_a)
    submitted = SampleCase.objects.create(
        case_number=cases.next_case_number("TST"), applicant=impostor, office=station_a, status="submitted"
    )
    assert identity.identity_check_run(user=victim, method="carrier").outcome == Outcome.MATCH

    impostor.refresh_from_db()
    assert impostor.is_suspended and not impostor.is_active and impostor.assurance_level == Assurance.DECLARED
    for case in (draft, submitted):
        case.refresh_from_db()
        assert case.frozen_at is not None and "another account proved" in case.frozen_reason
        row = case.timeline().last()
        assert (row.from_status, row.to_status) == (case.status, case.status) and "Frozen" in row.note
    assert draft.status == Status.DRAFT  # the answers and the status stay for staff to see
    # The holder is told by e-mail; the administrators too.
    assert OutboxMessage.objects.filter(user=impostor, template="accounts/identity_superseded").exists()
    assert OutboxMessage.objects.filter(user=admin, template="accounts/identity_superseded_admin").exists()
    # A frozen case takes no step, whoever tries.
    officer = StaffFactory(office=station_a)
    with pytest.raises(cases.TransitionNotAllowed, match="frozen"):
        cases.transition(submitted, to="accepted", by=officer, allowed_from=("submitted",))
    stale = SampleCase.objects.get(pk=submitted.pk)
    stale.frozen_at = None  # a page read before the freeze
    with pytest.raises(cases.TransitionNotAllowed, match="frozen"):
        cases.transition(stale, to="accepted", by=officer, allowed_from=("submitted",))
    assert SampleCase.objects.get(pk=submitted.pk).status == "submitted"
    assert Transition.objects.filter(object_id=submitted.pk, to_status="accepted").count() == 0


@pytest.mark.django_db
def test_a_number_held_by_a_verified_account_cannot_be_verified_again(gateway):
    holder = UserFactory()  # verified
    other = UserFactory(declared=True, id_number=holder.id_number)
    with pytest.raises(ValidationError, match="already been verified"):
        identity.identity_check_run(user=other, method="carrier")
    check = IdentityCheck.objects.get(user=other)
    assert check.outcome == Outcome.MATCH  # recorded, but the level was refused
    other.refresh_from_db()
    holder.refresh_from_db()
    assert other.assurance_level == Assurance.DECLARED and holder.is_active and not other.is_suspended


# --- what each service needs ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_submission_below_the_level_is_refused_and_the_draft_kept(client, station_a):
    citizen = UserFactory(declared=True)
    application = complete_draft(citizen, station_a)
    client.force_login(citizen)
    page = client.get(url("check", application)).content.decode()
    assert 'data-testid="assurance-needed"' in page and reverse("accounts:verify_identity") in page
    response = submit(client, application)
    assert response.status_code == 400
    assert "needs an identity at the level “Verified”; yours is “Declared”" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Status.DRAFT and application.frozen_at is None
    assert Application.objects.filter(applicant=citizen).count() == 1
    # Once verified, the same draft goes in.
    User.objects.filter(pk=citizen.pk).update(assurance_level=Assurance.VERIFIED)
    assert 'data-testid="assurance-needed"' not in client.get(url("check", application)).content.decode()
    assert submit(client, application).status_code == 302
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED


def test_each_service_declares_its_level(db):
    from portal import registry

    assert registry.required_assurance("certificates") == "verified"
    assert registry.required_assurance("hukou") == "verified"
    assert registry.required_assurance("familyplanning") == "verified"
    # Feedback (portal.feedback, no service) needs no identity check: the unknown-service default.
    assert registry.required_assurance("feedback") == "declared"


# --- the counter -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_officer_confirms_the_applicant_at_the_counter_from_the_review_page(client, no_mfa, station_a):
    applicant = UserFactory(declared=True)
    application = complete_draft(applicant, station_a)
    Application.objects.filter(pk=application.pk).update(status=Status.SUBMITTED)
    officer = StaffFactory(office=station_a)
    client.force_login(officer)
    review = reverse("admin:certificates_application_change", args=[application.pk])
    page = client.get(review).content.decode()
    assert re.search(r'data-testid="applicant-assurance">\s*Declared', page)
    counter = reverse("admin:certificates_application_counter", args=[application.pk])
    assert counter in page
    wrong = client.post(counter, {"document_type": "resident_id", "document_number": make_id_number()})
    assert "is not this account" in wrong.content.decode()
    assert User.objects.get(pk=applicant.pk).assurance_level == Assurance.DECLARED
    done = client.post(counter, {"document_type": "resident_id", "document_number": applicant.id_number.lower()})
    assert done.status_code == 302 and done["Location"] == review
    applicant.refresh_from_db()
    assert applicant.assurance_level == Assurance.IN_PERSON and applicant.assurance_method == IdentityMethod.COUNTER
    check = applicant.assurance_check
    assert (check.officer, check.office, check.document_type) == (officer, station_a, "resident_id")
    assert check.document_number == applicant.masked_id_number
    page = client.get(review).content.decode()
    assert re.search(r'data-testid="applicant-assurance">\s*In person — ID card seen at a police station', page)
    # An officer of another station does not reach the case at all.
    client.force_login(StaffFactory(office=OfficeFactory()))
    assert (
        client.post(counter, {"document_type": "resident_id", "document_number": applicant.id_number}).status_code
        == 404
    )
