"""A stand-in for the national government-service platform: a real OpenID Connect provider (django-oauth-toolkit)
that the sign-in tests start on loopback (tests/accounts/test_oidc.py). Never part of the portal.

Its state lives in OIDC_PROVIDER_DIR: the SQLite database and the RSA key made by bootstrap.py.
"""

import os
from pathlib import Path

STATE = Path(os.environ["OIDC_PROVIDER_DIR"])
SECRET_KEY = "oidc-test-provider-" + "x" * 40  # noqa: S105 - a throw-away provider on loopback
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.oidc_provider.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(STATE / "provider.sqlite3")}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # test users only: fast
LOGIN_URL = "/login/"
_key = STATE / "key.pem"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _key.read_text() if _key.exists() else "",
    "OAUTH2_VALIDATOR_CLASS": "tests.oidc_provider.validator.PlatformClaims",
    "SCOPES": {"openid": "OpenID Connect", "profile": "name and resident ID number"},
    "PKCE_REQUIRED": True,
}
