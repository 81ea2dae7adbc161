"""Private uploads attached to cases, and the log of every staff view of one."""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.fields import AccessRecord, optional_reference, user_reference

from .storage import private_storage, upload_to

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


class Document(models.Model):
    """One validated, re-encoded upload. Staff reach it through the office of the case it is attached to."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    owner = user_reference(_("owner"), related_name="documents")
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    # Only ever shown; the stored name is generated (storage.new_storage_name).
    original_name = models.CharField(_("original file name"), max_length=255, blank=True)
    file = models.FileField(_("file"), storage=private_storage, upload_to=upload_to, max_length=200)
    mime_type = models.CharField(_("content type"), max_length=64)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    width = models.PositiveIntegerField(_("width (pixels)"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height (pixels)"), null=True, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True, db_index=True)

    # The case it belongs to; empty until the service attaches it.
    case_type = models.ForeignKey(
        ContentType, verbose_name=_("case type"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    case_id = models.PositiveBigIntegerField(_("case id"), null=True, blank=True)
    case = GenericForeignKey("case_type", "case_id")
    # Copied from the case so that staff scoping is one indexed filter, without the generic join.
    office = optional_reference("accounts.Office", _("office"), related_name="documents")
    attached_at = models.DateTimeField(_("attached"), null=True, blank=True)

    # Set aside (docs/architecture.md#security-and-privacy): by the deciding office with a reason (a wrong upload,
    # such as another person's ID card), or withdrawn by its owner while the case is a draft or awaits their answer.
    # From then on only that office (and administrators) may open it; its bytes are deleted after
    # DOCUMENT_SET_ASIDE_RETENTION_DAYS by the beat job, and `purged_at` says when.
    set_aside_at = models.DateTimeField(_("set aside"), null=True, blank=True)
    set_aside_by = optional_reference(settings.AUTH_USER_MODEL, _("set aside by"))
    set_aside_office = optional_reference("accounts.Office", _("office that set it aside"))
    set_aside_reason = models.TextField(_("reason for setting aside"), blank=True)
    withdrawn = models.BooleanField(_("withdrawn by the applicant"), default=False)
    purged_at = models.DateTimeField(_("file deleted"), null=True, blank=True)

    # Set per request on the staff review page (portal.cases.admin.CaseReviewAdminMixin.review_documents).
    set_aside_allowed: bool = False
    set_aside_url: str = ""

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["case_type", "case_id"], name="documents_doc_case"),
            models.Index(
                fields=["created_at"], name="documents_doc_unattached", condition=models.Q(case_id__isnull=True)
            ),
            # The purge of set-aside files: only the rows still holding bytes.
            models.Index(
                fields=["set_aside_at"],
                name="documents_doc_set_aside",
                condition=models.Q(set_aside_at__isnull=False, purged_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.kind}: {self.original_name or self.public_id}"

    def get_absolute_url(self):
        return reverse("documents:download", kwargs={"public_id": self.public_id})

    @property
    def inline_url(self):
        """For <img> in the staff review pages: images only, still permission-checked and logged."""
        return f"{self.get_absolute_url()}?inline=1"

    @property
    def is_image(self):
        return self.mime_type in ("image/jpeg", "image/png")

    @property
    def is_set_aside(self):
        return self.set_aside_at is not None

    @property
    def download_name(self):
        """The citizen's name for the file, with the extension of what it really is."""
        stem = (self.original_name or "").rsplit(".", 1)[0] or self.kind or "document"
        return f"{stem}.{EXTENSIONS.get(self.mime_type, 'bin')}"


class DocumentAccess(AccessRecord):
    """One view of a citizen's document by someone other than its owner (docs/architecture.md#security-and-privacy)."""

    document = models.ForeignKey(
        Document, verbose_name=_("document"), on_delete=models.PROTECT, related_name="accesses"
    )
    user = user_reference(_("viewed by"))
    inline = models.BooleanField(_("shown inline"), default=False)

    class Meta(AccessRecord.Meta):
        verbose_name = _("document view")
        verbose_name_plural = _("document views")

    def __str__(self):
        return f"{self.document.public_id} / {self.user_id} / {self.at:%Y-%m-%d %H:%M}"
