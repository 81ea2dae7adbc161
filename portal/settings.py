"""The one settings module: every value comes from the environment, with safe development defaults.

Every variable, its default and its meaning: docs/deploy.md#environment-variables.
"""

import os
import secrets
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

# Lets the classes django-stubs makes generic be subscripted at run time too, as in `admin.ModelAdmin[Office]`.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: Iterable[str] = ()) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path and Path(path).is_file():
        return Path(path).read_text().strip()
    return None


TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"]
DEBUG = env_bool("DEBUG", False)
HTTPS = env_bool("DJANGO_HTTPS", False)

SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY and (VAR_DIR / "secret_key").is_file():
    SECRET_KEY = (VAR_DIR / "secret_key").read_text().strip()  # written by `make run`
if not SECRET_KEY:
    if DEBUG or TESTING:
        # Development only: a throw-away key (make run writes a stable one to var/secret_key).
        SECRET_KEY = "dev-" + secrets.token_urlsafe(40)
    else:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if (DEBUG or TESTING) else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The public address printed in QR codes and e-mails, without a trailing slash. The default suits development only:
# with DEBUG off, portal/checks.py refuses to start until SITE_URL names the public https:// address.
SITE_URL = (os.environ.get("SITE_URL") or "http://127.0.0.1:8000").rstrip("/")

# The variables that have a development default but must be given in production: the names of those that were given
# (not empty), so the production checks (portal/checks.py) can tell a value that was set from a default that was used.
CONFIGURED_FROM_ENV = frozenset(
    name
    for name in ("SITE_URL", "EMAIL_URL", "EMAIL_HOST", "EMAIL_BACKEND", "SMS_BACKEND", "REDIS_URL", "DATABASE_URL")
    if os.environ.get(name)
)
# Django's own list of check ids to silence (portal.E001 …). For test and benchmark environments that knowingly run
# with DEBUG off and local stand-ins (tests/services/harness.py, bench/); never in production.
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    # the shared parts
    "portal",
    "portal.workdays",
    "portal.cases",
    "portal.documents",
    "portal.notify",
    "portal.verify",
    "portal.visits",
    "portal.feedback",
    # accounts and the services
    "accounts",
    "certificates",
    "familyplanning",
    "hukou",
]
if TESTING:
    INSTALLED_APPS.append("tests.testapp")  # a concrete case model for testing the shared machinery

# Session, authentication and messages step aside for the public verification page and API (portal.middleware.lean_view).
MIDDLEWARE = [
    "portal.middleware.RequestIdMiddleware",
    "portal.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "portal.middleware.AuthenticationMiddleware",
    "accounts.middleware.ForcePasswordChangeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable server fails a request (and /healthz/) within seconds instead of the TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 3))
    # No JIT compilation: the portal runs short indexed statements, whose cost estimates over million-row tables
    # still pass jit_above_cost, and compiling them took longer than running them (0.4-0.6 s on the officers'
    # desk; bench/pages.py). Set per connection, so it holds whatever the server's postgresql.conf says.
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker read while the other writes; IMMEDIATE takes the write
    # lock at the start of a transaction so two writers queue instead of failing half-way.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, Celery --------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and TESTING and os.environ.get("PYTEST_XDIST_WORKER"):
    # Parallel test processes each get their own Redis database: their own queue, cache and rate limits.
    from urllib.parse import urlparse

    _ru = urlparse(REDIS_URL)
    _db = int((_ru.path or "/0").strip("/") or 0) + int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw"))
    REDIS_URL = _ru._replace(path=f"/{_db}").geturl()
if REDIS_URL:
    # Short socket timeouts wherever Redis is reached: a stopped Redis refuses at once, but one that hangs (paused,
    # failed over, a dropped route) would otherwise hold a request or a publish until the TCP timeout, or forever.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND: str | None = REDIS_URL
    # kombu's default is no socket timeout: a publish to a hung Redis would never return (kombu's docs say so).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "socket_connect_timeout": 2,
        "socket_timeout": 2,
        "max_retries": 1,
    }
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
    CELERY_REDIS_SOCKET_TIMEOUT = 5
