"""A complete production configuration for subprocess tests: what portal/checks.py asks of a production machine.

Nothing in it is contacted: `manage.py check` only parses the URLs. The signing files are throw-away placeholders
(the checks ask only that they can be read).

The helpers below run `manage.py` as a production-like process (its own environment, VAR_DIR and SQLite file).
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def signing_files(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    key, cert = directory / "key.pem", directory / "cert.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nplaceholder\n-----END PRIVATE KEY-----\n")
    cert.write_text("-----BEGIN CERTIFICATE-----\nplaceholder\n-----END CERTIFICATE-----\n")
    return key, cert


def production_env(tmp_path: Path) -> dict:
    key, cert = signing_files(tmp_path / "signing")
    for name in ("chain.pem", "roots.pem", "history.pem"):
        (tmp_path / "signing" / name).write_text(cert.read_text())
    return {
        "DEBUG": "0",
        "DJANGO_HTTPS": "1",
        "ALLOWED_HOSTS": "portal.example.test",
        "SECRET_KEY": "production-like-secret-key-with-enough-entropy-" + "9f8e7d6c5b4a" * 3,
        "SITE_URL": "https://portal.example.test",
        "SMS_BACKEND": "https://sms.example.test/send",
        "EMAIL_URL": "submission://portal:secret@mail.example.test",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "SIGNING_KEY_FILE": str(key),
        "SIGNING_CERT_FILE": str(cert),
        "SIGNING_CHAIN_FILE": str(tmp_path / "signing" / "chain.pem"),
        "SIGNING_TRUST_ROOTS_FILE": str(tmp_path / "signing" / "roots.pem"),
        "SIGNING_HISTORY_FILE": str(tmp_path / "signing" / "history.pem"),
        "TSA_URL": "https://tsa.example.test/tsa",
    }


def subprocess_env(tmp_path, **extra):
    """The environment of a production-like process: no test settings, its own VAR_DIR and SQLite file."""
    drop = ("PYTEST", "DJANGO_", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "REDIS_URL", "DATABASE_URL", "LOG_", "STORAGE")
    drop += ("SITE_URL", "SMS_", "EMAIL_", "SIGNING_", "SILENCED_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        SECRET_KEY="production-like-secret-key-" + "k" * 40,
        ALLOWED_HOSTS="portal.example.test",
        DEBUG="0",
    )
    env.update(extra)
    return env


def run_manage(tmp_path, *args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=subprocess_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
