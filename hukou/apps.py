from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HukouConfig(AppConfig):
    name = "hukou"
    verbose_name = _("One-stop hukou migration")

    def ready(self):
        from portal import registry

        registry.register(
            registry.Service(
                key="hukou",
                title=_("One-stop hukou migration"),
                summary=_(
                    "Apply once at the police station of the place you move to: the move is approved, registered at "
                    "the place you leave and settled without a paper migration certificate."
                ),
                url_name="hukou:index",
                order=30,
            )
        )
