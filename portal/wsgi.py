"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

from portal.warmup import warm_up  # noqa: E402 - needs the settings that get_wsgi_application has set up

warm_up()  # once, before the workers fork (gunicorn's preload_app): they start with the URLconf and templates ready
