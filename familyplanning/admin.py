"""The family-planning office's queue and review page: scoped to the officer's offices, decisions through services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from portal.cases.admin import DueStateFilter, countdown
from portal.cases.queues import AssignmentFilter, InboxFilter, ReviewedCaseAdmin

from . import services
from .fields import Kind
from .models import FamilyPlanningApplication
from .workflow import WORKFLOW, concerns


def answer_rows(application) -> list[dict]:
    """The answers under their form labels, by section, for reading (never edited here)."""
    form = application.service_def.form
    sections = []
    for section in form.sections:
        rows = []
        for definition in section.fields:
            value = application.answers.get(definition.name)
            if definition.kind == Kind.PERSON:
                given = isinstance(value, dict) and any(value.values())  # an optional person left blank: "—"
                shown = f"{value.get('name', '')} · {value.get('id_number', '')}" if given else ""
            elif definition.kind == Kind.CHOICE and value not in (None, ""):
                labels = dict(definition.choices)
                shown = ", ".join(str(labels.get(v, v)) for v in (value if isinstance(value, list) else [value]))
            elif definition.kind == Kind.YES_NO and value is not None:
                shown = _("Yes") if value else _("No")
            else:
                shown = "" if value in (None, "") else str(value)
            rows.append({"label": definition.label, "value": shown})
        sections.append({"title": section.title, "rows": rows})
    return sections


@admin.register(FamilyPlanningApplication)
class FamilyPlanningApplicationAdmin(ReviewedCaseAdmin):
    workflow = WORKFLOW
    list_display = (
        "case_number",
        "service",
        "status_display",
        "submitted_at",
        "due_date",
        "countdown_display",
        "assigned_to",
    )
    list_filter = (InboxFilter, AssignmentFilter, "service", "status", DueStateFilter)
    search_fields = ("=case_number",)
    list_select_related = ("office", "assigned_to")
    change_form_template = "familyplanning/admin/application_review.html"
    fieldsets = (
        (
            _("Case"),
            {
                "fields": (
                    "case_number",
                    "service",
                    "status_display",
                    "office",
                    "form_version",
                    "submitted_at",
                    "accepted_at",
                    "due_date",
                    "decided_by",
                    "decided_at",
                )
            },
        ),
        (_("Review"), {"fields": ("info_request", "citizen_reply", "refusal_reason")}),
    )

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj):
        # The service's own wording: "approved" promises a document only where one is made.
        return obj.get_status_display()

    def review_context(self, request, application):
        own = concerns(request.user, application)
        may_act = self.has_change_permission(request, application) and not own
        actions = services.available_actions(application=application) if may_act else []
        return {
            "application": application,
            "answer_sections": answer_rows(application),
            "document": services.current_document(application=application),
            "affected": services.affected_document(application=application),
            "countdown": countdown(application),
            "own_application": own,
            "timeline": self.timeline_context(application),
            "review_actions": self.review_actions(application, actions),
        }


# Policies, notices and common questions have their own module; importing it registers their admin. (Ratings and
# the feedback queue are the portal's: portal.feedback.admin.)
from .policy import admin as _policy_admin  # noqa: E402, F401
