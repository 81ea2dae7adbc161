"""Field shapes the models repeat, declared once."""

from __future__ import annotations

from typing import Any

from django.db import models


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
