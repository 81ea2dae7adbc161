"""Applications to the family-planning services: one model for every service, the answers kept as validated JSON."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.cases.models import Case

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


class FamilyPlanningApplication(Case):
    """An application to one service of the catalogue; `answers` holds its form, checked by the service's FormDef."""

    CASE_PREFIX = "FP"
    # The clock runs while the office has the case; a request for more information pauses it (DESIGN.md section 6).
    OPEN_STATUSES = (Status.SUBMITTED, Status.ACCEPTED)
    DRAFT_STATUSES = (Status.DRAFT,)

    status = models.CharField(_("status"), max_length=32, choices=Status.choices, default=Status.DRAFT, db_index=True)
    service = models.CharField(_("service"), max_length=64, choices=catalogue.service_choices)
    # The version of the form the answers were given on; a later version may ask for more.
    form_version = models.CharField(_("form version"), max_length=32, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    declaration_at = models.DateTimeField(_("declaration of truthfulness"), null=True, blank=True)

    # Review
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    info_request = models.TextField(_("information requested"), blank=True)
    citizen_reply = models.TextField(_("applicant's reply"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)

    class Meta:
        verbose_name = _("family-planning application")
        verbose_name_plural = _("family-planning applications")
        ordering = ["-created_at"]
        indexes = [
            # The deadline sweep: running clocks due at or before the horizon (DESIGN.md section 6).
            models.Index(
                fields=["due_date"],
                name="fp_app_open_due",
                condition=Q(status__in=["submitted", "accepted"], paused_at__isnull=True),
            ),
            models.Index(fields=["office", "service", "status", "-created_at"], name="fp_app_office_queue"),
        ]

    @property
    def service_def(self) -> catalogue.ServiceDef:
        return catalogue.get_service(self.service)

    @property
    def title(self):
        return self.service_def.title

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
