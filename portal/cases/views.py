"""What every service's citizen views share: the pages to withdraw an application and to delete a draft, and the
answers to a refused or too-late change."""

from collections.abc import Callable, Collection, Mapping, Sequence
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .models import Case, ReviewedCase
from .services import TransitionError

# A service function called as `action(application=…, by=…)` (withdraw, delete a draft).
CaseAction = Callable[..., Any]
# A view of a case: (request, case number) -> response.
CaseView = Callable[[HttpRequest, str], HttpResponse]

DRAFT = "draft"  # the status value of a draft in every service's Status


def error_messages(exc: Exception) -> list[str]:
    """What to show the citizen when a service refuses: each message of a ValidationError, or the TransitionError."""
    return list(exc.messages) if isinstance(exc, ValidationError) else [str(exc)]


def declare_and_submit(application: ReviewedCase, submit: Callable[[], Any]) -> None:
    """Date the declaration of truthfulness the applicant has just ticked and take the submission step (`submit()`:
    submit, or answer a request for information), in one transaction: if the step is refused, the declaration is
    not dated, here or in the database, and the refusal is raised for the page to show."""
    previous = application.declaration_at
    try:
        with transaction.atomic():
            now = timezone.now()
            type(application).objects.filter(pk=application.pk, status=application.status).update(declaration_at=now)
            application.declaration_at = now
            submit()
    except BaseException:
        application.declaration_at = previous
        raise


def not_editable(request: HttpRequest, application: Case, detail_url: str) -> HttpResponse:
    """The answer to a change asked of a case past the stage where the citizen may change it: back to its status."""
    messages.info(
        request,
        _("Application %(number)s is “%(status)s” and can no longer be changed.")
        % {"number": application.case_number, "status": application.get_status_display()},
    )
    return redirect(detail_url)


def confirm_case_action(
    request: HttpRequest,
    application: Case,
    *,
    action: CaseAction,
    template: str,
    success_message: str,
    redirect_to: str,
) -> HttpResponse:
    """GET asks for confirmation; POST calls `action(application=…, by=…)` and on success says so and redirects to
    `redirect_to` (a URL or URL name, as `redirect()` takes). A refusal shows the confirmation again with the reasons,
    answered 400."""
    errors: list[str] = []
    if request.method == "POST":
        try:
            action(application=application, by=request.user)
        except (TransitionError, ValidationError) as exc:
            errors = error_messages(exc)
        else:
            messages.success(request, success_message)
            return redirect(redirect_to)
    return render(request, template, {"application": application, "errors": errors}, status=400 if errors else 200)


def withdraw_case(
    request: HttpRequest,
    application: Case,
    *,
    withdrawable: Collection[str],
    withdraw: CaseAction,
    template: str,
    detail_url: str,
) -> HttpResponse:
    """The withdrawal page of an application the citizen owns; one past withdrawal sends them back to its status."""
    number = application.case_number
    if application.status not in withdrawable:
        messages.info(
            request,
            _("Application %(number)s is “%(status)s” and cannot be withdrawn.")
            % {"number": number, "status": application.get_status_display()},
        )
        return redirect(detail_url)
    return confirm_case_action(
        request,
        application,
        action=withdraw,
        template=template,
        success_message=_("Application %(number)s is withdrawn.") % {"number": number},
        redirect_to=detail_url,
    )


def delete_draft_case(
    request: HttpRequest, application: Case, *, delete: CaseAction, template: str, redirect_to: str
) -> HttpResponse:
    """The page that deletes a draft the citizen owns (the caller checks that it is still a draft)."""
    return confirm_case_action(
        request,
        application,
        action=delete,
        template=template,
        success_message=_("Draft %(number)s is deleted.") % {"number": application.case_number},
        redirect_to=redirect_to,
    )


