"""Delivery of outbox rows: claim with a conditional UPDATE, send, then record sent, kept, retry later or failed.

"kept" is the outcome of a backend that delivers nothing (the database SMS backend): the row is final, like "sent",
so neither the relay nor "retry now" ever takes it again, but it is never counted as sent.

One retry path only: a failed attempt puts the row back to "pending" with a later `next_attempt_at`, and the
beat relay (`outbox_relay`) picks it up when that time comes. A worker that dies mid-send leaves a "sending"
row whose `next_attempt_at` is the end of its claim, so the relay finds it through the same partial index.
"""

import logging
import smtplib
import time
from datetime import timedelta
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.utils import timezone

from . import sms
from .models import Channel, MessageStatus, OutboxMessage

logger = logging.getLogger(__name__)


def claim_timeout() -> timedelta:
    """A claim older than this belongs to a worker that died; the message may be taken again
    (NOTIFY_CLAIM_TIMEOUT_SECONDS, 10 minutes unless set: far above the slowest send of a live worker)."""
    return timedelta(seconds=settings.NOTIFY_CLAIM_TIMEOUT_SECONDS)


RELAY_BATCH = 20
RELAY_LIMIT = 200
RELAY_TIME_BUDGET = 25.0  # seconds: the beat runs the relay every 30 s
ERROR_MAX_LENGTH = 500


def backoff(attempts: int) -> timedelta:
    """Wait 2, 4, 8, 16 … minutes after the 1st, 2nd, 3rd, 4th … failed attempt."""
    return timedelta(minutes=2**attempts)


def _due_q(now):
    due_now = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    stale_claim = Q(status=MessageStatus.SENDING, claimed_at__lte=now - claim_timeout())
    return (Q(status=MessageStatus.PENDING) & due_now) | stale_claim


def outbox_claim(*, message_id: int) -> OutboxMessage | None:
    """Take the row for this worker, or None when it is sent, failed, not yet due or held by a live worker."""
    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(_due_q(now), pk=message_id)
        # next_attempt_at = the end of the claim: a stale claim is then "due" for the relay's index scan.
        .update(status=MessageStatus.SENDING, claimed_at=now, next_attempt_at=now + claim_timeout())
    )
    if not claimed:
        return None
    return OutboxMessage.objects.filter(pk=message_id).first()


def _send_email(message) -> str:
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    message_id = make_msgid(idstring=f"outbox{message.pk}", domain=domain)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    try:
        email.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        permanent = bool(codes) and all(code >= 500 for code in codes)
        refused = ", ".join(map(str, codes))
        raise sms.DeliveryError(f"recipient refused by the mail server ({refused})", permanent=permanent) from None
    except smtplib.SMTPResponseException as exc:
        raise sms.DeliveryError(f"mail server answered {exc.smtp_code}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise sms.DeliveryError(f"mail server unreachable: {exc.__class__.__name__}") from None
    except ValueError as exc:  # a header Django refuses (e.g. a newline in the address): it will not improve
        raise sms.DeliveryError(f"invalid message: {exc}", permanent=True) from None
    return message_id.strip("<>")[:120]


def _send(message) -> tuple[str, bool]:
    """(the provider's message id, whether the message was handed to anybody)."""
    if message.channel == Channel.EMAIL:
        return _send_email(message), True
    if message.channel == Channel.SMS:
        backend = sms.get_backend()
        return backend.send(message), getattr(backend, "delivers", True)
    raise sms.DeliveryError(f"unknown channel {message.channel!r}", permanent=True)


def _record_failure(message, error: str, *, permanent: bool) -> str:
    now = timezone.now()
    attempts = message.attempts + 1
    if permanent or attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        fields: dict[str, Any] = {"status": MessageStatus.FAILED, "next_attempt_at": None}
        outcome = "failed"
    else:
        fields = {"status": MessageStatus.PENDING, "next_attempt_at": now + backoff(attempts)}
        outcome = "retry"
    # Only while our claim holds: after claim_timeout() another worker may have taken the row over.
    OutboxMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING, claimed_at=message.claimed_at).update(
        attempts=attempts, last_error=error[:ERROR_MAX_LENGTH], claimed_at=None, **fields
    )
    logger.warning(
        "outbox %s (%s to %s) attempt %d failed: %s -> %s",
        message.pk,
        message.channel,
        message.masked_to,
        attempts,
        error,
        outcome,
    )
    return outcome


