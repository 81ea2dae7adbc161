"""The outbox: every e-mail and SMS is a row first, delivered by the worker with bounded retries."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.fields import optional_link
from portal.masking import mask_mobile


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    # The database SMS backend's outcome: nothing was delivered and nothing will be (never retried, never "sent").
    KEPT = "kept", _("Kept, not sent")
    FAILED = "failed", _("Failed (gave up)")


class OutboxMessage(models.Model):
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=254, help_text=_("E-mail address or E.164 mobile number"))
    user = optional_link(settings.AUTH_USER_MODEL, _("user"))
    template = models.CharField(_("template"), max_length=100, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"))
    html_body = models.TextField(_("HTML"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    provider_id = models.CharField(_("provider message id"), max_length=120, blank=True)
    # The message centre (/me/messages/) mirrors a user's messages on the portal, except those that carry a secret
    # (a confirmation code or a one-time link): those prove that the user holds the phone or the mailbox, which a copy
    # on the portal would defeat.
    # db_default: the release before this column's, still serving while migrations run, inserts rows without it.
    secret = models.BooleanField(
        _("carries a code or one-time link"),
        default=False,
        db_default=False,
        help_text=_("Not shown in the recipient's message centre on the portal."),
    )
    read_at = models.DateTimeField(_("read on the portal"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notify_outbox_due",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            # The outbox admin: newest first, and by status (the failed ones) without reading every message.
            models.Index(fields=["-created_at"], name="notify_outbox_created"),
            models.Index(fields=["status", "-created_at"], name="notify_outbox_status_created"),
            # The unread count in every signed-in page's header: only the few unread rows of the user.
            models.Index(
                fields=["user"],
                name="notify_outbox_unread",
                condition=models.Q(read_at__isnull=True, secret=False),
            ),
        ]

    def __str__(self):
        # Shown in admin pages, action checkboxes and logs: never the full number or an SMS body (codes).
        return f"{self.get_channel_display()} → {self.masked_to} ({self.template or self.pk})"

    @property
    def masked_to(self) -> str:
        """138****5678 for a phone, u***@example.com for an e-mail address."""
        if self.channel == Channel.SMS:
            return mask_mobile(self.to)
        local, _, domain = self.to.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
