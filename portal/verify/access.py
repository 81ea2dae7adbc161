"""Who may download an issued PDF, and the log of downloads by anyone but its holder."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.contenttypes.models import ContentType

from accounts.scoping import ALL, scoped_office_ids
from portal import registry

from .models import DocumentStatus, IssuedDocument, IssuedDocumentAccess

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

logger = logging.getLogger("portal.verify")


def issued_document_may_download(*, user: User | AnonymousUser, document: IssuedDocument) -> bool:
    """The holder (while the document is valid or expired, not revoked), or staff in scope of the issuing office, of
    the agency that handles the service which issued it."""
    if not (user.is_authenticated and user.is_active) or not document.file:
        return False
    if document.holder_id is not None and document.holder_id == user.pk:
        return document.status == DocumentStatus.VALID
    if not user.is_staff and document.pk in registry.documents_naming(user):
        # Named on it as a holder, though another account applied (a spouse on a couple's certificate).
        return document.status == DocumentStatus.VALID
    if not user.is_staff:
        return False
    if settings.STAFF_MFA_REQUIRED and not (hasattr(user, "is_verified") and user.is_verified()):
        return False
    service = ContentType.objects.get_for_id(document.source_type_id).app_label
    ids = scoped_office_ids(user, service=service)
    return ids is ALL or document.issuing_office_id in ids


def issued_document_record_access(
    *, document: IssuedDocument, user: User, ip: str | None = None
) -> IssuedDocumentAccess | None:
    """Log a download by someone other than the holder."""
    if document.holder_id == user.pk:
        return None
    access = IssuedDocumentAccess.objects.create(document=document, user=user, ip=ip or None)
    logger.info("issued document %s downloaded by user %s", document.code, user.pk)
    return access
