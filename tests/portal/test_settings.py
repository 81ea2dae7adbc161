"""Production settings pass Django's deployment checklist; development needs no secret."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.portal.production import production_env

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    drop = {"DEBUG", "SECRET_KEY", "DJANGO_HTTPS", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    # The production variables portal/checks.py asks for: each test gives them, or not, itself.
    drop |= {"SITE_URL", "SMS_BACKEND", "EMAIL_URL", "EMAIL_HOST", "EMAIL_BACKEND", "REDIS_URL"}
    drop |= {"SIGNING_KEY_FILE", "SIGNING_CERT_FILE", "SILENCED_SYSTEM_CHECKS"}
    clean = {k: v for k, v in os.environ.items() if k not in drop}
    clean["VAR_DIR"] = env.pop("VAR_DIR")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    # A complete production configuration (tests/portal/production.py): the portal's own checks want SITE_URL, an
    # SMS gateway, a mail relay, Redis and the signing files (portal/checks.py; tests/portal/test_checks.py).
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        VAR_DIR=str(tmp_path),
        **{
            **production_env(tmp_path),
            "SECRET_KEY": "a" * 20 + "production-like-secret-key-with-enough-entropy-9f8e7d6c5b4a",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_on_the_development_defaults(tmp_path):
    """The same command without the production variables: no longer clean (it used to pass)."""
    result = run_manage(
        "check",
        "--deploy",
        VAR_DIR=str(tmp_path),
        DEBUG="0",
        DJANGO_HTTPS="1",
        ALLOWED_HOSTS="portal.example.test",
        SECRET_KEY="a" * 20 + "production-like-secret-key-with-enough-entropy-9f8e7d6c5b4a",
    )
    assert result.returncode != 0
    for error_id in ("portal.E001", "portal.E003", "portal.E004", "portal.E005", "portal.E007", "portal.E009"):
        assert error_id in result.stderr


def test_production_refuses_to_start_without_a_secret(tmp_path):
    result = run_manage("check", VAR_DIR=str(tmp_path), DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("https", ["0", "1"])
def test_cookies_secure_only_behind_https(tmp_path, https):
    code = "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    result = run_manage("shell", "--no-imports", "-c", code, VAR_DIR=str(tmp_path), DEBUG="1", DJANGO_HTTPS=https)
    assert result.stdout.split()[-2:] == (["True", "True"] if https == "1" else ["False", "False"])
