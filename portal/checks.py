"""Production settings that fail fast: Django system checks that refuse a configuration which would fail silently.

Registered by PortalConfig.ready as ordinary checks, so `manage.py check` (and `check --deploy`), `migrate`,
`runserver` and the Celery worker and beat (portal/celery.py) all see them. They report nothing while DEBUG is on:
development runs on the defaults. Nothing here connects to anything; URLs are only parsed.

Each id is stable (docs/deploy.md, Environment variables):

    portal.E001  SITE_URL is not set
    portal.E002  SITE_URL is not an https:// address
    portal.E003  the signing key file is missing or unreadable
    portal.E004  the signing certificate file is missing or unreadable
    portal.E005  SMS_BACKEND is console or database (no SMS reaches anybody)
    portal.E006  SMS_BACKEND is not a usable value
    portal.E007  no mail transport configured (EMAIL_URL unset: SMTP on localhost:25)
    portal.E008  a mail backend that delivers nothing (console, file, memory)
    portal.E009  REDIS_URL is not set
    portal.E010  REDIS_URL points nowhere
    portal.E011  DATABASE_URL points nowhere
    portal.E012  a worker consuming the pdf queue without a signing key (portal/celery.py only)
    portal.E013  IDENTITY_CHECK_BACKENDS names demo (anyone with an even last digit would be "verified")
    portal.E014  the carrier identity check without a usable IDENTITY_GATEWAY_URL
    portal.E015  the oidc sign-in without OIDC_ISSUER, OIDC_CLIENT_ID or OIDC_CLIENT_SECRET
    portal.E016  IDENTITY_CHECK_BACKENDS names a backend that does not exist
    portal.E017  a machine that signs without TSA_URL (its documents would be PAdES B-B, unverifiable after expiry)
    portal.E018  the trust roots file (SIGNING_TRUST_ROOTS_FILE) is missing or unreadable
    portal.E019  a machine that signs without its CA chain (SIGNING_CHAIN_FILE)
    portal.E020  the signing-certificate history (SIGNING_HISTORY_FILE) is missing or unreadable

and one warning, a database check in portal/workdays/checks.py (migrate, `check --database default`):

    portal.W001  no official holiday table for this year, or from 1 December for the coming one
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error

# Django mail backends that hand a message to nobody.
NON_DELIVERING_MAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend": "prints messages on the console",
    "django.core.mail.backends.filebased.EmailBackend": "writes messages to files",
    "django.core.mail.backends.locmem.EmailBackend": "keeps messages in memory",
    "django.core.mail.backends.dummy.EmailBackend": "discards messages",
}


def _given(name: str) -> bool:
    return name in getattr(settings, "CONFIGURED_FROM_ENV", ())


def _unreadable(path: str) -> str | None:
    """Why the file at `path` cannot be read by this process, or None when it can."""
    file = Path(path)
    if not file.exists():
        return "does not exist"
    if not file.is_file():
        return "is not a file"
    try:
        with file.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        return f"cannot be read ({exc.__class__.__name__})"
    return None


def _unreadable_file_errors(name: str, consequence: str, *, hint: str, id: str, what: str = "") -> list[Error]:
    """An error when the file that the setting `name` names cannot be read by this process: "{what}{name}=path
    {why}: {consequence}."; none when it can."""
    path = getattr(settings, name)
    problem = _unreadable(path or "")
    if problem is None:
        return []
    return [Error(f"{what}{name}={path} {problem}: {consequence}.", hint=hint, id=id)]


def check_site_url(app_configs=None, **kwargs):
    if settings.DEBUG:
        return []
    if not _given("SITE_URL"):
        return [
            Error(
                f"SITE_URL is not set: QR codes and e-mails point at the development address {settings.SITE_URL}.",
                hint="Set SITE_URL to the public address of the portal, e.g. SITE_URL=https://portal.example.gov.cn "
                "(https://, no trailing slash).",
                id="portal.E001",
            )
        ]
    parts = urlsplit(settings.SITE_URL)
    if parts.scheme != "https" or not parts.hostname:
        return [
            Error(
                f"SITE_URL={settings.SITE_URL!r} is not an https:// address: QR codes and links in e-mails would "
                "send citizens to it.",
                hint="Set SITE_URL to the public https:// address of the portal, e.g. "
                "SITE_URL=https://portal.example.gov.cn.",
                id="portal.E002",
            )
        ]
    return []


def signing_key_errors(*, required: bool = False) -> list:
    """The signing key's errors; `required` when this process signs even if SIGNING_KEY_FILE is empty."""
    path = settings.SIGNING_KEY_FILE
    if not path:
        if not required:
            return []  # this machine does not sign (web, notify and default workers)
        return [
            Error(
                "SIGNING_KEY_FILE is empty, but this worker consumes the pdf queue and signs every document.",
                hint="Set SIGNING_KEY_FILE to the PAdES key file (PEM, mode 0400) on every machine that runs "
                "worker_pdf (docs/deploy.md section 8), or do not consume the pdf queue here.",
                id="portal.E012",
            )
        ]
    return _unreadable_file_errors(
        "SIGNING_KEY_FILE",
        "no certificate could be signed",
        hint="Set SIGNING_KEY_FILE to the path of the PAdES key issued by the province's CA, readable by this "
        "process; or set SIGNING_KEY_FILE= (empty) on machines that do not sign (web, notify and default workers).",
        id="portal.E003",
        what="The signing key ",
    )


