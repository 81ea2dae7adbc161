"""Fixtures of this folder's tests: English, the offices of a move and their staff, an adult applicant, private media."""

import pytest

from tests.factories import UserFactory, hukou_offices, hukou_staff
from tests.hukou.pages import id_of


@pytest.fixture(autouse=True)
def _english(settings):
    """Assertions read the English messages; the zh-hans catalogue must not change them."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def offices(db):
    """Three offices in two cities: the move-in station, Zhengzhou's household administration, the move-out station
    in Luoyang (the citizen pages' tests add two more: tests.hukou.pages.citizen_offices)."""
    return hukou_offices()


@pytest.fixture
def staff(offices):
    return hukou_staff(offices)


@pytest.fixture
def applicant(db):
    """A woman of 34, the head of the household she leaves."""
    return UserFactory(real_name="王芳", id_number=id_of(34, sex="F"))
