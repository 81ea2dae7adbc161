"""No-criminal-record applications, the criminal-record register, its import jobs, and the certificates issued."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from accounts.models import User
from portal.cases.models import (
    ReviewedCase,
    deadline_sweep_index,
    open_by_due_index,
    open_queue_index,
)
from portal.documents.storage import private_storage
from portal.fields import optional_link, optional_reference, user_reference

CLOCK_WORKING_DAYS = 3  # 3 working days from acceptance (docs/services.md#certificate-of-no-criminal-record)


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted, awaiting acceptance")
    ACCEPTED = "accepted", _("Accepted, under review")
    INFO_REQUESTED = "info_requested", _("More information requested")
    APPROVED = "approved", _("Approved, certificate being issued")
    ISSUED = "issued", _("Certificate issued")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Reason(models.TextChoices):
    EMPLOYMENT = "employment", _("Employment")
    ABROAD = "abroad", _("Going abroad")
    STUDY = "study", _("Further study")
    OTHER = "other", _("Other")


class Delivery(models.TextChoices):
    ELECTRONIC = "electronic", _("Electronic certificate only")
    PRINT = "print", _("Electronic certificate, which I will print myself")
    COLLECT = "collect", _("Electronic certificate, and a paper copy to collect at an office")


class HolderIdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident ID card")
    PASSPORT = "passport", _("Passport")


# The states in which a clock may run; the deadline sweep's partial index lists exactly these.
OPEN_STATUSES = (Status.SUBMITTED, Status.ACCEPTED)


class Application(ReviewedCase):
    """An application for a Certificate of No Criminal Record, by the holder or an agent."""

    CASE_PREFIX = "NCR"
    OPEN_STATUSES = OPEN_STATUSES
    DRAFT_STATUSES = (Status.DRAFT,)
    CLOSED_STATUSES = (Status.APPROVED, Status.ISSUED, Status.REFUSED, Status.WITHDRAWN)

    status = models.CharField(_("status"), max_length=32, choices=Status.choices, default=Status.DRAFT, db_index=True)

    # Who the certificate is for: the applicant themself, or someone the applicant acts for (agent).
    for_self = models.BooleanField(_("I am applying for myself"), default=True)
    holder_name = models.CharField(_("holder's name"), max_length=60)
    holder_id_type = models.CharField(
        _("ID document type"), max_length=16, choices=HolderIdType.choices, default=HolderIdType.RESIDENT_ID
    )
    holder_id_number = models.CharField(_("ID document number"), max_length=32, db_index=True)
    holder_sex = models.CharField(_("sex"), max_length=1, choices=User.Sex.choices, blank=True)
    holder_birth_date = models.DateField(_("date of birth"), null=True, blank=True)

    reason = models.CharField(_("purpose"), max_length=16, choices=Reason.choices, blank=True)
    destination_country = models.CharField(_("destination country"), max_length=80, blank=True)
    reason_other = models.CharField(_("purpose (explain)"), max_length=200, blank=True)
    receiving_organisation = models.CharField(_("receiving organisation"), max_length=200, blank=True)
    delivery = models.CharField(_("delivery"), max_length=16, choices=Delivery.choices, default=Delivery.ELECTRONIC)
    collection_office = optional_reference("accounts.Office", _("office to collect the paper copy"))

    # Review (the declaration, acceptance, information requests and the decision: portal.cases.models.ReviewedCase)
    register_checked_at = models.DateTimeField(_("register checked"), null=True, blank=True)
    # Bumped by approval and by each reissue: the worker makes exactly one certificate per generation.
    certificate_generation = models.PositiveSmallIntegerField(default=0, editable=False)

    # Paper copy
    paper_printed_at = models.DateTimeField(_("paper copy printed"), null=True, blank=True)
    paper_collected_at = models.DateTimeField(_("paper copy collected"), null=True, blank=True)

    class Meta:
        verbose_name = _("no-criminal-record application")
        verbose_name_plural = _("no-criminal-record applications")
        ordering = ["-created_at"]
        indexes = [
            deadline_sweep_index("ncr_app", OPEN_STATUSES),
            models.Index(fields=["office", "status", "-created_at"], name="ncr_app_office_queue"),
            open_queue_index("ncr_app", OPEN_STATUSES),
            # The desk's due-soon and overdue counts; a supervisor's queue in due-date order (portal.cases.desk, queues).
            open_by_due_index("ncr_app", OPEN_STATUSES),
            # The re-queue sweep: recent refusals whose notice may still be missing.
            models.Index(fields=["updated_at"], name="ncr_app_refused_updated", condition=Q(status="refused")),
        ]

    @property
    def masked_holder_id_number(self):
        return idnumber.mask(self.holder_id_number)

    @property
    def masked_holder_name(self):
        return idnumber.mask_name(self.holder_name)

    @property
    def purpose_text(self):
        if self.reason == Reason.ABROAD and self.destination_country:
            return _("%(reason)s: %(country)s") % {
                "reason": self.get_reason_display(),
                "country": self.destination_country,
            }
        if self.reason == Reason.OTHER and self.reason_other:
            return self.reason_other
        return self.get_reason_display()


def new_record_id() -> str:
    """The id of a record entered here rather than imported from the source register (or from before record ids)."""
    return f"local-{uuid.uuid4().hex}"


# Open applications: waiting for a decision, so a change in the register can still change the outcome.
REGISTER_OPEN_STATUSES = (Status.SUBMITTED, Status.ACCEPTED, Status.INFO_REQUESTED)


class CriminalRecord(models.Model):
    """One effective court judgment in the criminal-record register (imported by administrators)."""

    record_id = models.CharField(
        _("record id"),
        max_length=64,
        default=new_record_id,
        help_text=_("The id of the record in the source register."),
    )
    id_number = models.CharField(_("ID number"), max_length=18)
    name = models.CharField(_("name"), max_length=60)
    offence = models.CharField(_("offence"), max_length=200)
    court = models.CharField(_("court"), max_length=200)
    judgment_date = models.DateField(_("date of judgment"))
    sentence = models.CharField(_("sentence"), max_length=200, help_text=_("As worded in the judgment."))
    sentence_months = models.PositiveIntegerField(
        _("sentence (months of imprisonment)"), help_text=_("0 for a sentence without imprisonment.")
    )
    age_at_offence = models.PositiveSmallIntegerField(_("age at the time of the offence"))
    sealed_by_order = models.BooleanField(
        _("sealed by order"), default=False, help_text=_("Sealed by the register (a court or police order).")
    )
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)
    import_batch = models.CharField(_("import batch"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("criminal record")
        verbose_name_plural = _("criminal-record register")
        ordering = ["id_number", "judgment_date"]
        # Plain b-tree indexes (no varchar_pattern_ops twins): a full import rebuilds each of them on millions of rows.
        constraints = [models.UniqueConstraint(fields=["record_id"], name="ncr_register_record_id_uniq")]
        indexes = [
            models.Index(fields=["id_number"], name="ncr_register_id_number"),
            models.Index(fields=["import_batch"], name="ncr_register_import_batch"),
        ]

    def __str__(self):
        return f"{idnumber.mask(self.id_number)} {self.offence} ({self.judgment_date})"

    @property
    def sealed(self):
        """Sealed (封存): by an order recorded in the register, or committed under 18 and sentenced to 5 years or less.
        A sealed record does not prevent the certificate."""
        return self.sealed_by_order or (self.age_at_offence < 18 and self.sentence_months <= 60)


class ImportKind(models.TextChoices):
    FULL = "full", _("Full register (replaces it)")
    DELTA = "delta", _("Changes (add, correct, seal, remove)")


class ImportPhase(models.TextChoices):
    QUEUED = "queued", _("Queued")
    CHECKING = "checking", _("Checking the file")
    LOADING = "loading", _("Reading and validating rows")
    SWAPPING = "swapping", _("Putting the new register in place")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ImportOutcome(models.TextChoices):
    NONE = "", _("Not finished")
    IMPORTED = "imported", _("Imported")
    REJECTED = "rejected", _("Rejected: nothing changed")
    FAILED = "failed", _("Failed: nothing changed")
    CANCELLED = "cancelled", _("Cancelled: nothing changed")


def register_upload_to(instance, filename):
    now = timezone.localtime()
    return f"register/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.csv"


class RegisterImport(models.Model):
    """One import of the criminal-record register: the stored file, who started it, its progress and its report."""

    RUNNING_PHASES = (ImportPhase.CHECKING, ImportPhase.LOADING, ImportPhase.SWAPPING)
    CANCELLABLE_PHASES = (ImportPhase.QUEUED, ImportPhase.CHECKING, ImportPhase.LOADING)
    FINISHED_PHASES = (ImportPhase.DONE, ImportPhase.FAILED, ImportPhase.CANCELLED)

    kind = models.CharField(_("kind"), max_length=8, choices=ImportKind.choices, default=ImportKind.FULL)
    file = models.FileField(_("file"), storage=private_storage, upload_to=register_upload_to, max_length=200)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField(_("file size (bytes)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    started_by = user_reference(_("started by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    phase = models.CharField(_("phase"), max_length=16, choices=ImportPhase.choices, default=ImportPhase.QUEUED)
    outcome = models.CharField(_("outcome"), max_length=16, choices=ImportOutcome.choices, blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    cancelled_by = optional_reference(settings.AUTH_USER_MODEL, _("cancelled by"))
    bytes_read = models.PositiveBigIntegerField(_("bytes read"), default=0)
    rows_read = models.PositiveBigIntegerField(_("rows read"), default=0)
    rows_rejected = models.PositiveBigIntegerField(_("rows rejected"), default=0)
    rows_imported = models.PositiveBigIntegerField(_("rows imported"), default=0)
    counts = models.JSONField(_("counts per action"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    # The first MAX_REJECTIONS_LISTED rejected rows as [line, reason]; the rest are counted in more_rejected.
    rejections = models.JSONField(_("rejected rows"), default=list, blank=True)
    more_rejected = models.PositiveBigIntegerField(_("more rejected rows"), default=0)
    # Open applications whose register check changed: [{"pk", "case_number", "before", "after"}], the first ones.
    changed_cases = models.JSONField(_("applications affected"), default=list, blank=True)
    changed_cases_count = models.PositiveIntegerField(_("applications affected (count)"), default=0)
    batch = models.CharField(_("import batch"), max_length=64, blank=True)
    retry_of = optional_link("self", _("run again from"))

    class Meta:
        verbose_name = _("register import")
        verbose_name_plural = _("register imports")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["phase"], name="ncr_register_import_phase")]

    def __str__(self):
        return _("Register import %(number)s") % {"number": self.pk}

    @property
    def running(self) -> bool:
        return self.phase in self.RUNNING_PHASES or self.phase == ImportPhase.QUEUED

    @property
    def cancellable(self) -> bool:
        return self.phase in self.CANCELLABLE_PHASES and not self.cancel_requested

    @property
    def rejected_count(self) -> int:
        return self.rows_rejected
