"""Applications to the family-planning services: one model for every service, the answers kept as validated JSON."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.cases.models import Case, ReviewedCase

from . import catalogue
from .fields import validate_answers


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted, awaiting acceptance")
    ACCEPTED = "accepted", _("Accepted, under review")
    INFO_REQUESTED = "info_requested", _("More information requested")
    APPROVED = "approved", _("Approved, document being issued")
    ISSUED = "issued", _("Document issued")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Status.APPROVED's label promises a document; these replace it for the services that issue none.
APPROVED_CANCELLATION = _("Cancellation approved")
APPROVED_NO_DOCUMENT = _("Approved")


# The states in which a clock may run; the deadline sweep's partial index lists exactly these.
OPEN_STATUSES = (Status.SUBMITTED, Status.ACCEPTED)


class FamilyPlanningApplication(ReviewedCase):
    """An application to one service of the catalogue; `answers` holds its form, checked by the service's FormDef."""

    CASE_PREFIX = "FP"
    # The clock runs while the office has the case; a request for more information pauses it
    # (docs/architecture.md#cases-transitions-and-deadlines).
    OPEN_STATUSES = OPEN_STATUSES
    DRAFT_STATUSES = (Status.DRAFT,)
    CLOSED_STATUSES = (Status.APPROVED, Status.ISSUED, Status.REFUSED, Status.WITHDRAWN)

    status = models.CharField(_("status"), max_length=32, choices=Status.choices, default=Status.DRAFT, db_index=True)
    service = models.CharField(_("service"), max_length=64, choices=catalogue.service_choices)
    # The version of the form the answers were given on; a later version may ask for more.
    form_version = models.CharField(_("form version"), max_length=32, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    # Review: the declaration, acceptance, information requests and the decision (portal.cases.models.ReviewedCase).

    class Meta:
        verbose_name = _("family-planning application")
        verbose_name_plural = _("family-planning applications")
        ordering = ["-created_at"]
        indexes = [
            # The deadline sweep: running clocks due at or before the horizon
            # (docs/architecture.md#cases-transitions-and-deadlines).
            models.Index(
                fields=["due_date"],
                name="fp_app_open_due",
                condition=Q(status__in=[s.value for s in OPEN_STATUSES], paused_at__isnull=True),
            ),
            models.Index(fields=["office", "service", "status", "-created_at"], name="fp_app_office_queue"),
        ]

    @property
    def service_def(self) -> catalogue.ServiceDef:
        return catalogue.get_service(self.service)

    @property
    def title(self):
        return self.service_def.title

    @property
    def issues_document(self) -> bool:
        """Approval makes a new document: a first issue or a validation; a cancellation only revokes."""
        service = self.service_def
        return bool(service.issues) or service.effect == catalogue.Effect.EXTENDS

    def status_label(self, status=None):
        """The status in words for this service: "approved" means a document on its way only where one is made."""
        status = status or self.status
        if status == Status.APPROVED and self.service in catalogue.SERVICES and not self.issues_document:
            if self.service_def.effect == catalogue.Effect.REVOKES:
                return APPROVED_CANCELLATION
            return APPROVED_NO_DOCUMENT
        return super().status_label(status)

    def get_status_display(self):
        return self.status_label()

    def clean(self):
        """The answers must pass the service's form, whatever wrote them (a form, an import, the admin)."""
        super().clean()
        try:
            service = catalogue.get_service(self.service)
        except KeyError:
            raise ValidationError({"service": _("Unknown service.")}) from None
        try:
            self.answers = validate_answers(service.form, self.answers, partial=self.is_draft)
        except ValidationError as exc:
            raise ValidationError(
                {"answers": [f"{name}: {'; '.join(messages)}" for name, messages in exc.message_dict.items()]}
            ) from None
        self.form_version = service.form.version


# --- Feedback: service ratings (好差评), complaints, suggestions, consultations, follow-ups -----------------------


class RatingLevel(models.IntegerChoices):
    """The five levels of the national 好差评 system."""

    VERY_GOOD = 5, _("Very satisfied")
    GOOD = 4, _("Satisfied")
    AVERAGE = 3, _("Fairly satisfied")
    POOR = 2, _("Dissatisfied")
    VERY_POOR = 1, _("Very dissatisfied")


POOR_LEVELS = (RatingLevel.POOR, RatingLevel.VERY_POOR)


class Rating(models.Model):
    """A citizen's rating of an office, or of one of its ended cases (then at most one per case)."""

    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("citizen"), on_delete=models.PROTECT, related_name="fp_ratings"
    )
    office = models.ForeignKey(
        "accounts.Office", verbose_name=_("office"), on_delete=models.PROTECT, related_name="fp_ratings"
    )
    application = models.OneToOneField(
        FamilyPlanningApplication,
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rating",
    )
    level = models.PositiveSmallIntegerField(_("rating"), choices=RatingLevel.choices)
    # Reason codes (familyplanning.feedback.REASONS), several allowed.
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("rated"), auto_now_add=True)

    class Meta:
        verbose_name = _("service rating")
        verbose_name_plural = _("service ratings")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["office", "created_at"], name="fp_rating_office_month")]

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

    status = models.CharField(
        _("status"), max_length=32, choices=FeedbackStatus.choices, default=FeedbackStatus.OPEN, db_index=True
    )
    kind = models.CharField(_("kind"), max_length=16, choices=FeedbackKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), max_length=5000, blank=True)
    # A complaint may be about one member of staff: named as the citizen knows them (badge number or name).
    staff_named = models.CharField(_("member of staff concerned"), max_length=120, blank=True)
    application = models.ForeignKey(
        FamilyPlanningApplication,
        verbose_name=_("application concerned"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feedback",
    )
    rating = models.OneToOneField(
        Rating, verbose_name=_("rating"), null=True, blank=True, on_delete=models.PROTECT, related_name="follow_up"
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_on_time = models.BooleanField(_("answered on time"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint, suggestion or consultation")
        verbose_name_plural = _("complaints, suggestions and consultations")
        ordering = ["-created_at"]
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


# --- Policy information and openness of government affairs (政务公开) ------------------------------------------


class ArticleKind(models.TextChoices):
    POLICY = "policy", _("Policy")
    NOTICE = "notice", _("Notice")
    FAQ = "faq", _("Common question")


class PolicyArticle(models.Model):
    """A policy, notice or answer to a common question, published by staff in both languages (plain text)."""

    kind = models.CharField(_("kind"), max_length=16, choices=ArticleKind.choices, db_index=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    body_zh = models.TextField(_("text (Chinese)"))
    body_en = models.TextField(_("text (English)"))
    document_number = models.CharField(
        _("document number"), max_length=80, blank=True, help_text=_("e.g. 豫卫人口〔2026〕5号")
    )
    issued_by = models.CharField(_("issued by"), max_length=120, blank=True)
    office = models.ForeignKey(
        "accounts.Office",
        verbose_name=_("publishing office"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fp_articles",
    )
    published = models.BooleanField(_("published"), default=False)
    published_on = models.DateField(_("publication date"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("policy or notice")
        verbose_name_plural = _("policies, notices and common questions")
        ordering = ["-published_on", "-pk"]
        indexes = [
            models.Index(fields=["kind", "-published_on"], name="fp_article_published", condition=Q(published=True))
        ]

    def __str__(self):
        return self.title

    @property
    def title(self):
        from django.utils.translation import get_language

        return self.title_en if (get_language() or "").startswith("en") and self.title_en else self.title_zh

    @property
    def body(self):
        from django.utils.translation import get_language

        return self.body_en if (get_language() or "").startswith("en") and self.body_en else self.body_zh
