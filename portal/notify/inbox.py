"""The message centre: the portal's copy of every e-mail and SMS sent to a user, private to that user.

Read straight from the outbox (`OutboxMessage.user`), never from a copy: what the centre shows is exactly what was
queued. Messages that carry a secret (a confirmation code, a one-time link; `OutboxMessage.secret`) are left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from .models import OutboxMessage

if TYPE_CHECKING:
    from django.db.models import QuerySet


def messages_for(user) -> QuerySet[OutboxMessage]:
    """The user's mirrored messages, newest first; none for an anonymous visitor."""
    if not getattr(user, "is_authenticated", False):
        return OutboxMessage.objects.none()
    return OutboxMessage.objects.filter(user=user, secret=False).order_by("-created_at", "-pk")


def unread_count(user) -> int:
    """How many of the user's mirrored messages they have not opened on the portal (one query, the partial index)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return OutboxMessage.objects.filter(user=user, secret=False, read_at__isnull=True).count()


def open_message(user, pk: int) -> OutboxMessage | None:
    """The user's message `pk`, marked read now if it was unread; None if it is not theirs to see."""
    message = messages_for(user).filter(pk=pk).first()
    if message is not None and message.read_at is None:
        message.read_at = timezone.now()
        OutboxMessage.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=message.read_at)
    return message


def mark_all_read(user) -> int:
    """Mark every unread mirrored message of the user read; how many were."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return OutboxMessage.objects.filter(user=user, secret=False, read_at__isnull=True).update(read_at=timezone.now())
