"""The family-planning office's queue and review page: scoped to the officer's offices, decisions through services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.scoping import OfficeScopedAdminMixin
from portal.cases.admin import MESSAGE_LABEL, CaseReviewAdminMixin, DueStateFilter, countdown, internal_note

from . import services
from .fields import Kind
from .models import FamilyPlanningApplication, Status

ACTION_LABELS = {
    "accept": _("Accept"),
    "request_info": _("Request more information"),
    "approve": _("Approve"),
    "refuse": _("Refuse"),
}
# The text each action takes for the applicant; every action also takes an internal note only staff see.
ACTION_TEXT = {
    "accept": MESSAGE_LABEL,
    "request_info": _("What must the applicant add or correct? (the applicant will see this)"),
    "refuse": _("Reason for the refusal (the applicant will see this)"),
    "approve": MESSAGE_LABEL,
}
ACTION_DONE = {
    "accept": _("Application %(number)s accepted; the time limit runs from today."),
    "request_info": _("More information requested for %(number)s; the time limit is paused."),
    "approve": _("Application %(number)s approved."),
    "refuse": _("Application %(number)s refused."),
}
RUN = {
    "accept": lambda application, by, text, internal: services.fp_accept(
        application=application, by=by, note=text, internal_note=internal
    ),
    "request_info": lambda application, by, text, internal: services.fp_request_info(
        application=application, by=by, message=text, internal_note=internal
    ),
    "approve": lambda application, by, text, internal: services.fp_approve(
        application=application, by=by, note=text, internal_note=internal
    ),
    "refuse": lambda application, by, text, internal: services.fp_refuse(
        application=application, by=by, reason=text, internal_note=internal
    ),
}


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
class FamilyPlanningApplicationAdmin(CaseReviewAdminMixin, OfficeScopedAdminMixin, admin.ModelAdmin):
    review_action_labels = RUN
    review_action_done = ACTION_DONE
    office_fields = ("office",)
    list_display = ("case_number", "service", "status_display", "submitted_at", "due_date", "countdown_display")
    list_filter = ("service", "status", DueStateFilter)
    search_fields = ("=case_number",)
    list_select_related = ("office",)
    list_per_page = 50
    show_full_result_count = False
    # Newest first by primary key (issued in creation order): a backward scan of the primary key finds the first
    # page of a large office's queue at once, where "-created_at" sorted every row of the office (bench/pages.py).
    ordering = ("-pk",)
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

    def get_readonly_fields(self, request, obj=None):
        return [field for _name, options in self.fieldsets for field in options["fields"]]

    def get_queryset(self, request):
        # Drafts are the citizen's own business until submitted.
        return super().get_queryset(request).exclude(status=Status.DRAFT)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj):
        # The service's own wording: "approved" promises a document only where one is made.
        return obj.get_status_display()

    @admin.display(description=_("time left"))
    def countdown_display(self, obj):
        return countdown(obj)

    def review_context(self, request, application):
        own = services.is_own_case(request.user, application)
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
            "review_actions": [
                {
                    "name": name,
                    "label": ACTION_LABELS[name],
                    "text_label": ACTION_TEXT.get(name),
                    "text_required": name in ("request_info", "refuse"),
                    "url": self.review_action_url(application, name),
                    "danger": name == "refuse",
                }
                for name in actions
            ],
        }

    def run_review_action(self, request, application, action):
        RUN[action](application, request.user, request.POST.get("text", ""), internal_note(request))


# Policies, notices and common questions, and ratings and the feedback queue, have their own modules; importing
# them registers their admin.
from . import feedback_admin, policy_admin  # noqa: E402, F401
