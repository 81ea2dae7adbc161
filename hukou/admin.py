"""Each office's inbox of migration cases and the review page with the steps the office may take now."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.address import PARTS
from accounts.scoping import ALL, scoped_office_ids
from portal.cases.admin import DueStateFilter, countdown
from portal.cases.queues import AssignmentFilter, InboxFilter, ReviewedCaseAdmin

from . import drafts, post_settlement, services
from .constants import Actor, DocumentKind, Education, MaritalStatus, Status
from .models import MigrationApplication, Mover, reached_q
from .workflow import WORKFLOW

# The addresses' parts (accounts.address): the admin shows each address as its one-line text, not its codes.
ADDRESS_PART_FIELDS = frozenset(f"{side}_{part}" for side in ("origin", "destination") for part in PARTS)


def _record_check(*, application, by, data, internal_note):
    """The post-settlement check of one person, from the review page's own form (hukou.workflow's "check")."""
    try:
        mover = application.movers.get(pk=int(data.get("mover") or 0))
    except (Mover.DoesNotExist, ValueError) as exc:
        raise ValidationError(_("Choose the person checked.")) from exc
    return post_settlement.hukou_record_post_settlement_check(
        application=application,
        by=by,
        mover=mover,
        marital_status=data.get("marital_status", ""),
        education=data.get("education", ""),
        employer=data.get("employer", ""),
        phone=data.get("phone", ""),
        changes_made=data.get("changes_made", ""),
        evidence=data.get("evidence", ""),
        internal_note=internal_note,
    )


def _labelled(document):
    document.kind_label = DocumentKind(document.kind).label if document.kind in DocumentKind.values else document.kind
    return document


def _destination_rows(application):
    """The citizen's answers about the receiving household, under their field names (those given)."""
    rows = []
    for name in MigrationApplication.DESTINATION_ANSWERS:
        if name in ("category", "category_explanation", "office", "destination_address") or name in ADDRESS_PART_FIELDS:
            continue
        value = getattr(application, name)
        if value in ("", None):
            continue
        display = getattr(application, f"get_{name}_display", None)
        if isinstance(value, bool):
            shown = _("Yes") if value else _("No")
        else:
            shown = display() if display else value
        rows.append((application._meta.get_field(name).verbose_name, shown))
    return rows


# The inbox filter is every service's (portal.cases.queues.InboxFilter): "acting" reads
# MigrationApplication.acting_q, the office acting in each status.


class MoverInline(admin.TabularInline):
    model = Mover
    fields = ("name", "id_number", "sex", "birth_date", "relation", "is_applicant", "present", "guardian_present")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MigrationApplication)
class MigrationApplicationAdmin(ReviewedCaseAdmin):
    workflow = WORKFLOW
    office_fields = ("office", "municipal_office", "origin_office")
    list_display = (
        "case_number",
        "category",
        "status",
        "acting_office_display",
        "due_date",
        "countdown_display",
        "submitted_at",
        "assigned_to",
    )
    list_filter = (InboxFilter, AssignmentFilter, DueStateFilter, "status", "category", "grounds")
    search_fields = ("=case_number", "=permit_number", "=migration_certificate_number")
    queue_person_fields = (("applicant__real_name", "applicant__id_number"), ("movers__name", "movers__id_number"))
    queue_exact_fields = ("permit_number", "migration_certificate_number")
    queue_search_distinct = True
    list_select_related = ("office", "municipal_office", "origin_office", "assigned_to")
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
                    "grounds",
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
                # The offices, then the citizen's destination answers (but the category, shown with the case).
                "fields": (
                    "office",
                    "municipal_office",
                    *(
                        name
                        for name in MigrationApplication.DESTINATION_ANSWERS
                        if name not in ("category", "grounds", "category_explanation", "office")
                        and name not in ADDRESS_PART_FIELDS
                    ),
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

    @admin.display(description=_("acting now"))
    def acting_office_display(self, obj):
        office = obj.acting_office()
        if office is not None:
            return office
        actor = obj.acting_actor
        return Actor(actor).label if actor else "—"

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

        day = drafts.application_day(application)
        return {
            "application": application,
            "movers": [(m, m.age_on(day)) for m in movers],
            "staying": [(p, p.age_on(day)) for p in application.staying_members.all()],
            "application_day": day,
            "violations": drafts.rule_violations(application),
            # Each link and preview goes through the logged, permission-checked download: every view is recorded.
            "review_documents": [
                _labelled(d)
                for d in sorted(self.review_documents(request, application), key=lambda d: (d.kind, d.created_at))
            ],
            "destination_rows": _destination_rows(application),
            "timeline": self.timeline_context(application, with_office=True),
            "countdown": countdown(application),
            "acting_office": application.acting_office(),
            "own_application": own,
            "review_actions": self.review_actions(application, actions),
            "check_movers": check_pending if may_check else [],
            "check_url": url("check"),
            "marital_choices": MaritalStatus.choices,
            "education_choices": Education.choices,
        }

    def run_review_action(self, request, application, action):
        if action == "check":
            _record_check(
                application=application,
                by=request.user,
                data=request.POST,
                internal_note=(request.POST.get("internal_note") or "").strip(),
            )
        else:
            super().run_review_action(request, application, action)
