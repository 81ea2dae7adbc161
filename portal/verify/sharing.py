"""Binding a verification to its holder: name and date of birth checks, and the holder's share codes.

The plain look-up by code (lookup.verify_code_within_limit) never touches these tables: a holder check or a
share code costs its own queries only when a verifier asks for one. docs/api/verify.md#holder-check and
docs/api/verify.md#share-codes say what is shown and what is stored.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.notify.services import send_email

from .codes import SHARE_LENGTH, new_code, normalize_code
from .logbuffer import verification_log_record
from .lookup import lookup_row, result_for
from .models import DocumentStatus, IssuedDocument, ShareCode, ShareCodeUse, VerificationLog

if TYPE_CHECKING:
    from accounts.models import User

    from .lookup import VerificationResult

logger = logging.getLogger("portal.verify")

SHARE_MAX_DAYS = 30
SHARE_DEFAULT_DAYS = 30

# The middle dot of transliterated names (阿依古丽·买买提) and what keyboards and fonts put in its place.
_DOTS = "\u00b7\u0387\u2022\u2027\u2219\u22c5\u30fb\uff65\u318d\u16eb\u2e31\u00b7\u0e4f\ua78f"
_DOTS_RE = re.compile(f"[{re.escape(_DOTS)}]")


def normalize_name(name: str) -> str:
    """A name as compared: NFKC, no spaces, no middle dot (nor its look-alikes), case-folded."""
    text = unicodedata.normalize("NFKC", name or "")
    text = _DOTS_RE.sub("", text)
    return "".join(ch for ch in text if not ch.isspace()).casefold()


_DATE_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$|^\s*(\d{4})(\d{2})(\d{2})\s*$")


def parse_birth_date(text: str) -> datetime.date | None:
    """YYYY-MM-DD or 8 digits (YYYYMMDD, as in a resident ID number); None if it is neither or no such day."""
    match = _DATE_RE.match(unicodedata.normalize("NFKC", text or ""))
    if not match:
        return None
    parts = [g for g in match.groups() if g is not None]
    try:
        return datetime.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def holder_birth_date(document: IssuedDocument) -> datetime.date | None:
    """The date of birth the document was issued with: its own, else its source's (documents issued before it was
    kept on the document), else the holder account's when the account is the holder."""
    if document.holder_birth_date:
        return document.holder_birth_date
    source = document.source
    born = getattr(source, "holder_birth_date", None)
    if isinstance(born, datetime.date):
        return born
    holder = document.holder
    if holder is not None and normalize_name(holder.real_name) == normalize_name(document.holder_name):
        return holder.birth_date
    return None


# --- the holder check on /verify/<code>/ --------------------------------------------------------------------


def holder_matches(*, code: str, name: str, birth_date: datetime.date, ip: str | None) -> tuple[bool, str]:
    """(matched, full name if matched else ""): never which of the two did not match. Logged (not what was typed)."""
    document = (
        IssuedDocument.objects.filter(code=code)
        .exclude(status=DocumentStatus.GENERATING)
        .select_related("holder", "source_type")
        .first()
    )
    matched = (
        document is not None
        and bool(name)
        and normalize_name(name) == normalize_name(document.holder_name)
        and holder_birth_date(document) == birth_date
    )
    verification_log_record(
        document_id=document.pk if document else None,
        channel=VerificationLog.Channel.HOLDER,
        result="match" if matched else "mismatch",
        ip=ip,
    )
    return matched, document.holder_name if (matched and document) else ""


# --- share codes ----------------------------------------------------------------------------------------------


def _hash(code: str) -> str:
    # 120 random bits: an unsalted SHA-256 cannot be reversed by guessing, and it lets the code be looked up.
    return hashlib.sha256(code.encode()).hexdigest()


def share_code_create(
    *, document: IssuedDocument, holder: User, organisation: str, purpose: str, days: int = SHARE_DEFAULT_DAYS
) -> tuple[ShareCode, str]:
    """A new share code for a valid document of the holder's; returns (share, the code, shown once)."""
    organisation, purpose = " ".join((organisation or "").split()), " ".join((purpose or "").split())
    if document.holder_id != holder.pk:
        raise ValidationError(_("This document was not issued to you."), code="not_holder")
    if document.status != DocumentStatus.VALID or (
        document.valid_until is not None and document.valid_until < timezone.localdate()
    ):
        raise ValidationError(_("Only a valid document can be shared."), code="not_valid")
    if not organisation or not purpose:
        raise ValidationError(_("Name the organisation and the purpose."), code="required")
    if not 1 <= days <= SHARE_MAX_DAYS:
        raise ValidationError(
            _("A share code is valid for 1 to %(days)d days.") % {"days": SHARE_MAX_DAYS}, code="days"
        )
    now = timezone.now()
    expires = now + datetime.timedelta(days=days)
    if document.valid_until:
        # Never beyond the document's own validity: the end of its last valid day.
        end_of_validity = timezone.make_aware(
            datetime.datetime.combine(document.valid_until + datetime.timedelta(days=1), datetime.time.min)
        )
        expires = min(expires, end_of_validity)
    code = new_code(SHARE_LENGTH)
    share = ShareCode.objects.create(
        document=document,
        holder=holder,
        code_hash=_hash(code),
        code_hint=code[-4:],
        organisation=organisation[:200],
        purpose=purpose[:200],
        created_at=now,
        expires_at=expires,
    )
    logger.info("share code %s created for issued document %s", share.pk, document.code)
    return share, code


