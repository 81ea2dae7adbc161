"""One-stop hukou migration: the application, the people moving and staying, and the post-settlement check."""

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from accounts.address import PARTS as ADDRESS_PARTS
from accounts.models import Office, User
from portal.cases.models import (
    ReviewedCase,
    deadline_sweep_index,
    open_by_due_index,
)
from portal.fields import optional_link, optional_reference, user_reference

from .constants import (
    ACTOR_BY_STATUS,
    DRAFT_STATUSES,
    FINAL_STATUSES,
    OPEN_STATUSES,
    Actor,
    Category,
    Education,
    Grounds,
    MaritalStatus,
    ReceivingParty,
    Relation,
    Status,
)

# Where each office acts: its queue is the union of these, each branch served by one index below.
_MOVE_IN_STATUSES = tuple(s for s, a in ACTOR_BY_STATUS.items() if a == Actor.MOVE_IN_STATION)
_MUNICIPAL_STATUSES = tuple(s for s, a in ACTOR_BY_STATUS.items() if a == Actor.MUNICIPAL_ADMIN)
_MOVE_OUT_STATUSES = tuple(s for s, a in ACTOR_BY_STATUS.items() if a == Actor.MOVE_OUT_STATION)


def _office_ids(offices):
    if isinstance(offices, Office):
        return [offices.pk]
    if isinstance(offices, models.QuerySet):
        return offices.values("pk")
    return [o.pk if isinstance(o, Office) else o for o in offices]


class MigrationApplicationQuerySet(models.QuerySet):
    def acting_for(self, offices):
        """Cases in which one of `offices` must act now (its inbox)."""
        return self.filter(self.model.acting_q(offices))

    def reached(self, offices):
        """Cases that have reached one of `offices`, from the step at which they reached it (staff scoping).

        The move-in station sees its cases from submission; the municipal administration from forwarding; the
        move-out station from the issue of the Permit to Move In, whatever happened afterwards.
        """
        return self.filter(reached_q(offices))


def reached_q(offices) -> Q:
    """The condition of MigrationApplicationQuerySet.reached, for filters that need it as a Q (the admin's scope).

    As a plain OR of three indexed branches it is served by a BitmapOr of the office indexes; wrapped in
    `pk IN (subquery)` the planner scanned the whole table (1 s at 1 000 000 rows).
    """
    ids = _office_ids(offices)
    return (
        Q(office__in=ids, submitted_at__isnull=False)
        | Q(municipal_office__in=ids, forwarded_at__isnull=False)
        | Q(origin_office__in=ids, permit_issued_at__isnull=False)
    )


def _id_number_field(verbose_name, **kwargs):
    return models.CharField(verbose_name, max_length=18, validators=[idnumber.validate_id_number], **kwargs)


def _office_of_kind(verbose_name, kind: str, related_name: str):
    """An office of one kind that a move passes through, chosen as the case goes on (the move-out station, the
    municipal administration)."""
    return optional_reference(
        "accounts.Office", verbose_name, related_name=related_name, limit_choices_to={"kind": kind}
    )


