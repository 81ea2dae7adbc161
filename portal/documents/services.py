"""Create, attach, keep across forms, authorise and log private documents: the API the services call."""

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scoping import ALL, scoped_office_ids
from portal.cases.services import TransitionNotAllowed, record_staff_event, required_text

from .models import Document, DocumentAccess
from .storage import new_storage_name, private_storage
from .validation import ID_DOCUMENT_RULES, PHOTO_RULES, UploadRules, check_upload, clean_original_name

logger = logging.getLogger("portal.documents")

KEEP_TOKEN_MAX_AGE = 24 * 3600  # a re-displayed form stays usable for a day


class DocumentAttachError(Exception):
    """The document cannot be attached to this case."""


def document_create(*, owner, uploaded_file, kind: str, rules: UploadRules | None = None) -> Document:
    """Validate `uploaded_file` against `rules`, re-encode it if it is an image, and store it privately.

    Raises django.core.exceptions.ValidationError (with a code: wrong_type, too_large, empty,
    too_many_pixels, damaged, too_small, not_portrait, greyscale, encrypted, active_content, not_stored). On any
    error neither a file nor a row remains.
    """
    rules = rules or UploadRules()
    checked = check_upload(uploaded_file, rules)
    try:
        name = private_storage.save(new_storage_name(checked.extension), ContentFile(checked.data))
    except OSError as exc:
        # A full or failing disk: the storage removed its partial file. The citizen is told to try again later,
        # next to the field, instead of getting an error page; the operators get the reason in the log.
        logger.error("upload of user %s not stored: %s", owner.pk, exc.strerror or exc.__class__.__name__)
        raise ValidationError(
            _("Your file could not be saved just now. Nothing was kept; please try again in a few minutes."),
            code="not_stored",
        ) from exc
    try:
        with transaction.atomic():
            document = Document.objects.create(
                owner=owner,
                kind=kind,
                original_name=clean_original_name(getattr(uploaded_file, "name", "")),
                file=name,
                mime_type=checked.mime_type,
                size=len(checked.data),
                sha256=hashlib.sha256(checked.data).hexdigest(),
                width=checked.width,
                height=checked.height,
            )
    except BaseException:
        private_storage.delete(name)
        raise
    logger.info("document %s (%s, %s bytes) stored for user %s", document.public_id, kind, document.size, owner.pk)
    return document


def document_attach(*, document: Document, case) -> Document:
    """Tie `document` to `case` (any Case subclass), so the staff of the case's office can see it.

    Idempotent for the same case; a document already attached elsewhere is refused, so a signed keep
    token cannot move a file from one application to another.
    """
    case_type = ContentType.objects.get_for_model(type(case))
    updated = Document.objects.filter(pk=document.pk, case_id__isnull=True).update(
        case_type=case_type, case_id=case.pk, office_id=case.office_id, attached_at=timezone.now()
    )
    if not updated:
        current = Document.objects.values("case_type_id", "case_id").get(pk=document.pk)
        if (current["case_type_id"], current["case_id"]) != (case_type.pk, case.pk):
            raise DocumentAttachError(f"document {document.public_id} already belongs to another case")
    document.refresh_from_db(fields=["case_type", "case_id", "office", "attached_at"])
    return document


def documents_for_case(case, *, kind: str | None = None, include_set_aside: bool = False):
    """The documents attached to `case`, newest first; without those set aside or withdrawn unless asked for (the
    staff review page, which shows each only to whoever may still open it: `documents_for_review`)."""
    qs = Document.objects.filter(case_type=ContentType.objects.get_for_model(type(case)), case_id=case.pk)
    if not include_set_aside:
        qs = qs.filter(set_aside_at__isnull=True)
    return qs.filter(kind=kind) if kind else qs


def documents_move_office(*, case, office) -> int:
    """When a case passes to another office (a hukou step), its documents follow; returns how many moved."""
    return documents_for_case(case).update(office=office)


def document_keep_token(*, document: Document) -> str:
    """A signed token that lets the owner re-submit a form without uploading `document` again."""
    return signing.dumps({"d": str(document.public_id), "k": document.kind}, salt=_keep_salt(document.owner_id))


