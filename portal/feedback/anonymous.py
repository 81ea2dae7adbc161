"""Consultations asked without an account: a name, an e-mail address and the question.

No CAPTCHA: a throttle per client address and per e-mail address (portal.ratelimit, fixed windows) refuses the next
question past the limit with a message saying when to try again, and the form keeps what was typed. The answer goes
by e-mail through the outbox (portal.notify) with a link carrying a one-time-drawn code; whoever holds the link reads
the question and the answer without signing in. Only the code's SHA-256 is stored, and a new code is drawn when the
answer is sent, so the link exists only in that e-mail.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Office
from accounts.notify import notify_office
from portal import ratelimit
from portal.cases.deadlines import clock_start
from portal.cases.services import create_with_case_number, record_opened
from portal.notify.services import send_email

from .models import Feedback, FeedbackKind, FeedbackStatus

logger = logging.getLogger("portal.feedback")

# Questions one client address may ask in an hour, and one e-mail address in a day, without an account.
PER_ADDRESS_PER_HOUR = 3
PER_EMAIL_PER_DAY = 3
HOUR, DAY = 3600, 86400


class Throttled(Exception):
    """Too many questions from this connection or for this e-mail address; the message says what to do."""


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _email_key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"rl:anon-consult-email:{digest}:{int(time.time() // DAY)}"


def check_throttle(request, email: str) -> None:
    """Count this question against the client address and the e-mail address; Throttled past either limit."""
    by_address = ratelimit.rate_limited(request, "anon-consult", limit=PER_ADDRESS_PER_HOUR, period=HOUR)
    by_email = ratelimit.rate_limited_key(_email_key(email), limit=PER_EMAIL_PER_DAY, period=DAY)
    if by_address or by_email:
        logger.warning("anonymous consultation refused: over the limit (address %s)", by_address)
        raise Throttled(
            _(
                "You have asked %(count)d questions without an account recently, the most we accept. Please try again "
                "tomorrow, or sign in to ask more. What you typed is kept below."
            )
            % {"count": PER_EMAIL_PER_DAY}
        )


def ask(*, name: str, email: str, office: Office, subject: str, body: str) -> Feedback:
    """A consultation without an account: numbered, the 5-working-day clock running, the office and the asker told."""
    from .services import TIME_LIMITS, feedback_offices

    errors = {}
    name, email = " ".join((name or "").split()), (email or "").strip()
    subject, body = (subject or "").strip(), (body or "").strip()
    if not name:
        errors["name"] = _("Enter your name, so the office can address you.")
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = _("Enter the e-mail address the answer should go to, like name@example.com.")
    if not subject:
        errors["subject"] = _("Give a short subject.")
    if not body:
        errors["body"] = _("Write your message.")
    if office is None or not feedback_offices().filter(pk=office.pk).exists():
        errors["office"] = _("Choose the office you are writing to from the list.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        item = create_with_case_number(
            Feedback,
            Feedback.CASE_PREFIX,
            applicant=None,
            contact_name=name[:80],
            contact_email=email,
            office=office,
            status=FeedbackStatus.OPEN,
            kind=FeedbackKind.CONSULTATION,
            subject=subject[:200],
            body=body[:5000],
            submitted_at=timezone.now(),
            **clock_start(TIME_LIMITS[FeedbackKind.CONSULTATION]),
        )
        record_opened(item, by=None)
        context = {"feedback": item, "case_number": item.case_number, "due_date": item.due_date, "name": name}
        send_email(email, template="feedback/anonymous_received", context=context)
        notify_office(office, template="feedback/inbox", context=context, service=item)
    logger.info("anonymous consultation %s opened for office %s", item.case_number, office.pk)
    return item


def send_answer(item: Feedback, text: str) -> None:
    """E-mail the answer with a new reading link (called by services.answer inside its transaction)."""
    code = secrets.token_urlsafe(24)
    item.access_hash = hash_code(code)
    item.save(update_fields=["access_hash"])
    send_email(
        item.contact_email,
        template="feedback/anonymous_answered",
        context={
            "feedback": item,
            "case_number": item.case_number,
            "name": item.contact_name,
            "answer": text,
            "office": item.office,
            "link": f"{settings.SITE_URL}/feedback/answer/{code}/",
        },
    )


def find_by_code(code: str) -> Feedback | None:
    if not code or len(code) > 64:
        return None
    return (
        Feedback.objects.filter(access_hash=hash_code(code), applicant__isnull=True)
        .exclude(access_hash="")
        .select_related("office")
        .first()
    )