elif TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = None
else:
    # No Redis: a file cache shared by the web server and the worker, and kombu's filesystem
    # transport as an embedded broker, so `make run` still runs a real worker and beat.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
    CELERY_RESULT_BACKEND = None
# Rendered fragments that change only with the language (the verification page's holder-check form, the footer of
# every page): kept in each process's memory, not in Redis, so a page costs no round trip for them. Bounded; nothing
# to invalidate (docs/architecture.md#the-lean-verification-path).
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "portal-fragments",
    "OPTIONS": {"MAX_ENTRIES": env_int("FRAGMENT_CACHE_ENTRIES", 10000)},
}
# Found verification codes are cached this many seconds in the shared cache (portal/verify/rowcache.py; a revocation
# holds its code out of it). Only with Redis by default: a cache of one process could not be told of a revocation.
VERIFY_CACHE_SECONDS = env_int("VERIFY_CACHE_SECONDS", 60 if REDIS_URL else 0)

# One queue per kind of work, each consumed by its own worker processes (Procfile): a flood of certificate
# renderings (seconds of CPU each) never delays an SMS or a deadline sweep. A worker started without -Q
# consumes all three (make run, a single machine).
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES: dict[str, dict[str, Any]] = {"pdf": {}, "notify": {}, "default": {}}
CELERY_TASK_ROUTES = {
    # Render + sign + store a PDF: certificates, refusal notices, licences and other issued documents.
    "certificates.tasks.generate_*": {"queue": "pdf"},
    "familyplanning.tasks.generate_*": {"queue": "pdf"},
    # E-mail and SMS delivery, and the relay that re-publishes what the broker missed.
    "portal.notify.tasks.*": {"queue": "notify"},
    # The deadline digests the sweep left: rendered and written to the outbox beside the other messages.
    "portal.cases.tasks.send_deadline_digests": {"queue": "notify"},
    # Everything else (deadline sweep, re-queue sweeps, calendar check, purges, log drain): the default queue.
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("CELERY_WORKER_MAX_TASKS_PER_CHILD", 100)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", 400_000)  # KiB
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The worker logs through LOGGING below (JSON lines, request ids, redaction) instead of replacing it.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Publishing must not hang a web request when the broker is down: the outbox relay and the re-queue sweeps deliver
# later. No retry of a failed publish (redis-py already reconnects a connection a restarted Redis closed): against a
# hung Redis every retry would cost the request another socket timeout. portal.celery.publish adds the back-off.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "notify-relay": {"task": "portal.notify.tasks.relay_outbox", "schedule": 30.0},
    "deadline-sweep": {"task": "portal.cases.tasks.sweep_deadlines", "schedule": 300.0},
    # Digests a sweep left unsent (its on-commit publish lost, the worker killed): sent again, each once.
    "deadline-digests": {"task": "portal.cases.tasks.send_deadline_digests", "schedule": 120.0},
    "calendar-check": {"task": "portal.workdays.tasks.check_calendar_years", "schedule": 6 * 3600.0},
    "documents-purge-unattached": {"task": "portal.documents.tasks.purge_unattached", "schedule": 6 * 3600.0},
    # The bytes of documents set aside or withdrawn, after DOCUMENT_SET_ASIDE_RETENTION_DAYS.
    "documents-purge-set-aside": {"task": "portal.documents.tasks.purge_set_aside", "schedule": 6 * 3600.0},
    # Safety net for approvals whose certificate task was lost (broker down, worker killed):
    # docs/architecture.md#how-an-application-flows.
    "certificates-requeue": {"task": "certificates.tasks.requeue_missing_certificates", "schedule": 120.0},
    "familyplanning-requeue": {"task": "familyplanning.tasks.requeue_missing_documents", "schedule": 120.0},
    # Register imports whose worker died are marked failed; their staging tables dropped; lost messages re-sent.
    "certificates-register-import-sweep": {"task": "certificates.tasks.sweep_register_imports", "schedule": 60.0},
    # Buffered verifications (Redis) into VerificationLog; a run that waited past the next one is dropped.
    # Booked visits: the SMS reminder on the working day before, sent once; hourly in office hours, so that a
    # booking made yesterday evening is reminded in the morning and no SMS arrives at night.
    "visits-reminders": {
        "task": "portal.visits.tasks.send_visit_reminders",
        "schedule": crontab(minute=5, hour="9-17"),
    },
    "verify-log-drain": {
        "task": "portal.verify.tasks.drain_verification_log",
        "schedule": 10.0,
        "options": {"expires": 9.0},
    },
}
CERTIFICATE_VALIDITY_MONTHS = env_int("CERTIFICATE_VALIDITY_MONTHS", 3)
# An approval older than this without its document is re-queued by the sweep (bounded per run).
# The acceptance clock (docs/architecture.md#cases-transitions-and-deadlines): the working days the office has to
# accept (or refuse) a submitted case, per service; swept like every other deadline.
ACCEPTANCE_WORKING_DAYS = {
    "certificates": env_int("NCR_ACCEPTANCE_WORKING_DAYS", 1),
    "familyplanning": env_int("FAMILYPLANNING_ACCEPTANCE_WORKING_DAYS", 2),
    "hukou": env_int("HUKOU_ACCEPTANCE_WORKING_DAYS", 2),
}
CERTIFICATE_REQUEUE_AFTER_MINUTES = env_int("CERTIFICATE_REQUEUE_AFTER_MINUTES", 3)
CERTIFICATE_REQUEUE_BATCH = env_int("CERTIFICATE_REQUEUE_BATCH", 200)
# Criminal-record register imports (certificates/register/): rows per chunk (a progress update and a look at the
# cancel flag between chunks), when a job without a sign of life counts as dead (SQLite; PostgreSQL knows from the
# import lock), how long the swap may wait for the register before trying again, and when a job whose message was
# lost is queued again.
REGISTER_IMPORT_CHUNK_ROWS = env_int("REGISTER_IMPORT_CHUNK_ROWS", 50_000)
REGISTER_IMPORT_STALL_MINUTES = env_int("REGISTER_IMPORT_STALL_MINUTES", 10)
REGISTER_IMPORT_LOCK_TIMEOUT_MS = env_int("REGISTER_IMPORT_LOCK_TIMEOUT_MS", 2000)
REGISTER_IMPORT_SWAP_ATTEMPTS = env_int("REGISTER_IMPORT_SWAP_ATTEMPTS", 5)
REGISTER_IMPORT_REQUEUE_AFTER_MINUTES = env_int("REGISTER_IMPORT_REQUEUE_AFTER_MINUTES", 3)
REGISTER_IMPORT_BUSY_RETRY_SECONDS = env_int("REGISTER_IMPORT_BUSY_RETRY_SECONDS", 30)
# How far back the re-queue sweep looks for refusals whose notice was never stored (their status never changes,
# so without a window the sweep would read the whole history every time).
CERTIFICATE_REQUEUE_WINDOW_DAYS = env_int("CERTIFICATE_REQUEUE_WINDOW_DAYS", 30)

