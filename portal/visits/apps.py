"""Booked visits (预约办理): stations publish slots, citizens book one for an in-person step of their case."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "portal.visits"
    label = "visits"
    verbose_name = _("Booked visits")

    def ready(self) -> None:
        from portal.cases import events

        from .services import EVENT_LABELS

        events.register(EVENT_LABELS)
