from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FamilyplanningConfig(AppConfig):
    name = "familyplanning"
    verbose_name = _("Population and family-planning service centre")

    def ready(self):
        from portal import registry

        registry.register(
            registry.Service(
                key="familyplanning",
                title=_("Population and family-planning service centre"),
                summary=_(
                    "Birth registration, the Certificate of Honour for Parents of an Only Child, certificates for the "
                    "floating population, licences for technical-service institutions and staff, forms and feedback."
                ),
                url_name="familyplanning:index",
                order=20,
            )
        )
