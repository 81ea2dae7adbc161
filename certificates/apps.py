from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("Certificate of No Criminal Record")

    def ready(self):
        from portal import registry

        registry.register(
            registry.Service(
                key="certificates",
                title=_("Certificate of No Criminal Record"),
                summary=_(
                    "Apply online for a certificate of no criminal record, follow the police station's review and "
                    "download the signed e-certificate, which has the same legal effect as paper."
                ),
                url_name="certificates:index",
                order=10,
            )
        )
