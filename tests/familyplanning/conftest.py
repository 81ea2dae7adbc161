"""Fixtures of this folder's tests: English, a county health commission and its officer, a citizen who reads English."""

import pytest
from django.utils import translation

from accounts.models import Office, Role
from familyplanning import tasks
from tests.factories import OfficeFactory, StaffFactory, UserFactory
from tests.pki import install_signer


@pytest.fixture(autouse=True)
def _english(settings):
    """Assertions read the English messages; the zh-hans catalogue must not change them."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def office(db):
    return OfficeFactory(
        name="金水区卫生健康委员会", name_en="Jinshui Health Commission", kind=Office.Kind.FAMILY_PLANNING
    )


@pytest.fixture
def other_office(db):
    """A health commission of another city (Luoyang): no officer or supervisor of Zhengzhou acts on its cases."""
    return OfficeFactory(
        name="老城区卫生健康委员会",
        name_en="Laocheng Health Commission",
        kind=Office.Kind.FAMILY_PLANNING,
        division_code="410302",
        parent=Office.objects.get(division_code="410300", kind=Office.Kind.CITY_HEALTH_COMMISSION),
    )


@pytest.fixture
def officer(office):
    return StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER)


@pytest.fixture
def supervisor(office):
    """A supervisor of the city office above `office` (Zhengzhou)."""
    return StaffFactory(office=office.parent, role=Role.SUPERVISOR, language="en")


@pytest.fixture
def citizen(db):
    return UserFactory(language="en")


@pytest.fixture(scope="module")
def signer_keys(tmp_path_factory):
    return install_signer(tmp_path_factory.mktemp("fp-citizen-keys"))


@pytest.fixture
def documents_environment(settings, tmp_path, signer_keys, monkeypatch):
    """Issued documents: media in tmp, the test signer, the site URL; the tests run the document task themselves."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = map(str, signer_keys)
    settings.SITE_URL = "https://ga.henan.example"
    # The tests run the document task themselves, as the worker would.
    monkeypatch.setattr(tasks.generate_document, "delay", lambda *a: None)
    with translation.override("en"):
        yield