class MigrationApplication(ReviewedCase):
    """One application for one-stop migration, filed at (and accepted by) the move-in police station (`office`)."""

    CASE_PREFIX = "HK"
    OPEN_STATUSES = OPEN_STATUSES
    DRAFT_STATUSES = DRAFT_STATUSES
    CLOSED_STATUSES = (*FINAL_STATUSES, Status.PAPER)
    # The citizen's answers, section by section, in the order the pages ask them: hukou.forms builds the section
    # forms on these, and hukou.drafts writes only these (the workflow fields are written by the steps).
    DESTINATION_ANSWERS = (
        "category",
        "grounds",
        "category_explanation",
        "office",
        "destination_address",
        *(f"destination_{part}" for part in ADDRESS_PARTS),
        "destination_collective",
        "collective_household_name",
        "receiving_householder_name",
        "receiving_householder_id_number",
        "receiving_relation",
        "receiving_party",
        "receiving_family_member_name",
        "receiving_family_member_id_number",
        "receiving_family_member_relation",
        "receiving_present",
    )
    ORIGIN_ANSWERS = (
        "origin_address",
        *(f"origin_{part}" for part in ADDRESS_PARTS),
        "origin_office",
        "origin_head_name",
        "origin_head_id_number",
    )
    FINISHED_STATUSES = FINAL_STATUSES  # on paper the move-in station still settles the case

    status = models.CharField(_("status"), max_length=32, choices=Status.choices, default=Status.DRAFT, db_index=True)
    category = models.CharField(_("who moves"), max_length=32, choices=Category.choices)
    grounds = models.CharField(_("grounds for settlement"), max_length=32, choices=Grounds.choices, blank=True)
    category_explanation = models.TextField(
        _("grounds for settlement (explain)"), blank=True, help_text=_("Required for other settlement grounds.")
    )

    # Origin: the household the movers leave, and the station that registers the emigration.
    origin_address = models.CharField(_("address of the origin household"), max_length=255, blank=True)
    # The address in parts (accounts.address): GB/T 2260 codes of its province, city and district, then the text.
    # `origin_address` above holds them composed in one line, as every page and PDF shows it.
    origin_province = models.CharField(_("address of the origin household: province code"), max_length=6, blank=True)
    origin_city = models.CharField(_("address of the origin household: city code"), max_length=6, blank=True)
    origin_district = models.CharField(
        _("address of the origin household: district or county code"), max_length=6, blank=True
    )
    origin_street = models.CharField(
        _("address of the origin household: street or township"), max_length=60, blank=True
    )
    origin_detail = models.CharField(
        _("address of the origin household: road and number, building, flat"), max_length=255, blank=True
    )
    origin_office = _office_of_kind(_("move-out police station"), Office.Kind.POLICE_STATION, "hukou_moves_out")
    origin_head_name = models.CharField(_("head of the origin household"), max_length=60, blank=True)
    origin_head_id_number = _id_number_field(_("ID number of the head of the origin household"), blank=True)

    # Destination: `office` (the move-in station) accepts; the municipal administration approves.
    municipal_office = _office_of_kind(
        _("municipal household administration"), Office.Kind.HOUSEHOLD_ADMIN, "hukou_approvals"
    )
    destination_address = models.CharField(_("destination address"), max_length=255, blank=True)
    # The address in parts (accounts.address): GB/T 2260 codes of its province, city and district, then the text.
    # `destination_address` above holds them composed in one line, as every page and PDF shows it.
    destination_province = models.CharField(_("destination address: province code"), max_length=6, blank=True)
    destination_city = models.CharField(_("destination address: city code"), max_length=6, blank=True)
    destination_district = models.CharField(_("destination address: district or county code"), max_length=6, blank=True)
    destination_street = models.CharField(_("destination address: street or township"), max_length=60, blank=True)
    destination_detail = models.CharField(
        _("destination address: road and number, building, flat"), max_length=255, blank=True
    )
    destination_collective = models.BooleanField(_("into a collective household"), default=False)
    collective_household_name = models.CharField(_("name of the collective household"), max_length=120, blank=True)
    receiving_householder_name = models.CharField(_("receiving head of household"), max_length=60, blank=True)
    receiving_householder_id_number = _id_number_field(_("ID number of the receiving head of household"), blank=True)
    receiving_relation = models.CharField(
        _("relation of the mover to the receiving head of household"),
        max_length=16,
        choices=Relation.choices,
        blank=True,
    )
    # Joining relatives: who applies for the receiving side, present or by power of attorney.
    receiving_party = models.CharField(
        _("who applies for the receiving household"), max_length=16, choices=ReceivingParty.choices, blank=True
    )
    receiving_family_member_name = models.CharField(_("receiving family member's name"), max_length=60, blank=True)
    receiving_family_member_id_number = _id_number_field(_("receiving family member's ID number"), blank=True)
    receiving_family_member_relation = models.CharField(
        _("relation of the family member to the receiving head of household"),
        max_length=16,
        choices=Relation.choices,
        blank=True,
    )
    householder_consent = optional_link("documents.Document", _("written consent of the receiving head of household"))
    receiving_present = models.BooleanField(_("the receiving party applies in person"), default=True)
    receiving_power_of_attorney = optional_link("documents.Document", _("power of attorney of the receiving party"))

    # Workflow record besides that of every reviewed case (portal.cases.models.ReviewedCase): each step's moment (the
    # timeline has who and why); these also scope what each office sees.
    forwarded_at = models.DateTimeField(_("forwarded for approval"), null=True, blank=True)
    info_requested_in = models.CharField(
        _("information requested at step"),
        max_length=32,
        choices=Status.choices,
        blank=True,
        help_text=_("The state the case returns to when the applicant answers."),
    )
    permit_number = models.CharField(_("Permit to Move In number"), max_length=40, blank=True, db_index=True)
    permit_issued_at = models.DateTimeField(_("Permit to Move In issued"), null=True, blank=True)
    migration_certificate_number = models.CharField(
        _("Hukou Migration Certificate number"), max_length=40, blank=True, db_index=True
    )
    emigrated_on = models.DateField(_("emigration registered on"), null=True, blank=True)
    emigration_note = models.TextField(_("move-out station's note"), blank=True)
    emigrated_at = models.DateTimeField(_("emigration confirmed"), null=True, blank=True)
    problem_report = models.TextField(_("problem reported by the move-out station"), blank=True)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)
    # Several offices decide in turn: the last of them (the timeline has each one and when).
    decided_at = None
    decided_by = optional_reference(settings.AUTH_USER_MODEL, _("last decision by"))

    # Paper fallback: the technical reason, and the paper documents the case then finishes with.
    paper_reason = models.TextField(_("reason for switching to the paper procedure"), blank=True)
    paper_switched_at = models.DateTimeField(_("switched to the paper procedure"), null=True, blank=True)
    paper_switched_from = models.CharField(
        _("switched to paper at step"), max_length=32, choices=Status.choices, blank=True
    )
    paper_permit_number = models.CharField(_("paper Permit to Move In number"), max_length=40, blank=True)
    paper_migration_certificate_number = models.CharField(
        _("paper Hukou Migration Certificate number"), max_length=40, blank=True
    )

    # The office that must act now (acting_office()), computed by the database from the status and kept by it on
    # every write: an office's inbox is one indexed predicate, `acting_office_id IN (…)`, instead of an OR over three
    # office columns, and its queue in due-date order is read from an index in that order (acting_q; the indexes
    # hk_app_acting_*). The id of an Office; NULL while the applicant must act and once the case is closed.
    acting_office_id = models.GeneratedField(
        expression=Case(
            When(status__in=[str(s) for s in _MOVE_IN_STATUSES], then=F("office")),
            When(status__in=[str(s) for s in _MUNICIPAL_STATUSES], then=F("municipal_office")),
            When(status__in=[str(s) for s in _MOVE_OUT_STATUSES], then=F("origin_office")),
            default=None,
        ),
        output_field=models.BigIntegerField(null=True),
        db_persist=True,
        verbose_name=_("office acting now"),
    )

    objects = MigrationApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("hukou migration application")
        verbose_name_plural = _("hukou migration applications")
        ordering = ["-created_at"]
        indexes = [
            deadline_sweep_index("hk_app", OPEN_STATUSES),
            # The three branches of an office's inbox (MigrationApplicationQuerySet.acting_for / reached).
            models.Index(fields=["office", "status", "-created_at"], name="hk_app_office_queue"),
            models.Index(fields=["municipal_office", "status", "-created_at"], name="hk_app_municipal_queue"),
            models.Index(fields=["origin_office", "status", "-created_at"], name="hk_app_origin_queue"),
            # An office's inbox (acting_q): its cases by due date (the default queue, and the desk's due soon and
            # overdue, bounded by due date: no index holds due_state, so the sweep's flags are HOT updates), a
            # supervisor's in due-date order; and by status, carrying the
            # columns of the staff scope (reached_q), so that the queue's COUNT and the desk's new cases are read from
            # the index alone instead of checking the scope on every case of a city in the table.
            models.Index(
                fields=["acting_office_id", "due_date", "id"],
                name="hk_app_acting_due",
                condition=Q(acting_office_id__isnull=False),
            ),
            models.Index(
                fields=["acting_office_id", "status"],
                name="hk_app_acting_status",
                condition=Q(acting_office_id__isnull=False),
                include=[
                    "office",
                    "submitted_at",
                    "municipal_office",
                    "forwarded_at",
                    "origin_office",
                    "permit_issued_at",
                ],
            ),
            open_by_due_index(
                "hk_app_acting", office_field="acting_office_id", condition=Q(acting_office_id__isnull=False)
            ),
        ]

    @classmethod
    def acting_q(cls, office_ids):
        """The office's inbox (MigrationApplicationQuerySet.acting_for); with no offices, every office's."""
        if office_ids is None:
            return Q(status__in=[*_MOVE_IN_STATUSES, *_MUNICIPAL_STATUSES, *_MOVE_OUT_STATUSES])
        # The same as (office in ids and a move-in status) or (municipal_office … ) or (origin_office …): the column
        # names the office of each status's actor.
        return Q(acting_office_id__in=_office_ids(office_ids))

    @property
    def acting_actor(self) -> str | None:
        """Who must act now (constants.Actor), or None once the case is closed."""
        return ACTOR_BY_STATUS.get(self.status)

    def acting_office(self):
        """The office that must act in the current status; None when the applicant must act or the case is closed.

        portal.cases.deadlines.deadline_office calls this, so the deadline sweep notifies the right office.
        """
        actor = self.acting_actor
        if actor == Actor.MOVE_IN_STATION:
            return self.office
        if actor == Actor.MUNICIPAL_ADMIN:
            return self.municipal_office
        if actor == Actor.MOVE_OUT_STATION:
            return self.origin_office
        return None

    @classmethod
    def acting_office_expression(cls):
        """acting_office() in SQL, with deadline_office's fallback to the move-in station (the deadline sweep): the
        stored acting_office_id, or the move-in station while it is NULL."""
        return Coalesce(F("acting_office_id"), F("office"), output_field=models.BigIntegerField())

    def document_office_ids(self) -> set:
        """The offices whose staff may open this case's documents: each one from the step at which the case reached it.

        portal.documents.services.document_may_view asks this instead of the document's own office, so the
        municipal administration and the move-out station (possibly in another city) can check the uploads once
        the case is theirs, and no office can before (the same moments as MigrationApplicationQuerySet.reached).
        """
        ids = set()
        if self.submitted_at:
            ids.add(self.office_id)
        if self.forwarded_at and self.municipal_office_id:
            ids.add(self.municipal_office_id)
        if self.permit_issued_at and self.origin_office_id:
            ids.add(self.origin_office_id)
        return ids

    @property
    def on_paper(self):
        return bool(self.paper_switched_at)

    @property
    def new_head(self):
        """The member staying behind who becomes head of the origin household, if one is named."""
        return self.staying_members.filter(is_new_head=True).first()

    @property
    def post_settlement_check_pending(self):
        return self.status == Status.SETTLED and self.movers.filter(post_settlement_check__isnull=True).exists()

    @property
    def masked_origin_head_id_number(self):
        return idnumber.mask(self.origin_head_id_number)

    @property
    def masked_receiving_householder_id_number(self):
        return idnumber.mask(self.receiving_householder_id_number)


