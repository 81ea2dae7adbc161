"""Production settings that fail fast (portal/checks.py): each check, a complete configuration, and the Celery worker
and beat refusing to start on an error (portal/celery.py)."""

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core import checks

from portal.celery import check_beat_configuration, check_worker_configuration, startup_errors
from portal.checks import _database_problem, _redis_url_problem
from tests.portal.production import production_env, signing_files

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def production(settings, tmp_path):
    """The test process's settings turned into a complete production configuration (DEBUG off)."""
    key, cert = signing_files(tmp_path / "signing")
    settings.DEBUG = False
    settings.CONFIGURED_FROM_ENV = frozenset({"SITE_URL", "EMAIL_URL", "SMS_BACKEND", "REDIS_URL"})
    settings.SITE_URL = "https://portal.example.test"
    settings.SMS_BACKEND = "https://sms.example.test/send"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "mail.example.test"
    settings.EMAIL_PORT = 587
    settings.REDIS_URL = "redis://redis.internal:6379/0"
    settings.SIGNING_KEY_FILE = str(key)
    settings.SIGNING_CERT_FILE = str(cert)
    settings.TSA_URL = "https://tsa.example.test/tsa"
    settings.SILENCED_SYSTEM_CHECKS = []
    return settings


def portal_errors():
    """{id: message} of the portal's checks (tag "portal"), as `manage.py check` reports them."""
    return {m.id: m for m in checks.run_checks(tags=["portal"])}


def given_without(settings, *names):
    settings.CONFIGURED_FROM_ENV = settings.CONFIGURED_FROM_ENV - set(names)


def assert_only(expected_id):
    found = portal_errors()
    assert set(found) == {expected_id}, found
    error = found[expected_id]
    assert error.level == checks.ERROR
    assert error.msg and error.hint  # what is wrong, and which variable to set to what
    return error


# --- a complete configuration ---------------------------------------------------------------------------------


def test_a_complete_production_configuration_passes_every_check(production):
    assert portal_errors() == {}
    # Everything the worker's start-up runs (Django's own and deployment checks too): no error at all.
    assert startup_errors(signs=True) == []


def test_nothing_is_reported_in_development(settings):
    settings.DEBUG = True
    settings.CONFIGURED_FROM_ENV = frozenset()
    settings.SMS_BACKEND = "console"
    settings.REDIS_URL = ""
    settings.SIGNING_KEY_FILE = "/nonexistent/key.pem"
    assert portal_errors() == {}
    assert startup_errors(signs=True) == []


# --- one test per check ---------------------------------------------------------------------------------------


def test_e001_site_url_not_given(production):
    given_without(production, "SITE_URL")
    production.SITE_URL = "http://127.0.0.1:8000"  # settings.py's development default
    error = assert_only("portal.E001")
    assert "SITE_URL=https://" in error.hint


@pytest.mark.parametrize("url", ["http://portal.example.test", "https://", "portal.example.test", "ftp://x.test"])
def test_e002_site_url_not_https(production, url):
    production.SITE_URL = url
    assert "SITE_URL=https://" in assert_only("portal.E002").hint


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_e003_signing_key_missing_or_unreadable(production, tmp_path, kind):
    production.SIGNING_KEY_FILE = str(tmp_path / "nowhere" / "key.pem") if kind == "missing" else str(tmp_path)
    error = assert_only("portal.E003")
    assert "SIGNING_KEY_FILE" in error.msg and "SIGNING_KEY_FILE" in error.hint


def test_e003_not_reported_where_the_key_is_deliberately_absent(production):
    production.SIGNING_KEY_FILE = ""  # a web, notify or default machine: it does not sign
    assert portal_errors() == {}


def test_e004_signing_certificate_missing(production, tmp_path):
    production.SIGNING_CERT_FILE = str(tmp_path / "nowhere" / "cert.pem")
    assert "SIGNING_CERT_FILE" in assert_only("portal.E004").hint


@pytest.mark.parametrize("tsa", ["", "tsa.example.test", "ftp://tsa.example.test/"])
def test_e013_a_signing_machine_without_a_timestamp_authority(production, tsa):
    production.TSA_URL = tsa
    assert "TSA_URL" in assert_only("portal.E017").hint