def check_signing_files(app_configs=None, **kwargs):
    if settings.DEBUG:
        return []
    errors = signing_key_errors()
    errors += _unreadable_file_errors(
        "SIGNING_CERT_FILE",
        "documents could be neither signed nor checked",
        hint="Set SIGNING_CERT_FILE to the path of the portal's signing certificate (PEM), readable by this process, "
        "on every web and worker machine.",
        id="portal.E004",
        what="The signing certificate ",
    )
    for name, id_, consequence in (
        ("SIGNING_TRUST_ROOTS_FILE", "portal.E018", "no signature could be checked against the pinned CA"),
        (
            "SIGNING_HISTORY_FILE",
            "portal.E020",
            "after a key rotation every earlier certificate would be reported as signed by someone else",
        ),
    ):
        errors += _unreadable_file_errors(
            name,
            consequence,
            hint=f"Set {name} to the PEM file described in docs/deploy.md#signing-keys-and-the-pki, "
            "readable by this process, on every web and worker machine.",
            id=id_,
        )
    if settings.SIGNING_KEY_FILE:  # this machine signs
        errors += long_term_signing_errors()
    return errors


def long_term_signing_errors() -> list:
    """What a signing machine needs for PAdES B-LTA: the TSA and the CA chain."""
    errors = []
    tsa = urlsplit(settings.TSA_URL or "")
    if tsa.scheme not in ("http", "https") or not tsa.hostname:
        errors.append(
            Error(
                f"TSA_URL={settings.TSA_URL!r} is not a timestamp authority's address: documents would be signed "
                "PAdES B-B, with nothing to prove they were signed while the certificate was valid.",
                hint="Set TSA_URL to the RFC 3161 timestamp service of the CA (docs/deploy.md#signing-keys-and-the-pki) "
                "on every machine that signs.",
                id="portal.E017",
            )
        )
    errors += _unreadable_file_errors(
        "SIGNING_CHAIN_FILE",
        "signatures could not carry the issuing CA certificate that long-term validation needs",
        hint="Set SIGNING_CHAIN_FILE to the issuing CA certificate(s) (PEM) on every machine that signs.",
        id="portal.E019",
    )
    return errors


def check_sms_backend(app_configs=None, **kwargs):
    if settings.DEBUG:
        return []
    name = (settings.SMS_BACKEND or "").strip()
    if name in ("console", "database"):
        where = "printed on the worker's console" if name == "console" else "kept in the outbox"
        default = "" if _given("SMS_BACKEND") else " (the default)"
        return [
            Error(
                f"SMS_BACKEND={name}{default} delivers no SMS: every message is {where}, so citizens cannot "
                "confirm a mobile number.",
                hint="Set SMS_BACKEND to the https:// URL of the SMS gateway, e.g. "
                "SMS_BACKEND=https://sms-gateway.example.gov.cn/send, and its token in SMS_GATEWAY_TOKEN_FILE.",
                id="portal.E005",
            )
        ]
    parts = urlsplit(name)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            Error(
                f"SMS_BACKEND={name!r} is neither 'console', 'database' nor an http(s):// gateway URL with a host.",
                hint="Set SMS_BACKEND to the https:// URL of the SMS gateway, e.g. "
                "SMS_BACKEND=https://sms-gateway.example.gov.cn/send.",
                id="portal.E006",
            )
        ]
    return []


def check_email(app_configs=None, **kwargs):
    if settings.DEBUG:
        return []
    backend = settings.EMAIL_BACKEND
    if backend in NON_DELIVERING_MAIL_BACKENDS:
        return [
            Error(
                f"E-mail goes nowhere: the mail backend {NON_DELIVERING_MAIL_BACKENDS[backend]}.",
                hint="Set EMAIL_URL to the province's mail relay, e.g. "
                "EMAIL_URL=submission://user:password@smtp.example.gov.cn (smtp://, smtps:// or submission://).",
                id="portal.E008",
            )
        ]
    if backend == "django.core.mail.backends.smtp.EmailBackend" and not (_given("EMAIL_URL") or _given("EMAIL_HOST")):
        return [
            Error(
                f"EMAIL_URL is not set: e-mail goes to an SMTP server on {settings.EMAIL_HOST}:{settings.EMAIL_PORT}, "
                "which is not configured.",
                hint="Set EMAIL_URL to the province's mail relay, e.g. "
                "EMAIL_URL=submission://user:password@smtp.example.gov.cn (smtp://, smtps:// or submission://).",
                id="portal.E007",
            )
        ]
    return []