def share_code_cancel(*, share: ShareCode, holder: User) -> ShareCode:
    """Cancel at once (idempotent); only the holder's own."""
    if share.holder_id != holder.pk:
        raise ValidationError(_("This share code is not yours."), code="not_holder")
    ShareCode.objects.filter(pk=share.pk, cancelled_at__isnull=True).update(cancelled_at=timezone.now())
    share.refresh_from_db()
    return share


def share_codes_for_holder(holder: User) -> QuerySet[ShareCode]:
    """The holder's share codes, newest first, each with its uses and its document (two queries)."""
    return (
        ShareCode.objects.filter(holder=holder)
        .select_related("document")
        .prefetch_related(Prefetch("uses", queryset=ShareCodeUse.objects.order_by("-at")))
    )


@dataclass(frozen=True)
class ShareAnswer:
    """What an organisation sees for a share code and date of birth: all of it, or nothing at all."""

    matched: bool
    result: VerificationResult | None = None
    holder_name: str = ""
    purpose: str = ""
    organisation: str = ""  # as the holder named it
    share_valid_until: datetime.datetime | None = None


def share_code_use(
    *, code: str, birth_date: datetime.date, organisation: str, notify_email: str = "", ip: str | None
) -> ShareAnswer:
    """Look a share code up with the holder's date of birth; every attempt on a known code is shown to the holder.

    An unknown, cancelled or expired code and a wrong date of birth all answer the same "no match".
    """
    canonical = normalize_code(code, SHARE_LENGTH)
    share = (
        ShareCode.objects.filter(code_hash=_hash(canonical)).select_related("document", "document__holder").first()
        if canonical
        else None
    )
    now = timezone.now()
    organisation = " ".join((organisation or "").split())[:200]
    if share is None or not share.is_active(now):
        verification_log_record(
            document_id=share.document_id if share else None,
            channel=VerificationLog.Channel.SHARE,
            result="mismatch",
            ip=ip,
        )
        return ShareAnswer(matched=False)
    document = share.document
    matched = holder_birth_date(document) == birth_date
    ShareCodeUse.objects.create(
        share=share,
        at=now,
        organisation=organisation,
        matched=matched,
        notify_email=(notify_email or "").strip() if matched else "",
        client_ip=ip or None,
    )
    verification_log_record(
        document_id=document.pk, channel=VerificationLog.Channel.SHARE, result="match" if matched else "mismatch", ip=ip
    )
    if not matched:
        return ShareAnswer(matched=False)
    row = lookup_row(IssuedDocument.objects.filter(pk=document.pk))
    return ShareAnswer(
        matched=True,
        result=result_for(row, document.code),
        holder_name=document.holder_name,
        purpose=share.purpose,
        organisation=share.organisation,
        share_valid_until=share.expires_at,
    )


def share_subscribers_notify(*, document: IssuedDocument, at: datetime.datetime) -> int:
    """E-mail each organisation that asked to be told, through a share code valid now, that `document` is revoked.

    One e-mail per address however many times it used the code; called inside the revocation's transaction, so
    the messages are queued on commit (portal.notify). Returns the number of e-mails queued.
    """
    uses = list(
        ShareCodeUse.objects.filter(
            share__document=document,
            share__cancelled_at__isnull=True,
            share__expires_at__gt=at,
            matched=True,
            notified_at__isnull=True,
        )
        .exclude(notify_email="")
        .select_related("share")
        .order_by("at")
    )
    sent: set[str] = set()
    for use in uses:
        address = use.notify_email.strip().lower()
        if address in sent:
            continue
        sent.add(address)
        send_email(
            use.notify_email,
            template="verify/share_revoked",
            context={
                "document": document,
                "organisation": use.organisation or use.share.organisation,
                "purpose": use.share.purpose,
                "revoked_on": timezone.localdate(at),
                "public_reason": document.public_reason,
                "superseded": document.superseded,
                "code": document.code,
                "verify_url": settings.SITE_URL + "/verify/" + document.code + "/",
            },
            language=settings.LANGUAGE_CODE,
        )
    if uses:
        ShareCodeUse.objects.filter(pk__in=[u.pk for u in uses]).update(notified_at=at)
    if sent:
        logger.info("issued document %s: %d share-code subscribers told of the revocation", document.code, len(sent))
    return len(sent)
