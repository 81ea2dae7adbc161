"""Attacks that only PostgreSQL and Redis show: races between two requests, PostgreSQL's own case folding and NUL
handling, and the Redis path of the verification rate limit. Run with the services tier (DATABASE_URL, REDIS_URL)."""

import re
import secrets
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import User
from portal.cases.deadlines import clock_start
from portal.notify.models import OutboxMessage
from tests.factories import ApplicationFactory, UserFactory, make_id_number

from .conftest import PASSWORD

pytestmark = [pytest.mark.services]

NEW_PASSWORDS = ("Luoyang-Peony-Garden-7", "Attacker-Chose-This-9")


@pytest.fixture(autouse=True)
def _postgresql():
    assert connection.vendor == "postgresql", "the services tier runs on PostgreSQL (DATABASE_URL)"


def random_ip():
    return f"198.18.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


def waiting_on_locks(n, timeout=15.0):
    """Block until `n` other sessions of this database wait on a lock (the race is then set up)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= n:
                return True
            time.sleep(0.05)
    return False


# --- PostgreSQL's case folding and the login throttle --------------------------------------------------


@pytest.mark.django_db
def test_dotless_i_spelling_counts_against_the_same_login_limit():
    UserFactory(username="lisi")
    address = random_ip()
    # On PostgreSQL UPPER('lısi') = 'LISI': this spelling logs in to "lisi" (shown first from another address) ...
    probe = Client()
    assert (
        probe.post("/accounts/login/", {"username": "lısi", "password": PASSWORD}, REMOTE_ADDR=random_ip()).status_code
        == 302
    )
    # ... so guessing with it must use up the same five attempts.
    for spelling in ("lısi", "lisı", "lısı", "lısi", "lisı"):
        Client().post("/accounts/login/", {"username": spelling, "password": "wrong"}, REMOTE_ADDR=address)
    client = Client()
    response = client.post("/accounts/login/", {"username": "lisi", "password": PASSWORD}, REMOTE_ADDR=address)
    assert response.status_code == 429
    assert client.get(reverse("accounts:profile")).status_code == 302


@pytest.mark.django_db
def test_reset_for_a_look_alike_address_never_mails_the_look_alike():
    user = UserFactory(email="mike@example.test")
    for lookalike in ("mıke@example.test", "MİKE@example.test", "mike@exampIe.test"):
        response = Client().post(reverse("accounts:password_reset"), {"email": lookalike}, REMOTE_ADDR=random_ip())
        assert response.status_code == 302
    sent = OutboxMessage.objects.filter(template="accounts/password_reset")
    assert all(message.to == user.email for message in sent)
    assert not sent.exclude(to=user.email).exists()


# --- races --------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_uses_of_one_reset_link_change_the_password_once():
    user = UserFactory()
    Client().post(reverse("accounts:password_reset"), {"email": user.email})
    body = OutboxMessage.objects.filter(user=user, template="accounts/password_reset").latest("pk").body
    path = re.search(r"https?://[^/\s]+(/\S+)", body).group(1)
    browsers = [Client(), Client()]
    forms = [b.get(path, follow=True) for b in browsers]
    assert all(page.context["validlink"] for page in forms)
    outcomes = {}

    def use(index):
        try:
            response = browsers[index].post(
                forms[index].request["PATH_INFO"],
                {"new_password1": NEW_PASSWORDS[index], "new_password2": NEW_PASSWORDS[index]},
            )
            outcomes[index] = response.status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=use, args=(i,)) for i in range(2)]
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)  # hold both requests at the row until both are in flight
        for thread in threads:
            thread.start()
        assert waiting_on_locks(2), "both requests should be waiting on the account row"
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == [200, 302], outcomes  # one success, one "link no longer valid"
    user.refresh_from_db()
    winner = next(i for i, status in outcomes.items() if status == 302)
    assert user.check_password(NEW_PASSWORDS[winner]) and not user.check_password(NEW_PASSWORDS[1 - winner])


@pytest.mark.django_db(transaction=True)
def test_two_registrations_of_one_number_in_two_spellings_at_once_store_one_number():
    number = make_id_number()
    spellings = [number, "".join(chr(0x966 + int(c)) if c.isdigit() else c for c in number)]
    barrier = threading.Barrier(2)
    outcomes = []

    def register(i):
        try:
            client = Client()
            barrier.wait(timeout=10)
            response = client.post(
                reverse("accounts:register"),
                {
                    "real_name": "王芳",
                    "id_number": spellings[i],
                    "mobile": f"+861381234567{i}",
                    "email": f"race{i}@example.test",
                    "username": f"race{i}",
                    "password1": "Zhengzhou-Spring-2026",
                    "password2": "Zhengzhou-Spring-2026",
                    "consent": "on",
                },
                REMOTE_ADDR=random_ip(),
            )
            outcomes.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Both are accepted, as Declared accounts: whoever registers first cannot lock the real holder out; the first to
    # reach Verified keeps the number (docs/architecture.md#identity-assurance). The two spellings are one number.
    assert sorted(outcomes) == [302, 302], outcomes
    numbers = User.objects.filter(username__startswith="race").values_list("id_number", "assurance_level")
    assert sorted(numbers) == [(number, "declared"), (number, "declared")]


# --- NUL bytes on PostgreSQL --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "request_kind", ["changelist_filter", "changelist_search", "popup_filter", "autocomplete_term", "action_text"]
)
def test_nul_in_admin_requests_is_a_clear_400_not_a_crash(staff_client, officer_a, station_a, request_kind, no_tasks):
    application = ApplicationFactory(office=station_a, status="accepted", **clock_start(3))
    client = staff_client(officer_a)
    changelist = reverse("admin:certificates_application_changelist")
    response = {
        "changelist_filter": lambda: client.get(changelist, {"status": "accepted\x00"}),
        "changelist_search": lambda: client.get(changelist, {"q": "NCR\x00"}),
        "popup_filter": lambda: client.get(changelist, {"_popup": "1", "_to_field": "id", "delivery": "\x00"}),
        "autocomplete_term": lambda: client.get(
            reverse("admin:autocomplete"),
            {"app_label": "verify", "model_name": "issueddocumentaccess", "field_name": "document", "term": "A\x00"},
        ),
        "action_text": lambda: client.post(
            reverse("admin:certificates_application_act", args=[application.pk, "request_info"]),
            {"text": "Upload the photo\x00again", "seen_status": "accepted"},
        ),
    }[request_kind]()
    assert response.status_code in (200, 400), response.status_code
    application.refresh_from_db()
    assert application.status == "accepted" and "\x00" not in application.info_request


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path,data",
    [
        ("/track/", {"case_number": "NCR\x00", "second_factor": "x\x00"}),
        ("/accounts/login/", {"username": "lisi\x00", "password": "x\x00"}),
        ("/accounts/password/reset/", {"email": "a\x00@example.test"}),
        (
            "/accounts/register/",
            {"username": "a\x00", "real_name": "b\x00", "id_number": "4\x00", "email": "c\x00@d.e"},
        ),
    ],
    ids=["track", "login", "password_reset", "register"],
)
def test_nul_in_public_forms_is_refused_not_a_crash(path, data):
    response = Client().post(path, data, REMOTE_ADDR=random_ip())
    assert response.status_code in (200, 302, 400)


# --- the verification rate limit through Redis -------------------------------------------------------------


@pytest.mark.django_db
def test_verification_enumeration_is_429_through_redis_whatever_the_forwarded_for(settings):
    from portal.ratelimit import redis_client
    from portal.verify.codes import ALPHABET, format_code

    assert redis_client() is not None, "the services tier has Redis (REDIS_URL)"
    settings.VERIFY_RATE_LIMIT = (5, 60)
    settings.TRUSTED_PROXY_COUNT = 1
    real = random_ip()
    statuses = []
    for i in range(8):
        code = format_code("".join(secrets.choice(ALPHABET) for _ in range(20)))
        response = Client().get(
            reverse("verify:api", args=[code]),
            REMOTE_ADDR="10.0.0.254",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}, {real}",
        )
        statuses.append(response.status_code)
        assert "no-store" in response["Cache-Control"]
    assert statuses[:5] == [404] * 5 and set(statuses[5:]) == {429}, statuses
