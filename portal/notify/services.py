"""Queue e-mails and SMS: rows written in the caller's transaction, handed to the worker on commit.

If the broker is down when the transaction commits, nothing is lost: the beat relay
(`tasks.relay_outbox`) delivers every pending row whose time has come.
"""

import logging
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.db import transaction
from django.template import Context, TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone, translation

from .models import Channel, OutboxMessage

if TYPE_CHECKING:
    from django.template.backends.django import Template as DjangoBackendTemplate

logger = logging.getLogger(__name__)


def _enqueue_on_commit(message_ids):
    def publish_all():
        from portal.celery import publish

        from .tasks import deliver

        # Broker down: the first publish fails (within the socket timeout), the rest are skipped at once, and the
        # relay sweep delivers them all from the outbox rows.
        for pk in message_ids:
            publish(deliver, pk)

    transaction.on_commit(publish_all)


def queue_message(
    *, channel, to, body, subject="", html_body="", user=None, template="", secret=False
) -> OutboxMessage | None:
    """Write one outbox row; the worker sends it after the surrounding transaction commits.

    `secret`: the message carries a code or a one-time link, so the user's message centre on the portal never shows it.
    """
    if not to:
        return None
    message = OutboxMessage.objects.create(
        channel=channel,
        to=to,
        subject=subject[:255],
        body=body,
        html_body=html_body,
        user=user,
        template=template,
        secret=secret,
        next_attempt_at=timezone.now(),
    )
    _enqueue_on_commit([message.pk])
    return message


def render_message(template: str, context: dict, language: str | None = None) -> dict:
    """Render templates/notify/<template>/{subject.txt,email.txt,email.html,sms.txt} in `language`.

    Missing parts are skipped: a template without sms.txt sends no SMS.
    """
    ctx = {"site_url": settings.SITE_URL, **context}
    parts = {}
    with translation.override(language or settings.LANGUAGE_CODE):
        for part in ("subject.txt", "email.txt", "email.html", "sms.txt"):
            try:
                compiled = get_template(f"notify/{template}/{part}")
            except TemplateDoesNotExist:
                continue
            if part.endswith(".txt"):
                # Plain text is not HTML: without this, "&" in a name would arrive as "&amp;".
                # The DjangoTemplates backend's wrapper: its .template renders with a Context of our own.
                django_template = cast("DjangoBackendTemplate", compiled).template
                parts[part] = django_template.render(Context(ctx, autoescape=False)).strip()
            else:
                parts[part] = compiled.render(ctx).strip()
    if "subject.txt" in parts:
        parts["subject.txt"] = " ".join(parts["subject.txt"].split())
    return parts


def notify_user(user, *, template: str, context: dict | None = None, email=True, sms=True) -> list[OutboxMessage]:
    """E-mail and/or SMS to a user from a template, in the user's language."""
    parts = render_message(template, {"user": user, **(context or {})}, getattr(user, "language", None))
    queued = []
    if email and user.email and "email.txt" in parts:
        queued.append(
            queue_message(
                channel=Channel.EMAIL,
                to=user.email,
                subject=parts.get("subject.txt", ""),
                body=parts["email.txt"],
                html_body=parts.get("email.html", ""),
                user=user,
                template=template,
            )
        )
    if sms and user.mobile and "sms.txt" in parts:
        queued.append(
            queue_message(channel=Channel.SMS, to=user.mobile, body=parts["sms.txt"], user=user, template=template)
        )
    return [m for m in queued if m is not None]


def send_sms(to: str, *, template: str, context: dict | None = None, language=None, user=None, secret=False):
    """An SMS to a number that may not belong to an account yet (e.g. a confirmation code: `secret`)."""
    parts = render_message(template, context or {}, language)
    return queue_message(channel=Channel.SMS, to=to, body=parts["sms.txt"], user=user, template=template, secret=secret)


def send_email(to: str, *, template: str, context: dict | None = None, language=None, user=None, secret=False):
    """An e-mail to an address that may not be confirmed yet (e.g. a confirmation link: `secret`)."""
    parts = render_message(template, context or {}, language)
    return queue_message(
        channel=Channel.EMAIL,
        to=to,
        subject=parts.get("subject.txt", ""),
        body=parts["email.txt"],
        html_body=parts.get("email.html", ""),
        user=user,
        template=template,
        secret=secret,
    )
