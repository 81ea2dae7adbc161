"""The base every application shares: case number, status, timeline and the working-day clock."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Expression, F, Q
from django.utils.translation import gettext_lazy as _

from portal.fields import optional_link, optional_reference

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django_stubs_ext import StrOrPromise


class CaseSequence(models.Model):
    """The last sequence number handed out for a prefix on a day (row-locked when incremented)."""

    prefix = models.CharField(max_length=8)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "day"], name="cases_sequence_prefix_day")]

    def __str__(self) -> str:
        return f"{self.prefix} {self.day}: {self.last}"


class DueState(models.TextChoices):
    NONE = "", _("On time")
    DUE_SOON = "due_soon", _("Due soon")
    OVERDUE = "overdue", _("Overdue")


class Case(models.Model):
    """Abstract base of every service's application.

    Subclasses set CASE_PREFIX, give `status` its TextChoices, and list OPEN_STATUSES (the states in
    which a clock may run) and, optionally, DRAFT_STATUSES. Status changes only through
    `portal.cases.services.transition`.
    """

    CASE_PREFIX = "XX"
    OPEN_STATUSES: tuple[str, ...] = ()
    DRAFT_STATUSES: tuple[str, ...] = ("draft",)
    # Statuses after the decision, in which a case is never frozen (freeze_cases_of): nothing more is done in them, or
    # only the issue of the decided document, which staff can revoke.
    CLOSED_STATUSES: tuple[str, ...] = ()
    # The status of a case waiting for the applicant's answer to a request for more information (clock paused).
    INFO_REQUESTED_STATUS = "info_requested"
    # Statuses of a finished case: the queues' "finished" filter, behind which they wait (None: CLOSED_STATUSES).
    FINISHED_STATUSES: tuple[str, ...] | None = None
    # Every concrete case model has its default manager (or a subclass of it) as `objects`.
    objects: ClassVar[models.Manager[Self]]

    case_number = models.CharField(_("case number"), max_length=32, unique=True, editable=False)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="%(app_label)s_%(class)s_cases",
    )
    office = models.ForeignKey(
        "accounts.Office",
        verbose_name=_("office"),
        on_delete=models.PROTECT,
        related_name="%(app_label)s_%(class)s_cases",
    )
    status = models.CharField(_("status"), max_length=32, default="draft", db_index=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)

    # The working-day clock of the step now under way (docs/architecture.md#cases-transitions-and-deadlines).
    clock_limit = models.PositiveSmallIntegerField(_("time limit (working days)"), null=True, blank=True)
    clock_started_on = models.DateField(_("clock started"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    deadline_provisional = models.BooleanField(
        _("provisional deadline"),
        default=False,
        help_text=_("The official holiday calendar for that year is not yet published; recomputed when it is."),
    )
    paused_at = models.DateTimeField(_("clock paused"), null=True, blank=True)
    workdays_left = models.SmallIntegerField(_("working days left when paused"), null=True, blank=True)
    due_state = models.CharField(
        _("deadline state"), max_length=16, choices=DueState.choices, default=DueState.NONE, blank=True
    )
    # The member of staff working on the case (claimed, or assigned by a supervisor): their desk counts it as
    # "assigned to me"; another officer acting on it must confirm, and the timeline says so (portal.cases.assignment).
    assigned_to = optional_link(settings.AUTH_USER_MODEL, _("assigned to"), editable=False)
    # A frozen case takes no transition at all (portal.cases.services.transition refuses it): set when the applicant's
    # account was suspended because someone else proved the ID number is theirs (docs/architecture.md#identity-assurance).
    frozen_at = models.DateTimeField(_("frozen"), null=True, blank=True, editable=False)
    frozen_reason = models.CharField(_("why frozen"), max_length=300, blank=True, editable=False)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    if TYPE_CHECKING:
        # Made by Django for the `status` field each subclass gives its choices.
        def get_status_display(self) -> str: ...

    def __str__(self) -> str:
        return self.case_number

    @property
    def is_draft(self) -> bool:
        return self.status in self.DRAFT_STATUSES

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @classmethod
    def finished_statuses(cls) -> tuple[str, ...]:
        return cls.CLOSED_STATUSES if cls.FINISHED_STATUSES is None else cls.FINISHED_STATUSES

    @classmethod
    def acting_q(cls, office_ids: Iterable[int] | None) -> Q:
        """The cases in which one of `office_ids` (None: any office) must act now: the open statuses, in which a clock
        runs. A multi-office workflow says which office acts in which status (hukou)."""
        if office_ids is None:
            return Q(status__in=cls.OPEN_STATUSES)
        return Q(office__in=office_ids, status__in=cls.OPEN_STATUSES)

    @classmethod
    def acting_office_expression(cls) -> Expression | F:
        """The office that must act now, as an SQL expression over the case's own columns: what
        `portal.cases.deadlines.deadline_office` answers for one case, for the deadline sweep's set-based UPDATE. A
        multi-office workflow (hukou) that defines `acting_office()` overrides this too."""
        return F("office")

    def timeline(self) -> QuerySet[Transition]:
        return Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(type(self)), object_id=self.pk
        ).select_related("actor")

    def public_timeline(self) -> QuerySet[Transition]:
        """The rows the applicant sees (their status page, /track/): every row but the staff-only ones."""
        return self.timeline().filter(staff_only=False)

    @property
    def uploads_withdrawable(self) -> bool:
        """The applicant may withdraw an upload: in a draft, and while the office waits for their answer."""
        return self.is_draft or self.status == self.INFO_REQUESTED_STATUS

    def status_label(self, status: str | None = None) -> StrOrPromise:
        field = cast("models.Field[Any, Any]", self._meta.get_field("status"))  # a CharField, never a relation
        labels: dict[str, StrOrPromise] = dict(field.flatchoices)
        return labels.get(status or self.status, status or self.status)


def deadline_sweep_index(prefix: str, open_statuses: Iterable[str]) -> models.Index:
    """The deadline sweep's index on a case model: running clocks due at or before the horizon
    (docs/architecture.md#cases-transitions-and-deadlines). The condition repeats the sweep's filter so the planner
    can use it; `open_statuses` must be exactly the model's OPEN_STATUSES."""
    return models.Index(
        fields=["due_date"],
        name=f"{prefix}_open_due",
        condition=Q(status__in=[str(s) for s in open_statuses], paused_at__isnull=True),
    )


def open_queue_index(prefix: str, open_statuses: Iterable[str]) -> models.Index:
    """The default queue's index: an office's open cases by due date (portal.cases.queues)."""
    return models.Index(
        fields=["office", "due_date", "id"],
        name=f"{prefix}_office_open_due",
        condition=Q(status__in=[str(s) for s in open_statuses]),
    )


def open_by_due_index(
    prefix: str, open_statuses: Iterable[str] = (), *, office_field: str = "office", condition: Q | None = None
) -> models.Index:
    """The default queue of a supervisor's many offices (portal.cases.queues): the open cases in due-date order with
    the acting office in the index, so that the first page is read in order (the office checked in the index) and the
    scan stops after it, instead of sorting every open case of a city. One office's queue uses the office-first index
    (`open_queue_index`). The condition, the open statuses or `condition`, must be implied by `Case.acting_q`."""
    if condition is None:
        condition = Q(status__in=[str(s) for s in open_statuses])
    return models.Index(fields=["due_date", "id", office_field], name=f"{prefix}_open_by_due", condition=condition)


class ReviewedCase(Case):
    """Abstract base of an application an office reviews: the declaration, acceptance, the request for more
    information and its answer, and the decision. The fields the workflow steps write (portal.cases.workflow)."""

    declaration_at = models.DateTimeField(_("declaration of truthfulness"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    info_request = models.TextField(_("information requested"), blank=True)
    citizen_reply = models.TextField(_("applicant's reply"), blank=True)
    decided_by = optional_reference(settings.AUTH_USER_MODEL, _("decided by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    # What the citizen typed on a page of the draft that could not be saved as answers yet (portal.cases.kept).
    kept_inputs = models.JSONField(_("typed answers still to be corrected"), default=dict, blank=True, editable=False)

    class Meta(Case.Meta):
        abstract = True


class Transition(models.Model):
    """One row of a case's timeline: who moved it from which status to which, when and why.

    Two texts (docs/architecture.md#security-and-privacy): `note`, the message to the applicant, and
    `internal_note`, which only staff see on the review page.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    case = GenericForeignKey("content_type", "object_id")
    from_status = models.CharField(_("from"), max_length=32, blank=True)
    to_status = models.CharField(_("to"), max_length=32)
    actor = optional_reference(settings.AUTH_USER_MODEL, _("by"))
    office = optional_reference("accounts.Office", _("office"))
    # What the applicant reads on their status page, in e-mails and SMS: existing notes were always shown, so they
    # stay public. `internal_note` is for staff only and never reaches a citizen's page or message.
    note = models.TextField(_("message to the applicant"), blank=True)
    internal_note = models.TextField(_("internal note (staff only)"), blank=True)
    # A row only staff see (a document set aside): the citizen's timeline and /track/ leave it out.
    staff_only = models.BooleanField(_("staff only"), default=False)
    # A step that leaves the status as it was (a revocation, a paper copy printed): what happened, as a key the
    # service labels (the status alone would repeat the previous step's label). Blank for a change of status.
    event = models.CharField(_("event"), max_length=32, blank=True)
    # A staff step's checklist as the officer ticked it on the review page: {"step": name, "checked": [keys]}
    # (portal.cases.review); the review page labels the keys from the workflow table. Staff only.
    checklist = models.JSONField(_("checklist ticked"), null=True, blank=True)
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline")
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "at"], name="cases_transition_case_at"),
            # The admin index's "recent actions": a staff member's own latest timeline rows.
            models.Index(fields=["actor", "-at"], name="cases_transition_actor_at"),
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status}"


class DeadlineDigest(models.Model):
    """One office's notice of the cases that became due soon or overdue in one sweep, waiting to be e-mailed.

    The deadline sweep writes it in the transaction that flags the cases; the notify task
    (deadlines.send_deadline_digests, and the beat job that re-sends what is left) renders it for each recipient
    and marks it sent in the transaction that writes their outbox rows, so each digest is e-mailed once.
    """

    office = models.ForeignKey("accounts.Office", verbose_name=_("office"), on_delete=models.CASCADE, related_name="+")
    state = models.CharField(_("deadline state"), max_length=12, choices=DueState.choices)
    # A service of the agency the digest goes to (accounts.notify.office_recipients): never another agency's staff.
    service = models.CharField(_("service"), max_length=50)
    count = models.PositiveIntegerField(_("number of cases"))
    # The first deadlines.DIGEST_LIST_LIMIT cases: [{"model": app_label.model_name, "case_number", "due_date"}].
    cases = models.JSONField(_("cases listed"), default=list)
    created_at = models.DateTimeField(_("written"), auto_now_add=True)
    sent_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("deadline digest")
        verbose_name_plural = _("deadline digests")
        indexes = [
            # The notify task's and the beat job's read: only the digests not sent yet.
            models.Index(fields=["created_at"], name="cases_digest_unsent", condition=Q(sent_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.get_state_display()} · {self.count}"
