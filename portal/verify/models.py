"""Documents the portal issues (certificates, licences), verifiable by anyone with their code."""

import datetime

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from portal.documents.storage import private_storage
from portal.fields import AccessRecord, optional_reference, user_reference


class DocumentStatus(models.TextChoices):
    GENERATING = "generating", _("Being generated")
    VALID = "valid", _("Valid")
    REVOKED = "revoked", _("Revoked")


class IssuedDocument(models.Model):
    """One issued document. Exactly one per (source case, generation): the worker's idempotency key."""

    code = models.CharField(_("verification code"), max_length=24, unique=True)
    kind = models.CharField(_("document type"), max_length=48, db_index=True)
    title = models.CharField(_("title"), max_length=120)
    title_en = models.CharField(_("English title"), max_length=160, blank=True)

    source_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    source_id = models.PositiveBigIntegerField()
    source = GenericForeignKey("source_type", "source_id")
    generation = models.PositiveSmallIntegerField(default=1)

    # Typed in full (not optional_reference): portal.verify.sharing reads the holder's fields.
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("holder's account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="issued_documents",
    )
    holder_name = models.CharField(_("holder's name"), max_length=60)
    # As printed: a verifier may check a name and date of birth against it (services.holder_matches).
    holder_birth_date = models.DateField(_("holder's date of birth"), null=True, blank=True)
    issuing_office = models.ForeignKey(
        "accounts.Office", verbose_name=_("issuing office"), on_delete=models.PROTECT, related_name="issued_documents"
    )
    issued_at = models.DateTimeField(_("issued"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    status = models.CharField(
        _("status"), max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.GENERATING
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    # Internal: for staff and the audit trail, never shown outside the admin.
    revoke_reason = models.TextField(_("internal reason for revocation"), blank=True)
    # What the verification page, the API and the holder's pages show (docs/api/verify.md).
    public_reason = models.TextField(_("public reason for revocation"), blank=True)
    # Revoked because a newer document replaced it (a reissue, a validation): verifiers are told "superseded".
    superseded = models.BooleanField(_("superseded by a newer document"), default=False)
    revoked_by = optional_reference(settings.AUTH_USER_MODEL, _("revoked by"))

    file = models.FileField(_("PDF"), storage=private_storage, max_length=200, blank=True)
    # Indexed: an uploaded PDF is looked up by the hash of its exact bytes.
    sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64, blank=True, db_index=True)
    size = models.PositiveIntegerField(_("size in bytes"), null=True, blank=True)
    generated_at = models.DateTimeField(_("generated"), null=True, blank=True)

    verification_count = models.PositiveIntegerField(_("times verified"), default=0)
    last_verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)

    class Meta:
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id", "generation"], name="verify_issued_one_per_generation"
            )
        ]
        indexes = [
            models.Index(fields=["source_type", "source_id"], name="verify_issued_source"),
            # The issued-documents admin: newest first, and by status (the revoked ones).
            models.Index(fields=["-issued_at"], name="verify_issued_at"),
            models.Index(fields=["status", "-issued_at"], name="verify_issued_status_at"),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.code}"

    @property
    def masked_holder_name(self) -> str:
        return idnumber.mask_name(self.holder_name)


class VerificationLog(models.Model):
    """Every verification: which document (if found), how, when and from which client."""

    class Channel(models.TextChoices):
        PAGE = "page", _("Verification page")
        API = "api", _("API")
        PDF = "pdf", _("PDF upload")
        HOLDER = "holder", _("Holder check (name and date of birth)")
        SHARE = "share", _("Share code")

    document = models.ForeignKey(
        IssuedDocument, null=True, blank=True, on_delete=models.CASCADE, related_name="verifications"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    result = models.CharField(max_length=24)
    # When the verification happened, not when a buffered record reached the table (hence no auto_now_add).
    at = models.DateTimeField(default=timezone.now, db_index=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    # Set on every new row: a buffered record drained twice inserts once (and is counted once). Null only on
    # rows written before the buffer existed.
    uid = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = _("verification")
        verbose_name_plural = _("verification log")
        ordering = ["-at"]
        # The log admin's filter by result (codes that were not found: someone guessing), newest first; also
        # the index the result filter's choices are read from (portal.bigtables.distinct_values).
        indexes = [models.Index(fields=["result", "-at"], name="verify_log_result_at")]

    def __str__(self) -> str:
        return f"{self.channel} {self.result} {self.at:%Y-%m-%d %H:%M}"


class IssuedDocumentAccess(AccessRecord):
    """One download of an issued document by someone other than its holder.

    Logged like every view of a citizen's documents: docs/architecture.md#security-and-privacy.
    """

    document = models.ForeignKey(
        IssuedDocument, verbose_name=_("issued document"), on_delete=models.PROTECT, related_name="accesses"
    )
    user = user_reference(_("downloaded by"))

    class Meta(AccessRecord.Meta):
        verbose_name = _("issued document download")
        verbose_name_plural = _("issued document downloads")

    def __str__(self) -> str:
        return f"{self.document.code} / {self.user_id} / {self.at:%Y-%m-%d %H:%M}"


class ShareCode(models.Model):
    """A code the holder gives one organisation for one purpose: with the date of birth it shows the full name.

    Only the SHA-256 of the code is stored (docs/api/verify.md#share-codes); the holder sees the code once.
    """

    document = models.ForeignKey(
        IssuedDocument, verbose_name=_("issued document"), on_delete=models.CASCADE, related_name="share_codes"
    )
    holder = user_reference(_("holder"), on_delete=models.CASCADE, related_name="share_codes")
    code_hash = models.CharField(_("SHA-256 of the code"), max_length=64, unique=True, editable=False)
    code_hint = models.CharField(_("last group of the code"), max_length=4, editable=False)
    organisation = models.CharField(_("organisation"), max_length=200)
    purpose = models.CharField(_("purpose"), max_length=200)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("valid until"))
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("share code")
        verbose_name_plural = _("share codes")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["document", "expires_at"], name="verify_share_document_expires")]

    def __str__(self) -> str:
        return f"…{self.code_hint} → {self.organisation}"

    def is_active(self, now: datetime.datetime | None = None) -> bool:
        return self.cancelled_at is None and (now or timezone.now()) < self.expires_at


class ShareCodeUse(models.Model):
    """One use of a share code by an organisation: what it typed as its name, when, and whether it matched."""

    share = models.ForeignKey(ShareCode, verbose_name=_("share code"), on_delete=models.CASCADE, related_name="uses")
    at = models.DateTimeField(_("when"), default=timezone.now)
    organisation = models.CharField(_("organisation (as typed)"), max_length=200)
    matched = models.BooleanField(_("date of birth matched"))
    # Told through the outbox if the document is revoked while the share code is valid (once per address).
    notify_email = models.EmailField(_("e-mail for a revocation notice"), blank=True)
    notified_at = models.DateTimeField(_("revocation notice sent"), null=True, blank=True)
    client_ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("share code use")
        verbose_name_plural = _("share code uses")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.organisation} {self.at:%Y-%m-%d %H:%M}"
