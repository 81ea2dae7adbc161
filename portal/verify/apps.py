from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VerifyConfig(AppConfig):
    name = "portal.verify"
    label = "verify"
    verbose_name = _("Issued documents and verification")
