"""Fixtures of this folder's tests."""

import pytest


@pytest.fixture(autouse=True)
def _english(settings):
    """Assertions read the English messages; the zh-hans catalogue must not change them."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