def _redis_url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "cannot be parsed"
    if parts.scheme in ("redis", "rediss"):
        if not parts.hostname:
            return "names no host"
        db = parts.path.strip("/")
        if db and not db.isdigit():
            return f"names database {db!r}, which is not a number"
        return None
    if parts.scheme == "unix":
        return None if parts.path else "names no socket path"
    return f"has the scheme {parts.scheme!r}, not redis://, rediss:// or unix://"


def check_redis_url(app_configs=None, **kwargs):
    if settings.DEBUG:
        return []
    url = settings.REDIS_URL
    if not url:
        return [
            Error(
                "REDIS_URL is not set: the queue is a directory on this machine (an embedded broker) and the cache "
                "and rate limits are per machine, so other web and worker machines see none of it.",
                hint="Set REDIS_URL to the Redis server shared by every web and worker machine, e.g. "
                "REDIS_URL=redis://redis.internal:6379/0.",
                id="portal.E009",
            )
        ]
    problem = _redis_url_problem(url)
    if problem:
        return [
            Error(
                f"REDIS_URL {problem}: the broker and the cache point nowhere.",
                hint="Set REDIS_URL to redis://HOST:PORT/DB (rediss:// with TLS), e.g. "
                "REDIS_URL=redis://redis.internal:6379/0.",
                id="portal.E010",
            )
        ]
    return []


def _database_problem(db: Mapping[str, Any]) -> str | None:
    """What is wrong with the shape of a DATABASES entry parsed from DATABASE_URL, or None."""
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return None if db.get("NAME") and db["NAME"] != ":memory:" else "names no database file"
    if not db.get("HOST"):
        return "names no host"
    if not db.get("NAME"):
        return "names no database"
    return None


def check_database_url(app_configs=None, **kwargs):
    # Unset, the portal uses SQLite in VAR_DIR (one machine); a URL that does not parse at all already stopped
    # settings.py (dj_database_url raises).
    if settings.DEBUG or not _given("DATABASE_URL"):
        return []
    problem = _database_problem(settings.DATABASES["default"])
    if problem is None:
        return []
    return [
        Error(
            f"DATABASE_URL {problem}: the portal's database points nowhere.",
            hint="Set DATABASE_URL to postgres://USER:PASSWORD@HOST:5432/NAME, e.g. "
            "DATABASE_URL=postgres://portal:…@db-primary:5432/portal (a Unix socket: "
            "postgres://portal@%2Fvar%2Frun%2Fpostgresql/portal).",
            id="portal.E011",
        )
    ]


def check_identity_backends(app_configs=None, **kwargs):
    if settings.DEBUG:
        return []
    names = [n.strip() for n in settings.IDENTITY_CHECK_BACKENDS if n.strip()]
    errors = []
    unknown = sorted(set(names) - {"carrier", "oidc", "demo"})
    if unknown:
        errors.append(
            Error(
                f"IDENTITY_CHECK_BACKENDS names {', '.join(unknown)}, which is no identity check.",
                hint="Set IDENTITY_CHECK_BACKENDS to a comma-separated list of carrier and oidc, e.g. "
                "IDENTITY_CHECK_BACKENDS=carrier,oidc.",
                id="portal.E016",
            )
        )
    if "demo" in names:
        errors.append(
            Error(
                "IDENTITY_CHECK_BACKENDS names demo: its outcome depends only on the ID number's last digit, so "
                "anyone could make an account Verified.",
                hint="Remove demo: IDENTITY_CHECK_BACKENDS=carrier,oidc.",
                id="portal.E013",
            )
        )
    if "carrier" in names and urlsplit(settings.IDENTITY_GATEWAY_URL).scheme != "https":
        errors.append(
            Error(
                "The carrier identity check is enabled, but IDENTITY_GATEWAY_URL is not an https:// address: every "
                "check would fail and nobody could verify their identity online.",
                hint="Set IDENTITY_GATEWAY_URL to the identity gateway's https:// URL, e.g. "
                "IDENTITY_GATEWAY_URL=https://idcheck.example.gov.cn/check, and its token in "
                "IDENTITY_GATEWAY_TOKEN_FILE.",
                id="portal.E014",
            )
        )
    if "oidc" in names:
        missing = [
            name for name in ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET") if not getattr(settings, name)
        ]
        if missing or urlsplit(settings.OIDC_ISSUER).scheme != "https":
            errors.append(
                Error(
                    "The national platform sign-in (oidc) is enabled, but "
                    + (", ".join(missing) + " not set" if missing else "OIDC_ISSUER is not an https:// address")
                    + ": its link would lead nowhere.",
                    hint="Set OIDC_ISSUER to the platform's https:// issuer (its discovery document is read from "
                    "OIDC_ISSUER/.well-known/openid-configuration), OIDC_CLIENT_ID, and OIDC_CLIENT_SECRET_FILE.",
                    id="portal.E015",
                )
            )
    return errors


PRODUCTION_CHECKS = (
    check_site_url,
    check_signing_files,
    check_sms_backend,
    check_email,
    check_redis_url,
    check_database_url,
    check_identity_backends,
)
