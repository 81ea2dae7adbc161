"""Production settings (portal.settings, from the environment) for a gunicorn started by a services-tier test.

One difference: static files are looked up by name, so the test needs no `collectstatic` manifest (minutes of
compression on a busy machine); nothing the fault tests look at depends on how static files are stored.
"""

from portal.settings import *  # noqa: F403
from portal.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
