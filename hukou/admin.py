"""Each office's inbox of migration cases and the review page with the steps the office may take now."""

import datetime

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import ALL, OfficeScopedAdminMixin, scoped_office_ids
from portal.cases.admin import MESSAGE_LABEL, CaseReviewAdminMixin, DueStateFilter, countdown

from . import services
from .constants import ACTOR_BY_STATUS, Actor, DocumentKind, Education, MaritalStatus, Status
from .models import MigrationApplication, Mover, reached_q

ACTION_LABELS = {
    "accept": _("Accept"),
    "request_info": _("Request more information (pauses the clock)"),
    "forward": _("Forward to the municipal household administration"),
    "approve": _("Approve and issue the Permit to Move In"),
    "register_emigration": _("Register the emigration and confirm (Migration Certificate)"),
    "report_problem": _("Report a problem with the origin record (sends the case back)"),
    "resend": _("Problem resolved: send to the move-out police station again"),
    "settle": _("Complete the settlement"),
    "refuse": _("Refuse"),
    "switch_to_paper": _("Switch to the paper procedure (technical reason)"),
    "check": _("Record the post-settlement check"),
}
ACTION_DONE = {
    "accept": _("Case %(number)s accepted; the 20 working days run from today."),
    "request_info": _("More information requested for %(number)s; the clock is paused."),
    "forward": _("Case %(number)s forwarded to the municipal household administration."),
    "approve": _("Permit to Move In issued for %(number)s; the move-out police station has 5 working days."),
    "register_emigration": _("Emigration of %(number)s registered; the move-in police station has 5 working days."),
    "report_problem": _("Problem reported; case %(number)s is back with the move-in police station."),
    "resend": _("Case %(number)s sent to the move-out police station again."),
    "settle": _("Case %(number)s settled; the applicant has been asked to print the registration form."),
    "refuse": _("Case %(number)s refused."),
    "switch_to_paper": _("Case %(number)s continues on the paper procedure."),
    "check": _("Post-settlement check of %(number)s recorded."),
}
DANGER = ("refuse", "switch_to_paper", "report_problem")


def _fields(action, application):
    """The inputs each action's form has: (name, label, kind, required[, choices])."""
    text = {"kind": "textarea"}
    line = {"kind": "text"}
    if action == "request_info":
        return [
            {
                "name": "text",
                "label": _("What must the applicant add or correct? (the applicant will see this)"),
                "required": True,
                **text,
            }
        ]
    if action in ("accept", "forward", "approve"):
        return [{"name": "text", "label": MESSAGE_LABEL, "required": False, **text}]
    if action == "refuse":
        return [
            {
                "name": "text",
                "label": _("Reason for the refusal (the applicant will see this)"),
                "required": True,
                **text,
            }
        ]
    if action == "register_emigration":
        return [
            {
                "name": "emigrated_on",
                "label": _("Emigration registered on"),
                "required": False,
                "kind": "date",
                "value": timezone.localdate().isoformat(),
            },
            {
                "name": "text",
                "label": _("Note on the origin household record (optional; the applicant will see this)"),
                "required": False,
                **text,
            },
        ]
    if action == "report_problem":
        return [
            {
                "name": "text",
                "label": _("The problem with the origin household record (the applicant will see this)"),
                "required": True,
                **text,
            }
        ]
    if action == "resend":
        return [
            {
                "name": "text",
                "label": _("How the problem was resolved (the applicant will see this)"),
                "required": True,
                **text,
            }
        ]
    paper_numbers = [
        {
            "name": "paper_permit_number",
            "label": _("Paper Permit to Move In number"),
            "required": False,
            "value": application.paper_permit_number,
            **line,
        },
        {
            "name": "paper_migration_certificate_number",
            "label": _("Paper Hukou Migration Certificate number"),
            "required": False,
            "value": application.paper_migration_certificate_number,
            **line,
        },
    ]
    if action == "settle":
        return paper_numbers if application.status == Status.PAPER else []
    if action == "switch_to_paper":
        return [
            {"name": "text", "label": _("Technical reason (the applicant will see this)"), "required": True, **text},
            *paper_numbers,
        ]
    return []


