"""The review page every service's admin shares: nothing is saved from it; decisions are POSTs to per-action URLs.

A service's ModelAdmin mixes this in, names its actions in `review_action_labels` / `review_action_done`, adds its
own facts in `review_context`, and runs an action in `run_review_action` (which calls the service's transition
functions). The stale-page guard lives here: a POST carries the status the officer saw, and if the case moved on
meanwhile the officer is told instead of acting on what they did not see.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypedDict
from uuid import UUID

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from accounts.forms import CounterCheckForm
from accounts.identity import identity_verify_at_counter
from accounts.models import Role

from .deadlines import flagged_q
from .models import Case, DueState
from .services import TransitionError, ensure_status
from .workflow import INTERNAL_NOTE_LABEL, MESSAGE_LABEL, Workflow

__all__ = [
    "INTERNAL_NOTE_LABEL",
    "MESSAGE_LABEL",
    "CaseReviewAdminMixin",
    "DueStateFilter",
    "countdown",
]

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from accounts.models import Office, User

    # A service's admin lists this mixin before OfficeScopedAdminMixin and ModelAdmin, whose methods it calls
    # (get_object: 404 outside the staff member's offices, never None).
    from accounts.scoping import OfficeScopedAdminMixin as _CaseAdminBase
    from portal.documents.models import Document
else:
    _CaseAdminBase = object

# One row of the timeline a review page shows.
TimelineEntry = TypedDict(
    "TimelineEntry",
    {
        "at": "datetime",
        "from": "StrOrPromise",
        "to": "StrOrPromise",
        "actor": "User | None",
        "office": "Office | None",
        "note": str,
        "internal_note": str,
        "checked": "list[str]",
        # A row that leaves the status as it was, under its own words (portal.cases.events); "" for a change of status.
        "event": "StrOrPromise",
    },
)


def internal_note(request: HttpRequest) -> str:
    """The internal note an action form posted ("internal_note"), stripped."""
    return (request.POST.get("internal_note") or "").strip()


REVIEW_PAGE_FLAGS = {
    "show_save": False,
    "show_save_and_continue": False,
    "show_save_and_add_another": False,
    "show_delete": False,
}


class CaseReviewAdminMixin(_CaseAdminBase):
    # The service's workflow table (portal.cases.workflow): the review page offers its staff steps, posts each to
    # its own URL, dispatches it to the step's function and reports its success message.
    workflow: Workflow
    workflow_case_param = "application"  # the keyword the step functions take the case as

    @property
    def review_action_labels(self) -> dict[str, StrOrPromise]:
        return {step.name: step.label for step in self.workflow.officer_steps()}

    @property
    def review_action_done(self) -> dict[str, StrOrPromise]:
        return {step.name: step.done for step in self.workflow.officer_steps()}

    # `case` is an instance of the service's own case model (a subclass of Case).
    def review_context(self, request: HttpRequest, case: Any) -> dict[str, Any]:
        return {}

    def run_review_action(self, request: HttpRequest, case: Any, action: str) -> None:
        self.workflow.dispatch(action, case, by=request.user, data=request.POST, case_param=self.workflow_case_param)

    def review_actions(
        self, case: Case, names: Iterable[str], posted: Any = None, checked: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        """The forms of the offered steps, as the shared action panel (admin/cases/_actions.html) shows them: label,
        URL, inputs (`fields`, with what was `posted` when a form comes back with an error), the checklist (`checks`,
        those in `checked` ticked), whether the step is irreversible (`danger`) and whether it asks for a
        confirmation (`confirm`)."""
        actions = []
        checked = set(checked)
        for name in names:
            step = self.workflow[name]
            actions.append(
                {
                    "name": name,
                    "label": step.label,
                    "url": self.review_action_url(case, name),
                    "danger": step.danger,
                    "confirm": bool(step.confirm),
                    "fields": [
                        {
                            "name": item.name,
                            "label": item.label,
                            "kind": item.kind,
                            "required": item.required,
                            "value": (
                                posted.get(item.name, "")
                                if posted is not None
                                else (item.initial(case) if item.initial else "")
                            ),
                        }
                        for item in step.inputs
                        if item.shown is None or item.shown(case)
                    ],
                    "checks": [
                        {"key": item.key, "label": item.label, "required": item.required, "ticked": item.key in checked}
                        for item in step.checklist
                        if item.asked(case)
                    ],
                    "internal_note": posted.get("internal_note", "") if posted is not None else "",
                }
            )
        return actions

    def _review_url_name(self, suffix: str) -> str:
        return f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{suffix}"

    def review_action_url(self, case: Case, action: str) -> str:
        return reverse(self._review_url_name("act"), args=[case.pk, action])

    def timeline_context(self, case: Case, *, with_office: bool = False) -> list[TimelineEntry]:
        from . import events
        from .review import checklist_labels

        entries = case.timeline().select_related("office") if with_office else case.timeline()
        workflow = getattr(self, "workflow", None)
        return [
            {
                "at": entry.at,
                "from": case.status_label(entry.from_status) if entry.from_status else "",
                "to": case.status_label(entry.to_status),
                "actor": entry.actor,
                "office": entry.office if with_office else None,
                "note": entry.note,
                "internal_note": entry.internal_note,
                "checked": checklist_labels(workflow, entry.checklist),
                "event": events.label(entry.event) or "",
            }
            for entry in entries
        ]

    def review_documents(self, request: HttpRequest, case: Case) -> list[Document]:
        """The case's documents this staff member may see, those set aside marked; each still in use carries
        `set_aside_url` when they may set it aside (the office deciding now: docs/architecture.md#security-and-privacy).
        """
        from portal.documents.services import documents_for_review, may_set_aside

        allowed = self.has_change_permission(request, case) and may_set_aside(user=request.user, case=case)
        documents = documents_for_review(case, user=request.user, may_set_aside=allowed)
        for document in documents:
            document.set_aside_url = (
                reverse(self._review_url_name("set_aside"), args=[case.pk, document.public_id])
                if getattr(document, "set_aside_allowed", False)
                else ""
            )
        return documents

    def get_urls(self) -> list[URLPattern]:
        # Each review-page URL lies below the case's own admin URL; its name ends in `suffix` (_review_url_name).
        pages: list[tuple[str, Any, str]] = [
            ("act/<str:action>/", self.action_view, "act"),
            ("next/", self.next_case_view, "next"),
            ("assignment/<str:what>/", self.assignment_view, "assignment"),
            ("applicant-identity/", self.counter_check_view, "counter"),
            ("documents/<uuid:public_id>/set-aside/", self.set_aside_view, "set_aside"),
        ]
        return [
            *(
                path(
                    f"<path:object_id>/{route}",
                    self.admin_site.admin_view(view),
                    name=f"{self.opts.app_label}_{self.opts.model_name}_{suffix}",
                )
                for route, view, suffix in pages
            ),
            *super().get_urls(),
        ]

    def set_aside_view(self, request: HttpRequest, object_id: str, public_id: UUID) -> HttpResponse:
        """POST: the deciding office sets one of the case's documents aside with a reason."""
        from portal.documents.services import document_set_aside, documents_for_case

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        case = self.get_object(request, unquote(object_id))  # 404 outside the staff member's offices
        if not self.has_change_permission(request, case):
            raise PermissionDenied
        document = documents_for_case(case).filter(public_id=public_id).first()
        if document is None:
            raise Http404
        try:
            document_set_aside(document=document, by=request.user, reason=request.POST.get("reason", ""))
        except (TransitionError, ValidationError) as exc:
            for message in getattr(exc, "messages", None) or [str(exc)]:
                self.message_user(request, message, level=messages.ERROR)
        else:
            self.message_user(
                request,
                _("Document “%(name)s” set aside; other offices no longer see it.") % {"name": document.download_name},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse(self._review_url_name("change"), args=[case.pk]))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST":
            # Nothing is saved from this form; decisions go through the action URLs.
            return HttpResponseNotAllowed(["GET"])
        from portal.visits.admin import review_visits

        case = self.get_object(request, unquote(object_id))  # 404 outside the staff member's offices
        if not self.has_view_or_change_permission(request, case):
            raise PermissionDenied
        extra_context = {
            **(extra_context or {}),
            **REVIEW_PAGE_FLAGS,
            **self.review_context(request, case),
            **self.identity_context(request, case),
            "review_assignment": self.assignment_context(request, case),
            # A case is worked, not edited: the page is titled by its number, not "Change …".
            "title": _("Case %(number)s") % {"number": case.case_number},
            "subtitle": None,
            "review_next_url": self._with_filters(request, reverse(self._review_url_name("next"), args=[case.pk])),
            "review_queue_url": self._with_filters(request, reverse(self._review_url_name("changelist")), queue=True),
            "review_visits": review_visits(request, case),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _with_filters(self, request: HttpRequest, url: str, *, queue: bool = False) -> str:
        """`url` with the queue the officer came from: as the queue's own query string (`queue`), or passed on as
        the admin's preserved filters."""
        from .review import changelist_filters

        filters = changelist_filters(request)
        if not filters:
            return url
        return f"{url}?{filters}" if queue else f"{url}?{urlencode({'_changelist_filters': filters})}"

    def next_case_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The next case of the queue the officer came from, or back to that queue when there is none."""
        from django.contrib.admin.options import IncorrectLookupParameters

        from .review import next_case_pk

        case = self.get_object(request, unquote(object_id))  # 404 outside the staff member's offices
        if not self.has_view_or_change_permission(request, case):
            raise PermissionDenied
        try:
            pk = next_case_pk(self, request, case)
        except IncorrectLookupParameters:
            pk = None
        if pk is None:
            self.message_user(request, _("No further case in this queue."), messages.INFO)
            return HttpResponseRedirect(
                self._with_filters(request, reverse(self._review_url_name("changelist")), queue=True)
            )
        return HttpResponseRedirect(self._with_filters(request, reverse(self._review_url_name("change"), args=[pk])))

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The admin's "history" page of a case is its timeline (the admin's own change log stays empty: nothing is
        edited through a form)."""
        from django.utils.text import capfirst

        case = self.get_object(request, unquote(object_id))  # 404 outside the staff member's offices
        if not self.has_view_or_change_permission(request, case):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Timeline of %(number)s") % {"number": case.case_number},
            "subtitle": None,
            "object": case,
            "opts": self.opts,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "app_label": self.opts.app_label,
            "timeline": self.timeline_context(case, with_office=True),
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/cases/history.html", context)

    # --- who works on the case (portal.cases.assignment) -----------------------------------------------------------

    def assignment_context(self, request: HttpRequest, case: Case) -> dict[str, Any]:
        """The review page's "who works on this case" panel: the assignee, and the claim, release and assign forms
        this member of staff may use; `others_case` asks every action form for the confirmation."""
        from accounts.models import User

        from . import assignment
        from .deadlines import deadline_office

        if getattr(self, "workflow", None) is None:  # a case without a workflow table (feedback): no assignment
            return {}
        user = request.user
        assignee = case.assigned_to
        context: dict[str, Any] = {
            "assignee_name": (assignee.real_name or assignee.get_username()) if assignee else "",
            "others_case": assignee is not None and assignee.pk != user.pk,
        }
        if case.status not in type(case).OPEN_STATUSES or not self.has_change_permission(request, case):
            return context
        try:
            assignment._ensure_staff_of_case(user, case, self.workflow)
        except TransitionError:
            return context

        def url(what: str) -> str:
            return reverse(self._review_url_name("assignment"), args=[case.pk, what])

        if assignee is None:
            context["claim_url"] = url("claim")
        elif assignee.pk == user.pk or assignment.is_supervisor(user):
            context["release_url"] = url("release")
        if assignment.is_supervisor(user):
            office = deadline_office(case)
            context["assign_url"] = url("assign")
            context["officers"] = list(
                User.objects.filter(office=office, is_active=True, is_staff=True)
                .exclude(pk=case.assigned_to_id or 0)
                .order_by("real_name", "username")
                .only("pk", "real_name", "username")
            )
        return context

    def assignment_view(self, request: HttpRequest, object_id: str, what: str) -> HttpResponse:
        """POST: claim, release, or (a supervisor) assign to the officer posted as `officer`."""
        from accounts.models import User

        from . import assignment

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        case = self.get_object(request, unquote(object_id))  # 404 outside the staff member's offices
        if what not in ("claim", "release", "assign") or not self.has_change_permission(request, case):
            raise PermissionDenied
        user: User = request.user  # type: ignore[assignment]  # admin_view: an authenticated staff member
        try:
            if what == "claim":
                assignment.claim(case, by=user, workflow=self.workflow)
                done = _("You now work on case %(number)s.")
            elif what == "release":
                assignment.release(case, by=user, workflow=self.workflow)
                done = _("Case %(number)s is back in the office's queue.")
            else:
                officer = User.objects.filter(pk=int(request.POST.get("officer") or 0)).first()
                if officer is None:
                    raise ValidationError(_("Choose the officer."))
                assignment.assign(case, to=officer, by=user, workflow=self.workflow)
                done = _("Case %(number)s assigned.")
        except (TransitionError, ValidationError, ValueError) as exc:
            for message in getattr(exc, "messages", None) or [str(exc)]:
                self.message_user(request, message, level=messages.ERROR)
        else:
            self.message_user(request, done % {"number": case.case_number}, messages.SUCCESS)
        return HttpResponseRedirect(reverse(self._review_url_name("change"), args=[case.pk]))

    # --- the applicant's identity (docs/architecture.md#identity-assurance) ---------------------------------------

    @staticmethod
    def may_check_at_counter(request: HttpRequest, case: Case) -> bool:
        user: User = request.user  # type: ignore[assignment]  # admin_view: an authenticated staff member
        return bool(user.office_id and user.has_role(Role.POLICE_OFFICER) and case.applicant_id != user.pk)

    def identity_context(self, request: HttpRequest, case: Case) -> dict[str, Any]:
        """What every review page shows of the applicant's identity, and of a freeze."""
        return {
            "review_applicant": case.applicant,
            "review_frozen": case.frozen_at is not None,
            "review_counter_url": (
                reverse(self._review_url_name("counter"), args=[case.pk])
                if self.may_check_at_counter(request, case) and not case.applicant.assurance_level == "in_person"
                else ""
            ),
        }

    def counter_check_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A station officer records that they saw the applicant and their ID card: the applicant becomes In person."""
        case = self.get_object(request, unquote(object_id))  # 404 outside the staff member's offices
        if not self.has_view_or_change_permission(request, case) or not self.may_check_at_counter(request, case):
            raise PermissionDenied
        change_url = reverse(self._review_url_name("change"), args=[case.pk])
        form = CounterCheckForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                identity_verify_at_counter(
                    user=case.applicant,
                    officer=request.user,  # type: ignore[arg-type]  # admin_view: an authenticated staff member
                    document_type=form.cleaned_data["document_type"],
                    document_number=form.cleaned_data["document_number"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(
                    request,
                    _("The applicant's identity is recorded as confirmed in person by you."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "case": case,
            "form": form,
            "change_url": change_url,
            "title": _("Confirm the applicant's identity at the counter"),
        }
        return TemplateResponse(request, "admin/cases/counter_check.html", context)

    def action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """POST: take a step. The stale-page guard first; then the step's checklist (a required item unticked shows
        the form again with the error, nothing changed) and, for an irreversible step, the confirmation page: only
        its POST, with the signed token, takes the step (portal.cases.review)."""
        from . import assignment, review

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        case = self.get_object(request, unquote(object_id))  # 404 outside the staff member's offices
        if action not in self.review_action_labels or not self.has_change_permission(request, case):
            raise PermissionDenied
        change_url = self._with_filters(request, reverse(self._review_url_name("change"), args=[case.pk]))
        seen = request.POST.get("seen_status")
        if seen and seen != case.status:
            self.message_user(
                request,
                _("Someone else acted on case %(number)s first: it is now “%(status)s”. Check it before acting.")
                % {"number": case.case_number, "status": case.status_label()},
                messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        workflow = getattr(self, "workflow", None)
        step = workflow[action] if workflow is not None and action in workflow else None
        keys = review.ticked(step, request.POST) if step is not None else []
        try:
            # A case assigned to someone else: only with the form's explicit confirmation, and the timeline says so.
            others = assignment.ensure_confirmed_if_assigned_elsewhere(case, by=request.user, data=request.POST)
            if workflow is not None and step is not None and (step.checklist or step.confirm):
                # Who may take the step, and whether it is possible now, before its checklist or confirmation.
                workflow.ensure_may_act(request.user, case, step)
                ensure_status(case, step.allowed_from)
                errors = review.checklist_errors(step, keys, case)
                if step.confirm:
                    errors += review.input_errors(step, request.POST)
                if errors:
                    return review.step_page(self, request, case, step, keys, errors=errors, change_url=change_url)
                if step.confirm and not review.confirmed(case, step, request.user, request.POST):
                    return review.step_page(self, request, case, step, keys, change_url=change_url)
            with transaction.atomic():
                since = review.latest_transition(case) if step is not None and keys else 0
                self.run_review_action(request, case, action)
                if step is not None and keys:
                    review.record_checklist(case, step=step, keys=keys, since=since, by=request.user)
        except (TransitionError, ValidationError) as exc:
            for message in getattr(exc, "messages", None) or [str(exc)]:
                self.message_user(request, message, level=messages.ERROR)
        else:
            if others:
                assignment.record_acted_for_other(case, by=request.user, step_label=self.review_action_labels[action])
            done = self.review_action_done.get(action)
            if done:
                self.message_user(request, done % {"number": case.case_number}, messages.SUCCESS)
        return HttpResponseRedirect(change_url)


def countdown(case: Case, today: date | None = None) -> str:
    """ "2 working days left" / "due today" / "overdue by 1 working day" / "paused (2 working days left)"."""
    from django.utils import timezone
    from django.utils.translation import ngettext

    from portal.workdays import calendar as workdays

    if case.paused_at is not None:
        left = case.workdays_left
        if left is None:
            return str(_("paused"))
        return ngettext("paused (%(count)d working day left)", "paused (%(count)d working days left)", left) % {
            "count": left
        }
    if case.due_date is None or case.status not in type(case).OPEN_STATUSES:
        return "—"
    today = today or timezone.localdate()
    if case.due_date >= today:
        left = workdays.workdays_between(today, case.due_date)
        if left == 0:
            return str(_("due today"))
        return ngettext("%(count)d working day left", "%(count)d working days left", left) % {"count": left}
    late = max(workdays.workdays_between(case.due_date, today), 1)
    return ngettext("overdue by %(count)d working day", "overdue by %(count)d working days", late) % {"count": late}


class DueStateFilter(admin.SimpleListFilter):
    """The queue's deadline filter: due today, due soon and overdue among open cases (the desk counts the same), and
    those paused for the applicant."""

    title = _("deadline")
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> tuple[tuple[str, StrOrPromise], ...]:
        return (
            ("today", _("Due today")),
            ("due_soon", _("Due soon")),
            ("overdue", _("Overdue")),
            ("paused", _("Paused")),
        )

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        from django.utils import timezone

        model = queryset.model
        if self.value() == "today":
            return queryset.filter(
                due_date=timezone.localdate(), status__in=model.OPEN_STATUSES, paused_at__isnull=True
            )
        state = self.value()
        if state in (DueState.DUE_SOON, DueState.OVERDUE):  # as the desk counts them
            return queryset.filter(flagged_q(state, timezone.localdate()), status__in=model.OPEN_STATUSES)
        if self.value() == "paused":
            return queryset.filter(status=model.INFO_REQUESTED_STATUS)
        return queryset
