from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"
    default = True


class PortalAdminConfig(admin_apps.AdminConfig):
    """The admin, with the portal's own site (TOTP for staff, scoped to offices)."""

    default = False
    default_site = "portal.admin_site.PortalAdminSite"
