"""Fixtures of this folder's tests: English, a county health commission and its officer, a citizen who reads English."""

import pytest

from accounts.models import Office, Role
from tests.factories import OfficeFactory, StaffFactory, UserFactory


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