def _run_action(action, *, application, by, data):
    text = data.get("text", "")
    # Every step also takes the internal note, which only staff see (docs/architecture.md#security-and-privacy).
    internal = (data.get("internal_note") or "").strip()
    if action == "accept":
        return services.hukou_accept(application=application, by=by, note=text, internal_note=internal)
    if action == "request_info":
        return services.hukou_request_info(application=application, by=by, message=text, internal_note=internal)
    if action == "forward":
        return services.hukou_forward(application=application, by=by, note=text, internal_note=internal)
    if action == "approve":
        return services.hukou_approve(application=application, by=by, note=text, internal_note=internal)
    if action == "refuse":
        return services.hukou_refuse(application=application, by=by, reason=text, internal_note=internal)
    if action == "register_emigration":
        raw = (data.get("emigrated_on") or "").strip()
        try:
            day = datetime.date.fromisoformat(raw) if raw else None
        except ValueError as exc:
            raise ValidationError(_("Enter the date as YYYY-MM-DD.")) from exc
        return services.hukou_register_emigration(
            application=application, by=by, emigrated_on=day, note=text, internal_note=internal
        )
    if action == "report_problem":
        return services.hukou_report_problem(application=application, by=by, problem=text, internal_note=internal)
    if action == "resend":
        return services.hukou_resend(application=application, by=by, note=text, internal_note=internal)
    paper = {
        "paper_permit_number": data.get("paper_permit_number", ""),
        "paper_migration_certificate_number": data.get("paper_migration_certificate_number", ""),
    }
    if action == "settle":
        return services.hukou_settle(application=application, by=by, internal_note=internal, **paper)
    if action == "switch_to_paper":
        return services.hukou_switch_to_paper(
            application=application, by=by, reason=text, internal_note=internal, **paper
        )
    if action == "check":
        try:
            mover = application.movers.get(pk=int(data.get("mover") or 0))
        except (Mover.DoesNotExist, ValueError) as exc:
            raise ValidationError(_("Choose the person checked.")) from exc
        return services.hukou_record_post_settlement_check(
            application=application,
            by=by,
            mover=mover,
            marital_status=data.get("marital_status", ""),
            education=data.get("education", ""),
            employer=data.get("employer", ""),
            phone=data.get("phone", ""),
            changes_made=data.get("changes_made", ""),
            evidence=data.get("evidence", ""),
            internal_note=internal,
        )
    raise ValueError(action)


_OFFICE_STATUSES = tuple(s for s, actor in ACTOR_BY_STATUS.items() if actor != Actor.APPLICANT)


class InboxFilter(admin.SimpleListFilter):
    """The office's inbox: the cases in which one of the staff member's offices must act now."""

    title = _("inbox")
    parameter_name = "inbox"

    def lookups(self, request, model_admin):
        return (("acting", _("Acting now")), ("waiting", _("With another office or the applicant")))

    def queryset(self, request, queryset):
        if self.value() not in ("acting", "waiting"):
            return queryset
        ids = scoped_office_ids(request.user, service=queryset.model)
        acting = queryset.filter(status__in=_OFFICE_STATUSES) if ids is ALL else queryset.acting_for(ids)
        if self.value() == "acting":
            return acting
        return queryset.exclude(pk__in=acting.values("pk"))


class MoverInline(admin.TabularInline):
    model = Mover
    fields = ("name", "id_number", "sex", "birth_date", "relation", "is_applicant", "present", "guardian_present")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MigrationApplication)
