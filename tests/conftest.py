"""Shared fixtures. Services-tier tests (marked `services`) run only when REDIS_URL is set."""

import os

import pytest
from django.test import override_settings

from .factories import OfficeFactory, StaffFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    for item in items:
        # A transactional test flushes the database afterwards, and with it the offices the data migrations
        # loaded; serialized rollback puts them back for the tests that follow in the same process.
        marker = item.get_closest_marker("django_db")
        transactional = {"live_server", "transactional_db"} & set(item.fixturenames) or (
            marker and marker.kwargs.get("transaction")
        )
        if transactional:
            kwargs = {**(marker.kwargs if marker else {}), "transaction": True, "serialized_rollback": True}
            item.add_marker(pytest.mark.django_db(**kwargs), append=False)
    if os.environ.get("REDIS_URL"):
        return
    skip = pytest.mark.skip(reason="services tier: needs PostgreSQL, Redis and a worker (.ci/run runs it)")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path_factory):
    """Uploads and PDFs of a test go to a temporary folder, never to var/media of the checkout."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture
def citizen(db):
    return UserFactory()


@pytest.fixture
def other_citizen(db):
    return UserFactory()


@pytest.fixture
def station_a(db):
    return OfficeFactory(name="金水路派出所", name_en="Jinshui Road Police Station")


@pytest.fixture
def station_b(db):
    return OfficeFactory(name="老城派出所", name_en="Laocheng Police Station", division_code="410302")


@pytest.fixture
def officer_a(station_a):
    return StaffFactory(office=station_a)


@pytest.fixture
def officer_b(station_b):
    return StaffFactory(office=station_b)


@pytest.fixture
def no_mfa():
    """Staff tests that are not about the second factor sign in without TOTP."""
    with override_settings(STAFF_MFA_REQUIRED=False):
        yield


@pytest.fixture
def staff_client(client, no_mfa):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Put back the data migrations' rows (offices, roles) when a transactional test flushed them.

    Django reloads serialized data at the start of a serialized transactional test, not after it, so an ordinary
    test that follows one in the same process would otherwise see an empty office tree.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None and "db" not in request.fixturenames:
        yield
        return
    if (marker and marker.kwargs.get("transaction")) or {"transactional_db", "live_server"} & set(request.fixturenames):
        yield
        return
    request.getfixturevalue("db")
    from django.db import connection

    from accounts.models import Office

    contents = getattr(connection, "_test_serialized_contents", None)
    if contents and not Office.objects.exists():
        connection.creation.deserialize_db_from_string(contents)
    yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached calendar data never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