def outbox_deliver(*, message_id: int) -> str:
    """Send one outbox row at most once. Returns "sent", "kept", "retry", "failed" or "skipped" (nothing to do)."""
    message = outbox_claim(message_id=message_id)
    if message is None:
        return "skipped"
    try:
        provider_id, delivered = _send(message)
    except sms.DeliveryError as exc:
        return _record_failure(message, str(exc), permanent=exc.permanent)
    except Exception as exc:  # noqa: BLE001 - any other fault is retried; the class name carries no secret
        logger.exception("outbox %s: unexpected error while sending", message.pk)
        return _record_failure(message, f"unexpected error: {exc.__class__.__name__}", permanent=False)
    if not delivered:
        # Final, like sent (no next attempt), but nobody received it: never counted as sent, never retried.
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=MessageStatus.KEPT,
            sent_at=None,
            provider_id="",
            attempts=message.attempts + 1,
            next_attempt_at=None,
            last_error="",
        )
        logger.info("outbox %s (%s to %s) kept, not sent", message.pk, message.channel, message.masked_to)
        return "kept"
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENT,
        sent_at=timezone.now(),
        provider_id=provider_id or "",
        attempts=message.attempts + 1,
        next_attempt_at=None,
        last_error="",
    )
    logger.info("outbox %s (%s to %s) sent", message.pk, message.channel, message.masked_to)
    return "sent"


def outbox_due(*, now=None):
    """Pending rows whose time has come and stale claims, oldest first (the partial index notify_outbox_due)."""
    now = now or timezone.now()
    return OutboxMessage.objects.filter(
        status__in=[MessageStatus.PENDING, MessageStatus.SENDING], next_attempt_at__lte=now
    ).order_by("next_attempt_at")


def outbox_due_ids(*, now=None, limit: int = RELAY_BATCH, exclude=()) -> list[int]:
    qs = outbox_due(now=now)
    if exclude:
        qs = qs.exclude(pk__in=list(exclude))
    return list(qs.values_list("pk", flat=True)[:limit])


def outbox_relay(*, limit: int = RELAY_LIMIT, batch: int = RELAY_BATCH, time_budget: float = RELAY_TIME_BUDGET) -> dict:
    """Deliver due rows in this process, a batch at a time, up to `limit` rows or `time_budget` seconds."""
    started = time.monotonic()
    seen: set[int] = set()
    counts = {"sent": 0, "kept": 0, "retry": 0, "failed": 0, "skipped": 0}
    while len(seen) < limit and time.monotonic() - started < time_budget:
        ids = outbox_due_ids(limit=min(batch, limit - len(seen)), exclude=seen)
        if not ids:
            break
        for pk in ids:
            seen.add(pk)
            counts[outbox_deliver(message_id=pk)] += 1
            if time.monotonic() - started >= time_budget:
                break
    if any(counts[k] for k in ("sent", "kept", "retry", "failed")):
        logger.info("outbox relay: %s", counts)
    return counts


def outbox_retry(*, message_ids) -> int:
    """Give failed messages a fresh set of attempts now (the admin's "retry now"). Returns how many."""
    from .services import _enqueue_on_commit

    ids = list(
        OutboxMessage.objects.filter(pk__in=list(message_ids), status=MessageStatus.FAILED).values_list("pk", flat=True)
    )
    count = OutboxMessage.objects.filter(pk__in=ids, status=MessageStatus.FAILED).update(
        status=MessageStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_at=None
    )
    if count:
        _enqueue_on_commit(ids)
    return count
