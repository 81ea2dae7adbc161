"""Production settings pass Django's deployment checklist; development needs no secret."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    drop = {"DEBUG", "SECRET_KEY", "DJANGO_HTTPS", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
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
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        VAR_DIR=str(tmp_path),
        DEBUG="0",
        DJANGO_HTTPS="1",
        ALLOWED_HOSTS="portal.example.test",
        SECRET_KEY="a" * 20 + "production-like-secret-key-with-enough-entropy-9f8e7d6c5b4a",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret(tmp_path):
    result = run_manage("check", VAR_DIR=str(tmp_path), DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("https", ["0", "1"])
def test_cookies_secure_only_behind_https(tmp_path, https):
    code = "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    result = run_manage("shell", "--no-imports", "-c", code, VAR_DIR=str(tmp_path), DEBUG="1", DJANGO_HTTPS=https)
    assert result.stdout.split()[-2:] == (["True", "True"] if https == "1" else ["False", "False"])