# --- auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests of hashing itself override this.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "me"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# django-axes: throttle on the pair (account, real client address), never the account alone, so an
# attacker cannot lock a citizen out. The address is REMOTE_ADDR unless TRUSTED_PROXY_COUNT says how
# many reverse proxies of ours stand in front (then the entry the outermost of them appended).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# Logins accept any letter case, so the throttle counts "Alice" and "alice" as one account.
AXES_USERNAME_CALLABLE = "accounts.forms.axes_username"
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "portal.ratelimit.client_ip"

STAFF_MFA_REQUIRED = env_bool("STAFF_MFA_REQUIRED", True)
OTP_TOTP_ISSUER = "Henan e-Services"

# --- i18n -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# English dates as "7 December 2026" (portal/formats/en/formats.py); Chinese keeps Django's.
FORMAT_MODULE_PATH = ["portal.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "portal_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and private files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
try:
    import xstatic.pkg.bootstrap as _xbootstrap

    STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/bootstrap", _xbootstrap.BASE_DIR)]
except ImportError:  # pragma: no cover - installed by requirements.txt
    STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not (DEBUG or TESTING)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Private uploads and generated PDFs: never under a public URL (no MEDIA_URL is routed).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Where private files live: "filesystem" (MEDIA_ROOT/private, shared by web and worker machines) or "s3" (any
# S3-compatible object store through django-storages; docs/deploy.md). Either way files have no public URL:
# downloads go through the permission-checked, logged views, never a signed URL handed to a browser.
STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "filesystem").strip().lower()
if STORAGE_BACKEND == "s3":
    AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME.")
    AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None  # unset: Amazon S3 itself
    AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME") or None
    # Unset: boto3's own chain (instance role, web identity, ~/.aws); never a key in the repository.
    AWS_ACCESS_KEY_ID = env_secret("AWS_ACCESS_KEY_ID")
    AWS_SECRET_ACCESS_KEY = env_secret("AWS_SECRET_ACCESS_KEY")
    AWS_LOCATION = os.environ.get("AWS_LOCATION", "private")  # key prefix inside the bucket
    AWS_S3_ADDRESSING_STYLE = os.environ.get("AWS_S3_ADDRESSING_STYLE") or None  # "path" for most S3 clones
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    AWS_DEFAULT_ACL = "private"
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = 60
    AWS_S3_FILE_OVERWRITE = True  # names are random or deterministic per document: no existence check needed
    # Server-side encryption at rest, e.g. AES256 (or aws:kms where the store offers it).
    AWS_S3_OBJECT_PARAMETERS = (
        {"ServerSideEncryption": os.environ["AWS_S3_SSE"]} if os.environ.get("AWS_S3_SSE") else {}
    )
elif STORAGE_BACKEND != "filesystem":
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be filesystem or s3, not {STORAGE_BACKEND!r}.")
MEDIA_URL = None
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- e-mail and SMS -------------------------------------------------------------------------------
_email_url = os.environ.get("EMAIL_URL", "")
if _email_url:
    from urllib.parse import unquote, urlparse

    _eu = urlparse(_email_url)
    if _eu.scheme in ("smtp", "smtps", "submission"):
        EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        EMAIL_HOST = _eu.hostname or "localhost"
        EMAIL_PORT = _eu.port or {"smtp": 25, "smtps": 465, "submission": 587}[_eu.scheme]
        EMAIL_HOST_USER = unquote(_eu.username or "")
        EMAIL_HOST_PASSWORD = unquote(_eu.password or "")
        EMAIL_USE_SSL = _eu.scheme == "smtps"
        EMAIL_USE_TLS = _eu.scheme == "submission"
    elif _eu.scheme == "console":
        EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    elif _eu.scheme == "file":
        EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
        EMAIL_FILE_PATH = _eu.path
    else:
        raise ImproperlyConfigured(f"EMAIL_URL scheme {_eu.scheme!r} is not supported.")
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
        "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend"
    )
    EMAIL_HOST = os.environ.get("EMAIL_HOST") or "localhost"
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Henan e-Services <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# console | database | an http(s):// gateway URL. "database" delivers nothing (messages are kept, not sent): with DEBUG
# off, portal/checks.py refuses to start with either of the first two.
SMS_BACKEND = os.environ.get("SMS_BACKEND") or ("console" if DEBUG else "database")
SMS_GATEWAY_TOKEN = env_secret("SMS_GATEWAY_TOKEN") or ""