def test_e013_e015_not_reported_where_nothing_is_signed(production, tmp_path):
    production.SIGNING_KEY_FILE = ""
    production.TSA_URL = ""
    production.SIGNING_CHAIN_FILE = str(tmp_path / "nowhere.pem")
    assert portal_errors() == {}


def test_e014_trust_roots_missing(production, tmp_path):
    production.SIGNING_TRUST_ROOTS_FILE = str(tmp_path / "nowhere" / "roots.pem")
    assert "SIGNING_TRUST_ROOTS_FILE" in assert_only("portal.E018").msg


def test_e015_chain_missing_on_a_signing_machine(production, tmp_path):
    production.SIGNING_CHAIN_FILE = str(tmp_path / "nowhere" / "chain.pem")
    assert "SIGNING_CHAIN_FILE" in assert_only("portal.E019").hint


def test_e016_history_missing(production, tmp_path):
    production.SIGNING_HISTORY_FILE = str(tmp_path)  # a directory
    assert "signed by someone else" in assert_only("portal.E020").msg


@pytest.mark.parametrize("backend", ["console", "database"])
def test_e005_sms_backend_that_delivers_nothing(production, backend):
    production.SMS_BACKEND = backend
    error = assert_only("portal.E005")
    assert f"SMS_BACKEND={backend}" in error.msg and "SMS_BACKEND=https://" in error.hint
    given_without(production, "SMS_BACKEND")
    assert "(the default)" in assert_only("portal.E005").msg


@pytest.mark.parametrize("backend", ["file:///etc/passwd", "https://", "sms.example.test", ""])
def test_e006_sms_backend_not_usable(production, backend):
    production.SMS_BACKEND = backend
    assert "SMS_BACKEND=https://" in assert_only("portal.E006").hint


def test_e007_no_mail_transport(production):
    given_without(production, "EMAIL_URL")
    production.EMAIL_HOST, production.EMAIL_PORT = "localhost", 25  # settings.py's fallback
    error = assert_only("portal.E007")
    assert "localhost:25" in error.msg and "EMAIL_URL=" in error.hint
    production.CONFIGURED_FROM_ENV |= {"EMAIL_HOST"}  # a relay named by EMAIL_HOST is a configured transport
    assert portal_errors() == {}


@pytest.mark.parametrize("backend", ["console", "filebased", "locmem", "dummy"])
def test_e008_mail_backend_that_delivers_nothing(production, backend):
    production.EMAIL_BACKEND = f"django.core.mail.backends.{backend}.EmailBackend"
    assert "EMAIL_URL=" in assert_only("portal.E008").hint


def test_e009_redis_url_not_set(production):
    given_without(production, "REDIS_URL")
    production.REDIS_URL = ""
    assert "REDIS_URL=redis://" in assert_only("portal.E009").hint


@pytest.mark.parametrize(
    "url", ["redis://", "redis://:6379/0", "redis://redis.internal:port/0", "redis://h:6379/zero", "http://h:6379/0"]
)
def test_e010_redis_url_points_nowhere(production, url):
    production.REDIS_URL = url
    assert "REDIS_URL=redis://" in assert_only("portal.E010").hint


@pytest.mark.parametrize(
    "url", ["redis://redis.internal:6379/0", "rediss://:pw@redis.internal:6380/2", "redis://h", "unix:///run/r.sock"]
)
def test_redis_urls_that_name_a_server_pass(url):
    assert _redis_url_problem(url) is None


@pytest.mark.parametrize(
    ("database", "problem"),
    [
        ({"ENGINE": "django.db.backends.postgresql", "HOST": "", "NAME": "portal"}, "names no host"),
        ({"ENGINE": "django.db.backends.postgresql", "HOST": "db.internal", "NAME": ""}, "names no database"),
        ({"ENGINE": "django.db.backends.sqlite3", "HOST": "", "NAME": ":memory:"}, "names no database file"),
        ({"ENGINE": "django.db.backends.postgresql", "HOST": "db.internal", "NAME": "portal"}, None),
        ({"ENGINE": "django.db.backends.postgresql", "HOST": "/var/run/postgresql", "NAME": "portal"}, None),
        ({"ENGINE": "django.db.backends.sqlite3", "HOST": "", "NAME": "/srv/portal/db.sqlite3"}, None),
    ],
)
def test_database_url_shapes(database, problem):
    assert _database_problem(database) == problem


