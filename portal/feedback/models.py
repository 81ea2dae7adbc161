"""Feedback of every service: ratings (好差评), complaints, suggestions, consultations and the follow-ups of poor ratings.

The portal-wide app `portal.feedback` (app label `feedback`; no service has that key). Its tables keep the names they
had when feedback was part of family planning (`familyplanning_rating`, `familyplanning_feedback`), so the move lost
no row (migration 0001_move_from_familyplanning).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.cases.models import Case
from portal.fields import optional_reference


class RatingLevel(models.IntegerChoices):
    """The five levels of the national 好差评 system."""

    VERY_GOOD = 5, _("Very satisfied")
    GOOD = 4, _("Satisfied")
    AVERAGE = 3, _("Fairly satisfied")
    POOR = 2, _("Dissatisfied")
    VERY_POOR = 1, _("Very dissatisfied")


POOR_LEVELS = (RatingLevel.POOR, RatingLevel.VERY_POOR)


class Rating(models.Model):
    """A citizen's rating of an office, or of one of its decided cases of any service (then at most one per case).

    The case is named generically, by its service's key (portal.registry; "feedback" for the answer to a complaint)
    and its case number: the portal imports no service. The office is the case's, for scoping.
    """

    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("citizen"), on_delete=models.PROTECT, related_name="ratings"
    )
    office = models.ForeignKey(
        "accounts.Office", verbose_name=_("office"), on_delete=models.PROTECT, related_name="ratings"
    )
    service = models.CharField(_("service"), max_length=32, blank=True)
    case_number = models.CharField(_("case number"), max_length=32, blank=True)
    level = models.PositiveSmallIntegerField(_("rating"), choices=RatingLevel.choices)
    # Reason codes (portal.feedback.services.REASONS), several allowed.
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("rated"), auto_now_add=True)

    class Meta:
        verbose_name = _("service rating")
        verbose_name_plural = _("service ratings")
        ordering = ["-created_at"]
        db_table = "familyplanning_rating"
        indexes = [models.Index(fields=["office", "created_at"], name="fp_rating_office_month")]
        constraints = [
            # 一事一评: one rating per case.
            models.UniqueConstraint(
                fields=["service", "case_number"], condition=~Q(case_number=""), name="rating_one_per_case"
            )
        ]

    def __str__(self):
        return f"{self.office} {self.get_level_display()}"

    @property
    def is_poor(self):
        return self.level in POOR_LEVELS


class FeedbackKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")
    CONSULTATION = "consultation", _("Consultation")
    FOLLOW_UP = "follow_up", _("Follow-up of a poor rating")


class FeedbackStatus(models.TextChoices):
    OPEN = "open", _("Awaiting an answer")
    ANSWERED = "answered", _("Answered")


class Feedback(Case):
    """A complaint, suggestion or consultation from a citizen, or the follow-up a poor rating opens.

    A case like any other: a number, the office that must answer, a working-day clock swept for due-soon and
    overdue (the overdue ones reach the supervisor), a timeline. Closed by a written answer the citizen sees.
    """

    CASE_PREFIX = "FB"
    OPEN_STATUSES = (FeedbackStatus.OPEN,)
    DRAFT_STATUSES = ()
    CLOSED_STATUSES = (FeedbackStatus.ANSWERED,)

    # No account for a consultation asked without one: its asker is the name and e-mail below.
    applicant = models.ForeignKey(  # type: ignore[assignment]  # nullable here only: Case's is not
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="%(app_label)s_%(class)s_cases",
        null=True,
        blank=True,
    )
    contact_name = models.CharField(_("name"), max_length=80, blank=True)
    contact_email = models.EmailField(_("e-mail address"), blank=True)
    # SHA-256 of the code in the link the answer e-mail carries (the code itself is never stored).
    access_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    status = models.CharField(
        _("status"), max_length=32, choices=FeedbackStatus.choices, default=FeedbackStatus.OPEN, db_index=True
    )
    kind = models.CharField(_("kind"), max_length=16, choices=FeedbackKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), max_length=5000, blank=True)
    # A complaint may be about one member of staff: named as the citizen knows them (badge number or name).
    staff_named = models.CharField(_("member of staff concerned"), max_length=120, blank=True)
    # The citizen's case this is about, if any: its service's key and its number (as Rating names its case).
    about_service = models.CharField(_("service concerned"), max_length=32, blank=True)
    about_case_number = models.CharField(_("case concerned"), max_length=32, blank=True)
    rating = models.OneToOneField(
        Rating, verbose_name=_("rating"), null=True, blank=True, on_delete=models.PROTECT, related_name="follow_up"
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_by = optional_reference(settings.AUTH_USER_MODEL, _("answered by"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_on_time = models.BooleanField(_("answered on time"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint, suggestion or consultation")
        verbose_name_plural = _("complaints, suggestions and consultations")
        ordering = ["-created_at"]
        db_table = "familyplanning_feedback"
        indexes = [
            models.Index(
                fields=["due_date"],
                name="fp_feedback_open_due",
                condition=Q(status="open", paused_at__isnull=True),
            ),
            models.Index(fields=["office", "status", "-created_at"], name="fp_feedback_office_queue"),
            models.Index(fields=["office", "kind", "answered_at"], name="fp_feedback_office_month"),
        ]

    @property
    def title(self):
        return self.get_kind_display()
