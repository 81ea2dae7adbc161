"""A complete production configuration for subprocess tests: what portal/checks.py asks of a production machine.

Nothing in it is contacted: `manage.py check` only parses the URLs. The signing files are throw-away placeholders
(the checks ask only that they can be read).
"""

from pathlib import Path


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
