from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from accounts.models import User


class CasesConfig(AppConfig):
    name = "portal.cases"
    label = "cases"
    verbose_name = _("cases")

    def ready(self) -> None:
        from accounts.signals import account_superseded

        from . import assignment, events

        events.register(assignment.EVENT_LABELS)
        account_superseded.connect(_freeze_superseded, dispatch_uid="portal.cases.freeze_superseded")


def _freeze_superseded(sender: object, *, user: "User", by: "User", reason: str, **kwargs: object) -> None:
    from .services import freeze_cases_of

    freeze_cases_of(user, reason=reason)