# Identity checks that raise an account to Verified (docs/architecture.md#identity-assurance): carrier (the mobile
# operator's three-factor check through the identity gateway), oidc (the national government-service platform's
# sign-in), demo (make run only; portal/checks.py refuses it with DEBUG off). Empty: only the police station's counter.
IDENTITY_CHECK_BACKENDS = env_list("IDENTITY_CHECK_BACKENDS", ["demo"] if DEBUG else [])
IDENTITY_GATEWAY_URL = os.environ.get("IDENTITY_GATEWAY_URL", "")
IDENTITY_GATEWAY_TOKEN = env_secret("IDENTITY_GATEWAY_TOKEN") or ""
IDENTITY_GATEWAY_TIMEOUT = env_int("IDENTITY_GATEWAY_TIMEOUT", 8)  # seconds, per attempt; the citizen is waiting
IDENTITY_GATEWAY_ATTEMPTS = env_int("IDENTITY_GATEWAY_ATTEMPTS", 2)  # in all, for a 5xx or a dropped connection
# The national platform's OpenID Connect provider: endpoints and keys come from ISSUER/.well-known/openid-configuration.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").rstrip("/")
OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
OIDC_CLIENT_SECRET = env_secret("OIDC_CLIENT_SECRET") or ""
OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid profile")
OIDC_CLAIM_ID_NUMBER = os.environ.get("OIDC_CLAIM_ID_NUMBER", "id_number")
OIDC_CLAIM_NAME = os.environ.get("OIDC_CLAIM_NAME", "name")
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 8)  # seconds for each call to the provider (discovery, token, keys)
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 5)
# Seconds after which a message a worker claimed and never finished (the worker died) is sent again by the relay.
NOTIFY_CLAIM_TIMEOUT_SECONDS = env_int("NOTIFY_CLAIM_TIMEOUT_SECONDS", 600)

