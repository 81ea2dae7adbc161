"""Sign-in with the national government-service platform against a real OpenID Connect provider on loopback.

The provider is django-oauth-toolkit in its own small Django project (tests/oidc_provider/), run by `runserver` in a
subprocess with its own SQLite database and a freshly generated RSA key. The portal's client does the real
authorization-code flow with PKCE against it; the provider's login form is driven with `requests`, the portal with
Django's test client.
"""

import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.urls import reverse

from accounts.models import Assurance, IdentityCheck, IdentityMethod, User
from tests.factories import UserFactory, make_id_number

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "henan-portal"
CLIENT_SECRET = "provider-test-secret-" + "s" * 20  # noqa: S105 - a throw-away client of a loopback provider
SITE = "http://testserver"
NEW_NUMBER = make_id_number(rng=random.Random(4101))
HELD_NUMBER = make_id_number(rng=random.Random(4102))
LINK_NUMBER = make_id_number(rng=random.Random(4103))
PEOPLE = [
    {"username": "newperson", "password": "pw-new-1", "name": "王新民", "id_number": NEW_NUMBER},
    {"username": "claimant", "password": "pw-claim-1", "name": "李冒名", "id_number": HELD_NUMBER},
    {"username": "nonumber", "password": "pw-none-1", "name": "赵无号"},
    {"username": "badnumber", "password": "pw-bad-1", "name": "钱错号", "id_number": NEW_NUMBER[:-1] + "0"},
    {"username": "linker", "password": "pw-link-1", "name": "孙连", "id_number": LINK_NUMBER},
]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    state = tmp_path_factory.mktemp("oidc-provider")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
        "OIDC_PROVIDER_DIR": str(state),
        "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
        "PYTHONPATH": str(ROOT),
        "no_proxy": "127.0.0.1",
        "NO_PROXY": "127.0.0.1",
    }
    config = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": f"{SITE}{reverse('accounts:oidc_callback')}",
        "users": PEOPLE,
    }
    subprocess.run(
        [sys.executable, "-m", "tests.oidc_provider.bootstrap", json.dumps(config)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    port = _free_port()
    log = open(state / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "django", "runserver", "--noreload", "--nothreading", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    issuer = f"http://127.0.0.1:{port}/o"
    try:
        for _ in range(200):
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError((state / "server.log").read_text())
        yield issuer
    finally:
        server.terminate()
        server.wait(10)
        log.close()


@pytest.fixture
def platform(provider, settings, monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    settings.SITE_URL = SITE
    settings.IDENTITY_CHECK_BACKENDS = ["oidc"]
    settings.OIDC_ISSUER = provider
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    return provider


def sign_in(client, person):
    """The whole flow: the portal's redirect, the provider's login form, the redirect back to the portal."""
    start = client.get(reverse("accounts:oidc_start"))
    assert start.status_code == 302, start.content
    browser = requests.Session()
    location = start["Location"]
    for _ in range(6):
        if location.startswith(SITE):
            break
        answer = browser.get(location, allow_redirects=False, timeout=10)
        if answer.status_code == 200 and 'name="password"' in answer.text:  # the provider's login form
            token = browser.cookies["csrftoken"]
            answer = browser.post(
                answer.url,
                data={"username": person["username"], "password": person["password"], "csrfmiddlewaretoken": token},
                headers={"Referer": answer.url},
                allow_redirects=False,
                timeout=10,
            )
        assert answer.status_code == 302, answer.text[:500]
        location = answer.headers["Location"]
        if location.startswith("/"):
            location = f"{urlsplit(answer.url).scheme}://{urlsplit(answer.url).netloc}{location}"
    else:
        raise AssertionError("the provider never sent the browser back to the portal")
    back = urlsplit(location)
    return client.get(f"{back.path}?{back.query}")


@pytest.mark.django_db
def test_a_new_person_gets_an_account_at_verified(client, platform):
    impostor = UserFactory(declared=True, id_number=NEW_NUMBER, real_name="冒名者")
    response = sign_in(client, PEOPLE[0])
    assert response.status_code == 302 and response["Location"] == reverse("accounts:oidc_account")
    page = client.get(response["Location"])
    assert "王新民" in page.content.decode()
    done = client.post(
        reverse("accounts:oidc_account"),
        {"username": "wangxin", "email": "wangxin@example.test", "mobile": "13800138555", "consent": "on"},
    )
    assert done.status_code == 302 and done["Location"] == reverse("accounts:welcome")
    user = User.objects.get(username="wangxin")
    assert (user.real_name, user.id_number) == ("王新民", NEW_NUMBER)
    assert user.assurance_level == Assurance.VERIFIED and user.assurance_method == IdentityMethod.OIDC
    assert user.oidc_subject and user.assurance_check.outcome == IdentityCheck.Outcome.MATCH
    assert not user.has_usable_password()
    # The earlier, unverified account with the same number is superseded at once.
    impostor.refresh_from_db()
    assert impostor.is_suspended and not impostor.is_active


@pytest.mark.django_db
def test_a_returning_person_is_found_by_the_subject(client, platform):
    sign_in(client, PEOPLE[0])
    client.post(
        reverse("accounts:oidc_account"),
        {"username": "wangxin", "email": "wangxin@example.test", "mobile": "13800138555", "consent": "on"},
    )
    client.logout()
    user = User.objects.get(username="wangxin")
    response = sign_in(client, PEOPLE[0])
    assert response.status_code == 302 and response["Location"] == reverse("me")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert User.objects.filter(id_number=NEW_NUMBER).count() == 1


@pytest.mark.django_db
def test_a_verified_account_with_the_same_name_is_linked(client, platform):
    holder = UserFactory(id_number=LINK_NUMBER, real_name="孙连")  # verified earlier by the operator's check
    response = sign_in(client, PEOPLE[4])
    assert response.status_code == 302 and response["Location"] == reverse("me")
    holder.refresh_from_db()
    assert holder.oidc_subject and int(client.session["_auth_user_id"]) == holder.pk


@pytest.mark.django_db
def test_a_number_held_by_a_verified_account_under_another_name_is_refused(client, platform):
    holder = UserFactory(id_number=HELD_NUMBER, real_name="李真名")
    response = sign_in(client, PEOPLE[1])
    assert response.status_code == 403
    assert "someone other than the holder" in response.content.decode()
    assert "_auth_user_id" not in client.session
    holder.refresh_from_db()
    assert holder.is_active and holder.oidc_subject is None
    assert User.objects.filter(id_number=HELD_NUMBER).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("person", "says"), [(PEOPLE[2], "did not give your resident ID number"), (PEOPLE[3], "not valid")]
)
def test_claims_without_a_valid_number_are_refused(client, platform, person, says):
    response = sign_in(client, person)
    assert response.status_code == 403
    assert says in response.content.decode()
    assert "_auth_user_id" not in client.session and not User.objects.exists()


@pytest.mark.django_db
def test_a_signed_in_citizen_is_verified_when_the_claims_are_theirs(client, platform):
    citizen = UserFactory(declared=True, id_number=LINK_NUMBER, real_name="孙连")
    client.force_login(citizen)
    response = sign_in(client, PEOPLE[4])
    assert response.status_code == 302 and response["Location"] == reverse("accounts:verify_identity")
    citizen.refresh_from_db()
    assert citizen.assurance_level == Assurance.VERIFIED and citizen.assurance_method == IdentityMethod.OIDC


@pytest.mark.django_db
def test_a_forged_callback_is_refused(client, platform):
    client.get(reverse("accounts:oidc_start"))
    response = client.get(reverse("accounts:oidc_callback"), {"code": "made-up", "state": "made-up"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
