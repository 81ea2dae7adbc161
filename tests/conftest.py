"""Shared fixtures, and the test tiers.

Services-tier tests (marked `services`) run only when DATABASE_URL and REDIS_URL are set (.ci/run sets them); the
run ends with a summary of what each tier ran and why a tier was skipped (docs/architecture.md#test-tiers).
"""

import os

import pytest
from django.test import override_settings

from .factories import OfficeFactory, StaffFactory, UserFactory

SERVICES_SKIPPED = (
    "services tier: needs PostgreSQL, Redis and a Celery worker; set DATABASE_URL and REDIS_URL, or run .ci/run"
)
# Tiers by marker, in the order the summary lists them; a test without either marker is in the core tier.
TIERS = (("services", "services tier"), ("e2e", "browser tier (Chromium)"))
OUTCOME_RANK = {"passed": 0, "skipped": 1, "xfailed": 1, "xpassed": 2, "failed": 3, "error": 3}


def services_tier_enabled():
    return bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))


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
    if services_tier_enabled():
        return
    skip = pytest.mark.skip(reason=SERVICES_SKIPPED)
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


def _tier(report):
    keywords = getattr(report, "keywords", {})  # a collection error has none
    return next((name for marker, name in TIERS if marker in keywords), None)


def _skip_reason(report):
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """How many tests each tier ran, and which were skipped and why: a skipped tier is never silent."""
    from django.conf import settings

    outcomes = {}  # nodeid -> (outcome, report): the worst of a test's setup, call and teardown
    for key in OUTCOME_RANK:
        for report in terminalreporter.stats.get(key, []):
            nodeid = getattr(report, "nodeid", None)
            if nodeid is None or (key == "passed" and report.when != "call"):
                continue
            if nodeid not in outcomes or OUTCOME_RANK[key] > OUTCOME_RANK[outcomes[nodeid][0]]:
                outcomes[nodeid] = (key, report)
    if not outcomes:
        return
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    core = f"core tier ({engine})"
    tiers = {name: {} for name in (core, *(name for _, name in TIERS))}
    reasons = {name: {} for name in tiers}
    for outcome, report in outcomes.values():
        tier = _tier(report) or core
        tiers[tier][outcome] = tiers[tier].get(outcome, 0) + 1
        if outcome == "skipped":
            reason = _skip_reason(report)
            reasons[tier][reason] = reasons[tier].get(reason, 0) + 1
    terminalreporter.section("test tiers")
    for tier, counts in tiers.items():
        ran = sum(n for outcome, n in counts.items() if outcome != "skipped")
        line = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "no tests selected"
        if counts and not ran:
            line += " — the whole tier was skipped"
        terminalreporter.write_line(f"{tier}: {line}")
        for reason, n in sorted(reasons[tier].items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"    {n} skipped — {reason}")


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path_factory):
    """Uploads and PDFs of a test go to a temporary folder, never to var/media of the checkout."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def _reference_signing(tmp_path_factory):
    """This process's test PKI (tests/pki.py) and its first signing certificate, installed once."""
    from .pki import install_signer, shared_pki, signing_settings

    directory = tmp_path_factory.mktemp("signing")
    install_signer(directory)
    return shared_pki(), signing_settings(directory)


@pytest.fixture(autouse=True)
def _signing_material(settings, _reference_signing):
    """Every test signs with the TEST ONLY PKI's key, never var/signing; PAdES B-B (no TSA) unless it asks for
    `lta_signing`. Tests that install keys of their own set SIGNING_KEY_FILE and SIGNING_CERT_FILE over these."""
    pki, files = _reference_signing
    for name, value in files.items():
        setattr(settings, name, value)
    settings.TSA_URL = ""
    settings.TEST_PKI_DIR = str(pki.directory)
    settings.TEST_PKI_PORT = pki.port


@pytest.fixture(scope="session")
def animated_pki(_reference_signing):
    """The test PKI served by `certomancer animate` on its loopback port (OCSP, CRLs, TSA), for the whole session."""
    pki, _files = _reference_signing
    if pki.process is None:
        pki.start()
    yield pki
    pki.stop()


@pytest.fixture
def lta_signing(settings, animated_pki, tmp_path):
    """PAdES B-LTA signing against the animated test PKI, with signer-1 installed in a folder of this test's own."""
    from .pki import install_signer, signing_settings

    install_signer(tmp_path / "lta-signing", pki=animated_pki)
    for name, value in signing_settings(tmp_path / "lta-signing").items():
        setattr(settings, name, value)
    settings.TSA_URL = animated_pki.tsa_url
    return animated_pki


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
    """Rate-limit counters, cached calendar data and rendered fragments never leak from one test into the next."""
    from django.core.cache import cache, caches

    cache.clear()
    caches["fragments"].clear()
    yield