class CitizenPages:
    """The citizen's pages of one service's cases (`namespace`, its URL names as portal.cases.urls.case_pages gives
    them): `cases` are the service's cases with what its pages read of them (`select_related`), `editable` the
    statuses in which the answers may still change, `withdrawable` those the case may be withdrawn in."""

    def __init__(
        self,
        namespace: str,
        *,
        cases: QuerySet[Any],
        editable: Collection[str],
        withdrawable: Collection[str],
    ) -> None:
        self.namespace = namespace
        self.cases = cases
        self.editable = editable
        self.withdrawable = withdrawable

    def get_case(self, request: HttpRequest, case_number: str, *related: str) -> Any:
        """The signed-in citizen's own case (with `related` read in the same query); anyone else's looks exactly like
        no case at all."""
        cases = self.cases.select_related(*related) if related else self.cases
        return get_object_or_404(cases, case_number=case_number, applicant=request.user)

    def detail_url(self, application: Case) -> str:
        return reverse(f"{self.namespace}:detail", kwargs={"case_number": application.case_number})

    def not_editable(self, request: HttpRequest, application: Case) -> HttpResponse:
        return not_editable(request, application, self.detail_url(application))

    def editable_page(self, view: Callable[..., HttpResponse]) -> CaseView:
        """Decorator of a page that changes the answers (GET and POST): the view takes the citizen's own case
        instead of its number, and is reached only while the case is editable; otherwise back to its status page."""

        @wraps(view)
        def page(request: HttpRequest, case_number: str, *args: Any, **kwargs: Any) -> HttpResponse:
            application = self.get_case(request, case_number)
            if application.status not in self.editable:
                return self.not_editable(request, application)
            return view(request, application, *args, **kwargs)

        return login_required(never_cache(require_http_methods(["GET", "POST"])(page)))

    def after_section(
        self, request: HttpRequest, application: Case, section: str, sections: Sequence[str]
    ) -> HttpResponse:
        """Where a saved section leads: to the check of all answers (asked for, or after the last section), else
        to the next section."""
        number = application.case_number
        if request.POST.get("return") == "check" or section == sections[-1]:
            return redirect(f"{self.namespace}:check", case_number=number)
        following = sections[list(sections).index(section) + 1]
        return redirect(f"{self.namespace}:section", case_number=number, section=following)

    def submitted_page(self, context: Callable[[Any], Mapping[str, Any]]) -> CaseView:
        """The confirmation after (re)submission, `<namespace>/submitted.html` with the case, the service's
        `<namespace>/_breadcrumbs.html` and `context(case)`; a draft goes back to its check page."""

        @login_required
        @never_cache
        def submitted(request: HttpRequest, case_number: str) -> HttpResponse:
            """The confirmation after (re)submission: the case number and what happens next."""
            application = self.get_case(request, case_number)
            if application.status == DRAFT:
                return redirect(f"{self.namespace}:check", case_number=application.case_number)
            return render(
                request,
                f"{self.namespace}/submitted.html",
                {
                    "application": application,
                    "service_breadcrumbs": f"{self.namespace}/_breadcrumbs.html",
                    **context(application),
                },
            )

        return submitted

    def confirmation_views(self, *, withdraw: CaseAction, delete_draft: CaseAction) -> tuple[CaseView, CaseView]:
        """The service's `withdraw` and `delete_draft` views, for the URLs `<namespace>:withdraw` and
        `<namespace>:delete`; `withdraw` and `delete_draft` are the service functions. The pages are
        `<namespace>/withdraw.html` and `<namespace>/delete.html`; a withdrawal returns to the case's status page, a
        deleted draft to `<namespace>:index`."""

        @login_required
        @never_cache
        @require_http_methods(["GET", "POST"])
        def withdraw_view(request: HttpRequest, case_number: str) -> HttpResponse:
            """GET asks for confirmation; POST withdraws the application."""
            application = self.get_case(request, case_number)
            return withdraw_case(
                request,
                application,
                withdrawable=self.withdrawable,
                withdraw=withdraw,
                template=f"{self.namespace}/withdraw.html",
                detail_url=self.detail_url(application),
            )

        @login_required
        @never_cache
        @require_http_methods(["GET", "POST"])
        def delete_draft_view(request: HttpRequest, case_number: str) -> HttpResponse:
            """GET asks for confirmation; POST deletes the draft with everything saved in it."""
            application = self.get_case(request, case_number)
            if application.status != DRAFT:
                return self.not_editable(request, application)
            return delete_draft_case(
                request,
                application,
                delete=delete_draft,
                template=f"{self.namespace}/delete.html",
                redirect_to=f"{self.namespace}:index",
            )

        return withdraw_view, delete_draft_view