class _Person(models.Model):
    """Name and resident ID number; sex and date of birth are derived from the number, never typed."""

    name = models.CharField(_("name"), max_length=60)
    sex = models.CharField(_("sex"), max_length=1, choices=User.Sex.choices, blank=True, editable=False)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    relation = models.CharField(_("relation to the head of household"), max_length=16, choices=Relation.choices)

    class Meta:
        abstract = True

    def __str__(self):
        return idnumber.mask_name(self.name)

    def save(self, *args, **kwargs):
        if self.id_number:
            info = idnumber.parse(self.id_number)
            self.id_number, self.sex, self.birth_date = info.number, info.sex, info.birth_date
        super().save(*args, **kwargs)

    @property
    def masked_id_number(self):
        return idnumber.mask(self.id_number)

    @property
    def masked_name(self):
        return idnumber.mask_name(self.name)

    @property
    def is_head(self):
        return self.relation == Relation.HEAD

    def age_on(self, day):
        return idnumber.age_on(self.birth_date, day) if self.birth_date else None


class Mover(_Person):
    """One person moving, as written in the origin Household Register Booklet."""

    # The citizen's answers for each person moving (the row of hukou.forms.MoverForm); the rest is the offices'.
    ANSWERS = ("name", "id_number", "relation", "is_applicant", "present", "guardian_present", "guardian_name")

    application = models.ForeignKey(
        MigrationApplication, verbose_name=_("application"), on_delete=models.CASCADE, related_name="movers"
    )
    id_number = _id_number_field(_("resident ID number"))
    is_applicant = models.BooleanField(
        _("applies for the move"), default=False, help_text=_("This person is one of the applicants, not only moved.")
    )
    present = models.BooleanField(_("applies in person"), default=True)
    power_of_attorney = optional_link(
        "documents.Document", _("power of attorney"), help_text=_("Needed when this person does not come in person.")
    )
    guardian_present = models.BooleanField(
        _("a guardian from the origin household applies with them"),
        default=False,
        help_text=_("Needed for a person under 16."),
    )
    guardian_name = models.CharField(_("guardian's name"), max_length=60, blank=True)
    position = models.PositiveSmallIntegerField(_("order in the booklet"), default=0)

    class Meta:
        verbose_name = _("person moving")
        verbose_name_plural = _("people moving")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["application", "id_number"], name="hk_mover_once_per_application"),
        ]


