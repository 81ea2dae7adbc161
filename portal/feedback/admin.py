"""The offices' view of ratings (read-only) and their queue of complaints, suggestions, questions and follow-ups.

Both are scoped to the staff member's offices (a supervisor's: the office and every office of the same agency below
it), whatever the service rated: an office belongs to one agency, so no agency sees another's ratings or follow-ups
(accounts.scoping; portal.registry.register_shared). The only decision, the written answer, goes through
portal.feedback.services.answer.
"""

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from accounts.scoping import OfficeScopedAdminMixin, ReadOnlyAdminMixin
from portal.cases.admin import CaseReviewAdminMixin, DueStateFilter, countdown

from . import cases, services
from .models import Feedback, FeedbackStatus, Rating


class FeedbackDueFilter(DueStateFilter):
    """Due soon and overdue; feedback has no clock paused for the citizen."""

    def lookups(self, request, model_admin):
        return [(value, label) for value, label in super().lookups(request, model_admin) if value != "paused"]


@admin.register(Rating)
class RatingAdmin(OfficeScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    office_fields = ("office",)
    scope_by_service = False  # every service's ratings: the office decides who sees them
    list_display = ("created_at", "office", "level", "reasons_display", "application_number", "follow_up_number")
    list_filter = ("level", "service")
    date_hierarchy = "created_at"
    search_fields = ("=case_number",)
    list_select_related = ("office", "follow_up")
    list_per_page = 50
    show_full_result_count = False
    fields = (
        "created_at",
        "office",
        "citizen_display",
        "application_number",
        "level",
        "reasons_display",
        "comment",
        "follow_up_number",
    )
    readonly_fields = fields

    @admin.display(description=_("reasons"))
    def reasons_display(self, obj):
        return "; ".join(services.reason_labels(obj.reasons)) or "—"

    @admin.display(description=_("application"), ordering="case_number")
    def application_number(self, obj):
        return obj.case_number or "—"

    @admin.display(description=_("follow-up"))
    def follow_up_number(self, obj):
        follow_up = getattr(obj, "follow_up", None)
        return f"{follow_up.case_number} ({follow_up.get_status_display()})" if follow_up else "—"

    @admin.display(description=_("citizen"))
    def citizen_display(self, obj):
        return obj.citizen.masked_name


@admin.register(Feedback)
class FeedbackAdmin(CaseReviewAdminMixin, OfficeScopedAdminMixin, admin.ModelAdmin):
    scope_by_service = False  # every service's feedback and follow-ups: the office decides who sees them
    review_action_labels = {"answer": _("Send the answer")}
    review_action_done = {"answer": _("Case %(number)s answered; the citizen has been told.")}
    office_fields = ("office",)
    list_display = (
        "case_number",
        "kind",
        "subject",
        "office",
        "status",
        "submitted_at",
        "due_date",
        "countdown_display",
    )
    list_filter = ("kind", "status", FeedbackDueFilter)
    search_fields = ("=case_number",)
    list_select_related = ("office",)
    list_per_page = 50
    show_full_result_count = False
    ordering = ("-created_at",)
    change_form_template = "feedback/admin_review.html"
    fieldsets = (
        (
            _("Case"),
            {
                "fields": (
                    "case_number",
                    "kind",
                    "status",
                    "office",
                    "submitted_at",
                    "due_date",
                    "due_state",
                    "answered_by",
                    "answered_at",
                    "answered_on_time",
                )
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        return [field for _name, options in self.fieldsets for field in options["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("time left"))
    def countdown_display(self, obj):
        return countdown(obj)

    def review_context(self, request, item):
        refusal = ""
        actions = []
        if item.status == FeedbackStatus.OPEN and self.has_change_permission(request, item):
            refusal = services.answer_refusal(request.user, item)
            if not refusal:
                actions.append(
                    {
                        "name": "answer",
                        "url": self.review_action_url(item, "answer"),
                        "label": self.review_action_labels["answer"],
                        "fields": [
                            {
                                "name": "text",
                                "label": _("Your answer (sent to the citizen, who reads it on the portal)"),
                                "kind": "textarea",
                                "required": True,
                                "rows": 8,
                            }
                        ],
                        "no_internal_note": True,
                    }
                )
        application_url = ""
        about = cases.find(item.about_service, item.about_case_number) if item.about_case_number else None
        if about is not None:
            try:
                application_url = reverse(
                    f"admin:{about.case._meta.app_label}_{about.case._meta.model_name}_change", args=[about.case.pk]
                )
            except NoReverseMatch:
                application_url = ""
        return {
            "item": item,
            "about": about,
            "citizen": item.applicant,
            "rating_reasons": services.reason_labels(item.rating.reasons) if item.rating_id else [],
            "application_url": application_url,
            "countdown": countdown(item),
            "timeline": self.timeline_context(item),
            "answer_refusal": refusal,
            "review_actions": actions,
        }

    def run_review_action(self, request, item, action):
        services.answer(feedback=item, by=request.user, text=request.POST.get("text", ""))
