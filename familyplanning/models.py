"""Applications to the family-planning services: one model for every service, the answers kept as validated JSON."""

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.cases.models import (
    ReviewedCase,
    deadline_sweep_index,
    open_by_due_index,
    open_queue_index,
)

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
            deadline_sweep_index("fp_app", OPEN_STATUSES),
            models.Index(fields=["office", "service", "status", "-created_at"], name="fp_app_office_queue"),
            open_queue_index("fp_app", OPEN_STATUSES),
            # The desk's due-soon and overdue counts; a supervisor's queue in due-date order (portal.cases.desk, queues).
            open_by_due_index("fp_app", OPEN_STATUSES),
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


# The people an application names by resident ID number who may hold its document: the applicant or holder, both
# spouses or parents of a couple, a spouse. Children are not linked (they have no account of their own).
LINKED_ROLES = ("applicant", "holder", "wife", "husband", "mother", "father", "spouse")


class NamedPerson(models.Model):
    """A person an application names by resident ID number (familyplanning.services.link_named_people): a citizen
    whose verified account has that number finds the documents issued for it in their own wallet on /me/, whoever
    applied (the wife named on the Birth Service Certificate her husband applied for)."""

    application = models.ForeignKey(
        FamilyPlanningApplication, on_delete=models.CASCADE, related_name="named_people", verbose_name=_("application")
    )
    role = models.CharField(_("role"), max_length=32)  # the answer naming them: wife, husband, applicant, ...
    id_number = models.CharField(_("resident ID number"), max_length=18, db_index=True)

    class Meta:
        verbose_name = _("person named in an application")
        verbose_name_plural = _("people named in applications")
        constraints = [models.UniqueConstraint(fields=["application", "role"], name="fp_named_person_role_unique")]

    def __str__(self):
        return f"{self.application.case_number} · {self.role}"


# The policy sub-package declares its own models; importing them here keeps them in this app. (Ratings and feedback
# are the portal's: portal.feedback.)
from .policy.models import ArticleKind, PolicyArticle  # noqa: E402, F401
