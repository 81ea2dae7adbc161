from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"
    default = True

    def ready(self):
        from django.core import checks

        from .checks import PRODUCTION_CHECKS

        # Ordinary checks (not deploy-only): `manage.py check`, migrate, runserver and the Celery worker and beat
        # (portal/celery.py) all refuse a production configuration that would fail silently.
        for check in PRODUCTION_CHECKS:
            checks.register(check, "portal")


class PortalAdminConfig(admin_apps.AdminConfig):
    """The admin, with the portal's own site (TOTP for staff, scoped to offices)."""

    default = False
    default_site = "portal.admin_site.PortalAdminSite"