class OriginMember(_Person):
    """A member of the origin household who stays; the rules check who is left behind."""

    # The citizen's answers for each person staying (the row of hukou.forms.StayingForm).
    ANSWERS = ("name", "id_number", "birth_date", "relation", "is_new_head")

    application = models.ForeignKey(
        MigrationApplication, verbose_name=_("application"), on_delete=models.CASCADE, related_name="staying_members"
    )
    # A child's number is in the booklet, but the applicant may know only the date of birth.
    id_number = _id_number_field(_("resident ID number"), blank=True)
    is_new_head = models.BooleanField(
        _("new head of household"),
        default=False,
        help_text=_("Designated when the head of household moves out and others stay."),
    )
    position = models.PositiveSmallIntegerField(_("order in the booklet"), default=0)

    class Meta:
        verbose_name = _("member staying in the origin household")
        verbose_name_plural = _("members staying in the origin household")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"], condition=Q(is_new_head=True), name="hk_one_new_head_per_application"
            ),
            models.CheckConstraint(
                condition=~Q(id_number="") | Q(birth_date__isnull=False), name="hk_staying_member_has_birth_date"
            ),
        ]


class PostSettlementCheck(models.Model):
    """After settlement, the move-in station's check of one settled person's details, and what it changed."""

    mover = models.OneToOneField(
        Mover, verbose_name=_("person settled"), on_delete=models.CASCADE, related_name="post_settlement_check"
    )
    marital_status = models.CharField(_("marital status"), max_length=16, choices=MaritalStatus.choices)
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    education = models.CharField(_("education"), max_length=16, choices=Education.choices)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    changes_made = models.TextField(_("changes made"), blank=True, help_text=_("What differed and was corrected."))
    evidence = models.TextField(
        _("evidence"), blank=True, help_text=_("The documents the changes rest on (e.g. marriage certificate).")
    )
    checked_by = user_reference(_("checked by"))
    checked_at = models.DateTimeField(_("checked"), auto_now_add=True)

    class Meta:
        verbose_name = _("post-settlement check")
        verbose_name_plural = _("post-settlement checks")
        ordering = ["-checked_at"]
        constraints = [
            # A correction without the evidence it rests on is not allowed (the post-settlement check,
            # docs/services.md#one-stop-hukou-migration).
            models.CheckConstraint(
                condition=Q(changes_made="") | ~Q(evidence=""), name="hk_check_changes_need_evidence"
            ),
        ]

    def __str__(self):
        return f"{self.mover} ({self.checked_at:%Y-%m-%d})" if self.checked_at else str(self.mover)
