"""Fixtures of the verification tests (test_verify, test_verdict, test_pki): none is autouse; test_verify and
test_verdict use english, media and signing for every test (pytestmark)."""

import pytest
from django.utils import translation

from portal.cases.services import next_case_number
from tests.factories import UserFactory
from tests.pki import install_signer, make_forged_keys
from tests.testapp.models import SampleCase


@pytest.fixture
def english(client):
    # Messages are asserted in English; pages follow the language cookie, services the active language.
    client.cookies["portal_language"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    return install_signer(tmp_path_factory.mktemp("verify-key"))


@pytest.fixture(scope="session")
def foreign_keys(tmp_path_factory):
    """A forger's key: the portal's subject name under a look-alike root and CA."""
    return make_forged_keys(tmp_path_factory.mktemp("verify-foreign-key"))


@pytest.fixture
def signing(settings, keys):
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = map(str, keys)
    settings.SITE_URL = "https://ezwfw.example.test"


@pytest.fixture
def holder(db):
    return UserFactory(real_name="王小明", mobile="+8613812345678")


@pytest.fixture
def case(holder, station_a):
    return SampleCase.objects.create(case_number=next_case_number("TST"), applicant=holder, office=station_a)