# --- from the environment, as a deployment sees them -------------------------------------------------------------


def run_check(tmp_path, *args, **env):
    drop = ("PYTEST", "DJANGO_", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "EMAIL_", "SMS_", "REDIS_URL")
    drop += ("DATABASE_URL", "SIGNING_", "SILENCED_", "LOG_", "STORAGE")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env={**clean, "VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_variables_left_to_their_defaults_are_reported_from_the_environment(tmp_path):
    """Nothing but a secret and the hosts: every default that only suits development is named."""
    result = run_check(
        tmp_path,
        DEBUG="0",
        SECRET_KEY="production-like-secret-key-" + "k" * 40,
        ALLOWED_HOSTS="portal.example.test",
        DATABASE_URL="postgres://portal@/portal",  # no host: points nowhere (nothing connects at check time)
    )
    assert result.returncode != 0
    for error_id in ("E001", "E003", "E004", "E005", "E007", "E009", "E011"):
        assert f"(portal.{error_id})" in result.stderr, (error_id, result.stderr)
    assert "SMS_BACKEND=database (the default)" in result.stderr


def test_the_complete_production_environment_passes_check_deploy(tmp_path):
    result = run_check(tmp_path, "--deploy", "--fail-level", "WARNING", **production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_silenced_checks_come_from_the_environment(tmp_path):
    env = {**production_env(tmp_path), "SMS_BACKEND": "database"}
    assert "(portal.E005)" in run_check(tmp_path, **env).stderr
    result = run_check(tmp_path, **env, SILENCED_SYSTEM_CHECKS="portal.E005")
    assert result.returncode == 0, result.stderr
    assert "1 silenced" in result.stdout


# --- the Celery worker and beat refuse to start -------------------------------------------------------------------


def worker_consuming(*queues):
    """What the worker_init signal sends: a WorkController, here only the part the hook reads."""
    return SimpleNamespace(app=SimpleNamespace(amqp=SimpleNamespace(queues=SimpleNamespace(consume_from=queues))))


def test_the_worker_starts_with_a_complete_configuration(production):
    assert check_worker_configuration(sender=worker_consuming("pdf")) is None
    assert check_beat_configuration(sender=None) is None


def test_the_worker_refuses_to_start_with_a_bad_environment(production, capsys):
    production.SMS_BACKEND = "database"
    given_without(production, "SITE_URL")
    with pytest.raises(SystemExit) as refused:
        check_worker_configuration(sender=worker_consuming("notify"))
    assert refused.value.code == 78
    err = capsys.readouterr().err
    assert "The worker refuses to start: 2 configuration error(s)" in err
    assert "portal.E001" in err and "portal.E005" in err and "HINT: Set SMS_BACKEND" in err


def test_beat_refuses_to_start_with_a_bad_environment(production, capsys):
    production.REDIS_URL = "redis://"
    with pytest.raises(SystemExit):
        check_beat_configuration(sender=None)
    assert "portal.E010" in capsys.readouterr().err


def test_a_pdf_worker_needs_the_signing_key_that_other_machines_may_leave_out(production, capsys):
    production.SIGNING_KEY_FILE = ""
    assert check_worker_configuration(sender=worker_consuming("notify")) is None
    assert check_worker_configuration(sender=worker_consuming("default")) is None
    for consumer in (worker_consuming("pdf"), worker_consuming()):  # no --queues: every queue, pdf too
        with pytest.raises(SystemExit):
            check_worker_configuration(sender=consumer)
        assert "portal.E012" in capsys.readouterr().err


def test_the_start_up_checks_honour_silenced_ids(production):
    production.SMS_BACKEND = "database"
    assert [e.id for e in startup_errors()] == ["portal.E005"]
    production.SILENCED_SYSTEM_CHECKS = ["portal.E005"]
    assert startup_errors() == []


def test_a_real_worker_command_exits_before_reaching_the_broker(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_", "SMS_", "SILENCED_"))}
    env.update(production_env(tmp_path), SMS_BACKEND="console", VAR_DIR=str(tmp_path), LOG_FORMAT="plain")
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there: a worker that got that far would hang
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--queues", "notify", "--without-mingle"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 78, result.stdout + result.stderr
    assert "portal.E005" in result.stderr
