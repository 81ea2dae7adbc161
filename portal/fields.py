"""Field shapes the models repeat, declared once."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def optional_reference(
    to: Any, verbose_name: Any, *, related_name: str = "+", on_delete: Any = models.PROTECT, **options: Any
) -> models.ForeignKey:
    """An optional link to a person or an office that may never be deleted while something refers to it (unless
    `on_delete` says otherwise, as optional_link does)."""
    return models.ForeignKey(
        to,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=on_delete,
        related_name=related_name,
        **options,
    )


def optional_link(to: Any, verbose_name: Any, **options: Any) -> models.ForeignKey:
    """An optional link that is emptied when what it points to is deleted (a replaced upload, a removed check)."""
    return optional_reference(to, verbose_name, on_delete=models.SET_NULL, **options)


def user_reference(verbose_name: Any, *, related_name: str = "+", on_delete: Any = models.PROTECT) -> models.ForeignKey:
    """A required link to the person who did something (started, checked, viewed); the account may not be deleted
    while the record refers to it (unless `on_delete` says otherwise)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=verbose_name, on_delete=on_delete, related_name=related_name
    )


class AccessRecord(models.Model):
    """One view or download of something private by someone other than its owner: when, and from which address
    (docs/architecture.md#security-and-privacy). A subclass names what was accessed and who (`user`)."""

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-at"]