# --- documents and signing ------------------------------------------------------------------------
# SIGNING_KEY_FILE set to an empty value: this machine does not sign (web, notify and default workers; docs/deploy.md
# section 8). A worker that consumes the pdf queue refuses to start without a key (portal/celery.py).
SIGNING_KEY_FILE = os.environ.get("SIGNING_KEY_FILE", str(VAR_DIR / "signing" / "key.pem"))
SIGNING_CERT_FILE = os.environ.get("SIGNING_CERT_FILE", str(VAR_DIR / "signing" / "cert.pem"))
# The issuing CA certificate(s) between the signing certificate and the root, embedded in every signature; the
# pinned trust roots (the CA's root and the TSA's); every signing certificate the portal has ever used, so a rotation
# never turns earlier documents into "signed by someone else" (docs/deploy.md#signing-keys-and-the-pki).
SIGNING_CHAIN_FILE = os.environ.get("SIGNING_CHAIN_FILE", str(VAR_DIR / "signing" / "chain.pem"))
SIGNING_TRUST_ROOTS_FILE = os.environ.get("SIGNING_TRUST_ROOTS_FILE", str(VAR_DIR / "signing" / "roots.pem"))
SIGNING_HISTORY_FILE = os.environ.get("SIGNING_HISTORY_FILE", str(VAR_DIR / "signing" / "history.pem"))
# The RFC 3161 timestamp authority. Set: every signature is PAdES B-LTA (timestamp, OCSP/CRL in the DSS, document
# timestamp); empty: PAdES B-B, which portal/checks.py refuses in production on machines that sign.
TSA_URL = os.environ.get("TSA_URL", "")
TSA_TIMEOUT = env_int("TSA_TIMEOUT", 10)
# The development and test PKI (certomancer, TEST ONLY keys in portal/pki/): where `make setup` keeps its state and
# the loopback port `make run` serves its OCSP, CRLs and TSA on.
TEST_PKI_DIR = os.environ.get("TEST_PKI_DIR", str(VAR_DIR / "pki"))
TEST_PKI_PORT = env_int("TEST_PKI_PORT", 8009)
UPLOAD_MAX_PIXELS = env_int("UPLOAD_MAX_PIXELS", 40_000_000)
# Days a document set aside by an office or withdrawn by its owner keeps its bytes (for the office that set it aside)
# before the beat job deletes them (docs/architecture.md#security-and-privacy).
DOCUMENT_SET_ASIDE_RETENTION_DAYS = env_int("DOCUMENT_SET_ASIDE_RETENTION_DAYS", 30)

# --- security headers -----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Logs: one JSON object a line on stderr (LOG_FORMAT=json, the default outside development) or plain text,
# each with the request id (portal.middleware.RequestIdMiddleware; in the worker, the id of the request that
# queued the task), and never a resident ID number or mobile number (portal.logging.RedactFilter).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "portal.logging.RequestIdFilter"},
        "redact": {"()": "portal.logging.RedactFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "portal.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # Django's default config mails 500s to ADMINS unredacted; ours go through the console handler only.
        "django": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO"), "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