def document_from_token(*, token: str, owner, kind: str | None = None) -> Document | None:
    """The document a keep token names, if it is the owner's, of that kind and not expired; else None."""
    try:
        payload = signing.loads(token, salt=_keep_salt(owner.pk), max_age=KEEP_TOKEN_MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(payload, dict) or (kind is not None and payload.get("k") != kind):
        return None
    return Document.objects.filter(
        public_id=payload.get("d"),  # type: ignore[misc]  # None is a valid lookup (IS NULL): then nothing matches
        owner=owner,
        kind=payload.get("k"),
    ).first()


def _keep_salt(owner_pk) -> str:
    return f"portal.documents.keep:{owner_pk}"


def document_may_view(*, user, document: Document) -> bool:
    """The owner, or active staff whose offices include the office of the case the document belongs to, of the agency
    that handles the case's service (accounts.scoping.scoped_office_ids).

    A case handled by several offices in turn (a hukou move) names them itself with `document_office_ids()`:
    then exactly those offices may look, each once the case has reached it.

    A document set aside or withdrawn is for the office that set it aside (or that was deciding when it was
    withdrawn) and administrators only; its owner keeps it unless they withdrew it; once purged, nobody.
    """
    if not (user.is_authenticated and user.is_active):
        return False
    if document.purged_at is not None:
        return False
    if document.owner_id == user.pk:
        return not document.withdrawn
    if not user.is_staff or document.office_id is None:
        return False
    # Outside the admin too, staff see citizens' files only after the second factor.
    if settings.STAFF_MFA_REQUIRED and not (hasattr(user, "is_verified") and user.is_verified()):
        return False
    if document.case_type_id is None:
        return False
    # The content type cache answers without a query after the first look-up of each case model.
    service = ContentType.objects.get_for_id(document.case_type_id).app_label
    ids = scoped_office_ids(user, service=service)
    if ids is ALL:
        return True
    if document.set_aside_at is not None:
        return document.set_aside_office_id is not None and document.set_aside_office_id in ids
    case_offices = getattr(document.case, "document_office_ids", None)
    if callable(case_offices):
        return bool(ids & set(case_offices()))
    return document.office_id in ids


def documents_delete(documents) -> int:
    """Delete uploads that no office has seen (a draft's), and their files once the deletion is committed.

    A document someone other than its owner viewed is kept with its access log: deleting it raises ProtectedError.
    """
    documents = list(documents)
    names = [document.file.name for document in documents]
    with transaction.atomic():
        Document.objects.filter(pk__in=[document.pk for document in documents]).delete()

        def remove_files():
            for name in names:
                private_storage.delete(name)

        transaction.on_commit(remove_files)
    return len(documents)


def document_record_access(*, document: Document, user, ip: str | None = None, inline: bool = False):
    """Log a view by someone other than the owner: a row for the admin and a line for the log files."""
    if document.owner_id == user.pk:
        return None
    access = DocumentAccess.objects.create(document=document, user=user, ip=ip or None, inline=inline)
    logger.info("document %s viewed by user %s (inline=%s)", document.public_id, user.pk, inline)
    return access


def documents_purge_unattached(*, older_than: timedelta = timedelta(days=2)) -> int:
    """Delete uploads never attached to a case (abandoned forms), files first; returns how many."""
    cutoff = timezone.now() - older_than
    removed = 0
    for document in Document.objects.filter(case_id__isnull=True, created_at__lt=cutoff).iterator():
        with transaction.atomic():
            # Re-check inside the transaction: the owner may have attached it a moment ago.
            if Document.objects.filter(pk=document.pk, case_id__isnull=True).delete()[0]:

                def delete_file(name: str | None = document.file.name) -> None:
                    private_storage.delete(name)

                transaction.on_commit(delete_file)
                removed += 1
    if removed:
        logger.info("purged %d unattached documents", removed)
    return removed


def documents_for_review(case: Any, *, user: Any, may_set_aside: bool) -> list[Document]:
    """The documents a staff member sees on the review page: those in use, and those set aside or withdrawn that they
    may still open (marked in the page). With `may_set_aside`, each one still in use gets `set_aside_allowed`."""
    shown = []
    for document in documents_for_case(case, include_set_aside=True).select_related("set_aside_by"):
        if document.set_aside_at is not None and not document_may_view(user=user, document=document):
            continue  # another office: as if it had never been uploaded
        document.set_aside_allowed = may_set_aside and document.set_aside_at is None
        shown.append(document)
    return shown


def deciding_office(case: Any) -> Any:
    """The office that may decide on `case` now (a hukou step names it: `acting_office()`), else the case's office."""
    acting = getattr(case, "acting_office", None)
    return (acting() if callable(acting) else None) or case.office


def may_set_aside(*, user: Any, case: Any) -> bool:
    """Active staff of the case's agency whose offices include the office deciding now, and who may look at documents
    at all (MFA)."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    if settings.STAFF_MFA_REQUIRED and not (hasattr(user, "is_verified") and user.is_verified()):
        return False
    ids = scoped_office_ids(user, service=case._meta.app_label)
    return ids is ALL or deciding_office(case).pk in ids


def document_set_aside(*, document: Document, by: Any, reason: str) -> Document:
    """The deciding office sets a document aside with a reason, at any stage of the case.

    Other offices no longer see or open it (404); the office that set it aside still does, marked; the applicant's
    pages no longer count it. Logged in the case's staff timeline and in the log; the bytes are deleted after
    DOCUMENT_SET_ASIDE_RETENTION_DAYS (`documents_purge_set_aside`).
    """
    case = document.case
    if case is None:
        raise TransitionNotAllowed(_("This file is not part of an application."))
    if not may_set_aside(user=by, case=case):
        raise TransitionNotAllowed(_("Only the office deciding on this case now can set its documents aside."))
    reason = required_text(reason, _("Give the reason for setting the document aside."))
    office = deciding_office(case)
    with transaction.atomic():
        _set_aside_once(
            document, by=by, office=office, already=_("This document is already set aside."), set_aside_reason=reason
        )
        record_staff_event(
            case,
            by=by,
            office=office,
            internal_note=_("Document “%(name)s” set aside: %(reason)s")
            % {"name": document.download_name, "reason": reason},
        )
    logger.info(
        "document %s of case %s set aside by user %s (office %s): %s",
        document.public_id,
        case.case_number,
        by.pk,
        office.pk,
        reason,
    )
    document.refresh_from_db()
    return document


def _set_aside_once(document: Document, *, by: Any, office: Any, already: Any, **fields: Any) -> None:
    """Set the document aside now, by `by` for `office`, with `fields`; `already` is refused when another request set
    it aside first (the guarded UPDATE decides the race)."""
    updated = Document.objects.filter(pk=document.pk, set_aside_at__isnull=True).update(
        set_aside_at=timezone.now(), set_aside_by=by, set_aside_office=office, **fields
    )
    if not updated:
        raise TransitionNotAllowed(already)


def document_may_withdraw(*, document: Document, user: Any) -> bool:
    """The owner, who applied for the case, while it is a draft or awaits their answer (and it is not set aside)."""
    case = document.case
    return (
        user.is_authenticated
        and document.owner_id == user.pk
        and document.set_aside_at is None
        and case is not None
        and case.applicant_id == user.pk
        and case.uploads_withdrawable
    )


def document_withdraw(*, document: Document, by: Any) -> Document:
    """The applicant takes back an upload: in a draft, or while the office waits for their answer.

    The document leaves the application at once (it no longer counts, nobody but the office that was deciding can
    open it); its bytes go with the set-aside purge after DOCUMENT_SET_ASIDE_RETENTION_DAYS, so that an office that
    already looked at it can still see what it was told was withdrawn.
    """
    if not document_may_withdraw(document=document, user=by):
        raise TransitionNotAllowed(
            _("A file can be withdrawn only while the application is a draft or more information is requested.")
        )
    case: Any = document.case  # attached: document_may_withdraw checked it
    office = None if case.is_draft else deciding_office(case)
    with transaction.atomic():
        _set_aside_once(document, by=by, office=office, already=_("This file is already withdrawn."), withdrawn=True)
        if not case.is_draft:
            record_staff_event(
                case,
                by=by,
                office=office,
                internal_note=_("File “%(name)s” withdrawn by the applicant.") % {"name": document.download_name},
            )
    logger.info("document %s of case %s withdrawn by its owner %s", document.public_id, case.case_number, by.pk)
    document.refresh_from_db()
    return document


def documents_purge_set_aside(*, now: datetime | None = None) -> int:
    """Delete the bytes of documents set aside or withdrawn more than DOCUMENT_SET_ASIDE_RETENTION_DAYS ago.

    The row stays (with its access log and who set it aside, why and when); `purged_at` records the deletion and
    nobody can open it any more. The file goes first: if marking the row fails, the next run deletes nothing twice.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DOCUMENT_SET_ASIDE_RETENTION_DAYS)
    due = Document.objects.filter(set_aside_at__isnull=False, set_aside_at__lt=cutoff, purged_at__isnull=True)
    removed = 0
    for document in due.only("pk", "file", "public_id").iterator():
        if document.file.name:
            private_storage.delete(document.file.name)
        removed += Document.objects.filter(pk=document.pk, purged_at__isnull=True).update(purged_at=now, file="")
    if removed:
        logger.info("deleted the files of %d documents set aside", removed)
    return removed


def documents_purge_partial_files(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Remove temporary files that writers killed mid-write left behind (the file system storage only)."""
    purge = getattr(private_storage, "purge_partial_files", None)  # an object store has no partial files
    removed = purge(older_than=older_than) if purge else 0
    if removed:
        logger.warning("purged %d partial files left by interrupted writes", removed)
    return removed


__all__ = [
    "ID_DOCUMENT_RULES",
    "PHOTO_RULES",
    "DocumentAttachError",
    "UploadRules",
    "document_attach",
    "document_create",
    "document_from_token",
    "document_keep_token",
    "document_may_view",
    "document_record_access",
    "deciding_office",
    "document_may_withdraw",
    "document_set_aside",
    "document_withdraw",
    "documents_delete",
    "documents_for_case",
    "documents_for_review",
    "documents_purge_set_aside",
    "may_set_aside",
    "documents_move_office",
    "documents_purge_partial_files",
    "documents_purge_unattached",
]