class MigrationApplicationAdmin(CaseReviewAdminMixin, OfficeScopedAdminMixin, admin.ModelAdmin):
    review_action_labels = ACTION_LABELS
    review_action_done = ACTION_DONE
    office_fields = ("office", "municipal_office", "origin_office")
    list_display = (
        "case_number",
        "category",
        "status",
        "acting_office_display",
        "due_date",
        "countdown_display",
        "submitted_at",
    )
    list_filter = (InboxFilter, DueStateFilter, "status", "category")
    search_fields = ("=case_number", "=permit_number", "=migration_certificate_number")
    list_select_related = ("office", "municipal_office", "origin_office")
    list_per_page = 50
    show_full_result_count = False
    # Newest first by primary key (issued in creation order): a backward scan of the primary key finds the first
    # page of a large office's queue at once, where "-created_at" sorted every row of the office (bench/pages.py).
    ordering = ("-pk",)
    change_form_template = "hukou/admin/application_review.html"
    export_fields = ("case_number", "status", "category", "submitted_at", "due_date", "permit_number")
    inlines = (MoverInline,)
    # Citizen data is never edited here: every change is an action calling a service.
    fieldsets = (
        (
            _("Case"),
            {
                "fields": (
                    "case_number",
                    "status",
                    "category",
                    "category_explanation",
                    "submitted_at",
                    "due_date",
                    "deadline_provisional",
                )
            },
        ),
        (_("Origin"), {"fields": ("origin_office", "origin_address", "origin_head_name", "origin_head_id_number")}),
        (
            _("Destination"),
            {
                "fields": (
                    "office",
                    "municipal_office",
                    "destination_address",
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
                    "declaration_at",
                )
            },
        ),
        (
            _("Workflow"),
            {
                "fields": (
                    "accepted_at",
                    "forwarded_at",
                    "info_request",
                    "citizen_reply",
                    "permit_number",
                    "permit_issued_at",
                    "migration_certificate_number",
                    "emigrated_on",
                    "emigration_note",
                    "problem_report",
                    "settled_at",
                    "refusal_reason",
                    "decided_by",
                )
            },
        ),
        (
            _("Paper procedure"),
            {
                "fields": (
                    "paper_reason",
                    "paper_switched_at",
                    "paper_switched_from",
                    "paper_permit_number",
                    "paper_migration_certificate_number",
                )
            },
        ),
    )

    def scope_q(self, request, office_ids):
        # A case reaches each office from its own step (MigrationApplicationQuerySet.reached): the move-out
        # station sees nothing before the Permit to Move In is issued, the municipal office nothing before forwarding.
        return reached_q(office_ids)

    def get_readonly_fields(self, request, obj=None):
        return [field for _name, options in self.fieldsets for field in options["fields"]]

    def get_queryset(self, request):
        # Drafts are the citizen's own business until submitted.
        return super().get_queryset(request).exclude(status=Status.DRAFT)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("acting now"))
    def acting_office_display(self, obj):
        office = obj.acting_office()
        if office is not None:
            return office
        actor = obj.acting_actor
        return Actor(actor).label if actor else "—"

    @admin.display(description=_("time left"))
    def countdown_display(self, obj):
        return countdown(obj)

    # --- the review page --------------------------------------------------------------------------

    def _may_act_for(self, request, office):
        ids = scoped_office_ids(request.user, service=MigrationApplication)
        return office is not None and (ids is ALL or office.pk in ids)

    def review_context(self, request, application):
        own = services.is_own_case(request.user, application)
        may_act = self.has_change_permission(request, application) and not own
        actions = []
        if may_act and self._may_act_for(request, application.acting_office()):
            actions = services.available_actions(application=application)
        movers = list(application.movers.select_related("post_settlement_check"))
        check_pending = [m for m in movers if not hasattr(m, "post_settlement_check")]
        may_check = (
            may_act
            and application.status == Status.SETTLED
            and check_pending
            and self._may_act_for(request, application.office)
        )

        def url(name):
            return self.review_action_url(application, name)

        day = services.application_day(application)
        return {
            "application": application,
            "movers": [(m, m.age_on(day)) for m in movers],
            "staying": [(p, p.age_on(day)) for p in application.staying_members.all()],
            "application_day": day,
            "violations": services.rule_violations(application),
            # Each link and preview goes through the logged, permission-checked download: every view is recorded.
            "review_documents": [
                (DocumentKind(d.kind).label if d.kind in DocumentKind.values else d.kind, d)
                for d in sorted(self.review_documents(request, application), key=lambda d: (d.kind, d.created_at))
            ],
            "timeline": self.timeline_context(application, with_office=True),
            "countdown": countdown(application),
            "acting_office": application.acting_office(),
            "own_application": own,
            "review_actions": [
                {
                    "name": name,
                    "label": ACTION_LABELS[name],
                    "fields": _fields(name, application),
                    "url": url(name),
                    "danger": name in DANGER,
                }
                for name in actions
            ],
            "check_movers": check_pending if may_check else [],
            "check_url": url("check"),
            "marital_choices": MaritalStatus.choices,
            "education_choices": Education.choices,
        }

    def run_review_action(self, request, application, action):
        _run_action(action, application=application, by=request.user, data=request.POST)
