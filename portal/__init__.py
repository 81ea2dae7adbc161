"""Henan e-Services: settings, URLs, the Celery app and the parts every service shares."""

from .celery import app as celery_app

__all__ = ("celery_app",)
