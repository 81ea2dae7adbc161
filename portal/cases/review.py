"""What the review page adds to a step before it is taken: its checklist, the confirmation of an irreversible step,
and the next case of the officer's queue (docs/services.md#the-review-page).

- The checklist: the step's `Check` rows (portal.cases.workflow) are checkboxes on its form, posted as `check`; a
  required item left unticked blocks the step with an error naming it, and the ticked items are written on the
  step's timeline rows (Transition.checklist).
- The confirmation: a step with `confirm` (every irreversible one) is not taken by the form's POST. That POST shows
  a confirmation page with what the step will do, who is told and by which channels, and the inputs carried over;
  only its own POST, which carries a signed token for this case, step, status and member of staff, takes the step.
- The next case: the queue the officer came from (Django admin's preserved filters) read again with the same
  filters, search and order; the case after this one, or the first when this one has left the queue.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.core import signing
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.translation import gettext as _

from .models import Transition

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    from .models import Case
    from .workflow import Check, Step, Workflow

CHECK_FIELD = "check"  # the checkboxes of a step's checklist, one value per ticked item's key
CONFIRMATION_FIELD = "confirm_token"  # the confirmation page's proof that the officer saw it
CONFIRMATION_SALT = "portal.cases.review.confirm"
TOKEN_MAX_AGE = 60 * 60  # seconds: a confirmation page left open longer is shown again
QUEUE_SCAN_LIMIT = 5000  # rows of the queue read to find the case after this one


# --- the checklist -------------------------------------------------------------------------------------------------


def ticked(step: Step, data: Mapping[str, Any]) -> list[str]:
    """The keys of the step's checklist items the form ticked, in the table's order (unknown values ignored)."""
    values = set(data.getlist(CHECK_FIELD)) if hasattr(data, "getlist") else set(data.get(CHECK_FIELD) or ())
    return [item.key for item in step.checklist if item.key in values]


def missing_required(step: Step, keys: Iterable[str], case: Any = None) -> list[Check]:
    """The required items left unticked (of those the form asks for this case, when `case` is given)."""
    keys = set(keys)
    return [
        item for item in step.checklist if item.required and item.key not in keys and (case is None or item.asked(case))
    ]


def checklist_errors(step: Step, keys: Iterable[str], case: Any = None) -> list[str]:
    """One error per required item left unticked, naming it."""
    return [
        _("Tick “%(item)s” before you take this step: it is required.") % {"item": item.label}
        for item in missing_required(step, keys, case)
    ]


def input_errors(step: Step, data: Mapping[str, Any]) -> list[str]:
    """The step's required inputs left empty (checked before a confirmation is asked for; the step function checks
    again): the step's own wording of the requirement for its text, else one naming the field."""
    errors = []
    for item in step.inputs:
        if item.required and not str(data.get(item.name) or "").strip():
            if step.required and item.param in ("note", "reason", "message", "problem"):
                errors.append(str(step.required))
            else:
                errors.append(_("Fill in “%(field)s”.") % {"field": item.label})
    return errors


def latest_transition(case: Case) -> int:
    """The newest timeline row's id (0 without any): the rows a step writes come after it."""
    from django.contrib.contenttypes.models import ContentType

    rows = Transition.objects.filter(content_type=ContentType.objects.get_for_model(type(case)), object_id=case.pk)
    return int(rows.aggregate(last=Max("pk"))["last"] or 0)


def record_checklist(case: Case, *, step: Step, keys: list[str], since: int, by: Any) -> int:
    """Write the ticked items on the timeline rows the step just wrote (by this member of staff, after `since`)."""
    from django.contrib.contenttypes.models import ContentType

    if not step.checklist:
        return 0
    return Transition.objects.filter(
        content_type=ContentType.objects.get_for_model(type(case)), object_id=case.pk, pk__gt=since, actor=by.pk
    ).update(checklist={"step": step.name, "checked": keys})


def checklist_labels(workflow: Workflow | None, recorded: Mapping[str, Any] | None) -> list[str]:
    """A timeline row's recorded checklist in the reader's language."""
    if not recorded or workflow is None:
        return []
    return [str(workflow.checklist_label(recorded.get("step", ""), key)) for key in recorded.get("checked", ())]


# --- the confirmation ----------------------------------------------------------------------------------------------


def _token_payload(case: Case, step: Step, user: Any) -> dict[str, Any]:
    return {"case": f"{case._meta.label_lower}:{case.pk}", "step": step.name, "status": case.status, "by": user.pk}


def confirm_token(case: Case, step: Step, user: Any) -> str:
    return signing.dumps(_token_payload(case, step, user), salt=CONFIRMATION_SALT)


def confirmed(case: Case, step: Step, user: Any, data: Mapping[str, Any]) -> bool:
    """The POST comes from the confirmation page of this step, for this case in its current status, shown to this
    member of staff within the hour."""
    token = data.get(CONFIRMATION_FIELD) or ""
    if not token:
        return False
    try:
        payload = signing.loads(token, salt=CONFIRMATION_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return False
    return bool(payload == _token_payload(case, step, user))


def channels(template: str) -> set[str]:
    """The channels a message template has parts for (portal.notify.services.render_message)."""
    found = set()
    for part, channel in (("email.txt", "email"), ("sms.txt", "sms")):
        try:
            get_template(f"notify/{template}/{part}")
        except TemplateDoesNotExist:
            continue
        found.add(channel)
    return found


def who_is_told(workflow: Workflow, step: Step, case: Case) -> list[str]:
    """Who the step tells and how: the applicant by SMS and/or e-mail (the step's templates that have those parts, and
    the contact details the applicant has), the office acting next by e-mail."""
    lines = []
    applicant_templates = [name for name in (step.notify, *step.tells) if name]
    if applicant_templates:
        parts: set[str] = set()
        for name in applicant_templates:
            parts |= channels(f"{workflow.service}/{name}")
        applicant = case.applicant
        sms = "sms" in parts and bool(applicant.mobile)
        email = "email" in parts and bool(applicant.email)
        if sms and email:
            lines.append(_("The applicant will get an SMS and an e-mail."))
        elif sms:
            lines.append(_("The applicant will get an SMS."))
        elif email:
            lines.append(_("The applicant will get an e-mail."))
        else:
            lines.append(_("The applicant has no contact details for this message and reads it on the case page."))
    else:
        lines.append(_("The applicant is not sent a message; the case page shows the new status."))
    if step.notify_office:
        lines.append(_("The staff of the office acting next will get an e-mail."))
    return lines


def confirmation_text(step: Step, case: Case) -> str:
    return str(step.confirm) % {"number": case.case_number}


# --- the next case of the queue ------------------------------------------------------------------------------------


def changelist_filters(request: HttpRequest) -> str:
    """The query string of the queue the officer came from (the admin's `_changelist_filters`), or ""."""
    return str(request.GET.get("_changelist_filters") or "")


def next_case_pk(model_admin: ModelAdmin[Any], request: HttpRequest, case: Case) -> int | None:
    """The case after `case` in the queue `request` names (the first of the queue if `case` is no longer in it),
    read through the admin's own changelist: the same filters, search, office scope and order."""
    queue_request = copy.copy(request)
    queue_request.GET = QueryDict(changelist_filters(request))
    changelist = model_admin.get_changelist_instance(queue_request)
    pks = changelist.queryset.values_list("pk", flat=True)[:QUEUE_SCAN_LIMIT]
    first = None
    after = False
    for pk in pks.iterator(chunk_size=500):
        if after:
            return int(pk)
        if pk == case.pk:
            after = True
        elif first is None:
            first = int(pk)
    return None if after else first


# --- the page of one step ------------------------------------------------------------------------------------------


def step_page(
    model_admin: Any,
    request: HttpRequest,
    case: Case,
    step: Step,
    keys: list[str],
    *,
    change_url: str,
    errors: list[str] | None = None,
) -> HttpResponse:
    """The page of one step (CaseReviewAdminMixin.action_view): its form again with the errors and everything
    posted (400), or the confirmation of an irreversible step with the inputs carried over (nothing is taken until
    it is confirmed)."""
    from django.template.response import TemplateResponse

    carried = [
        (name, value)
        for name in request.POST
        if name not in ("csrfmiddlewaretoken", CONFIRMATION_FIELD)
        for value in request.POST.getlist(name)
    ]
    action_url = model_admin._with_filters(request, model_admin.review_action_url(case, step.name))
    action = {**model_admin.review_actions(case, [step.name], posted=request.POST, checked=keys)[0], "url": action_url}
    confirming = bool(step.confirm) and not errors
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "case": case,
        "step": step,
        "action": action,
        "errors": errors or [],
        "confirming": confirming,
        "confirmation": confirmation_text(step, case) if confirming else "",
        "who_is_told": who_is_told(model_admin.workflow, step, case) if confirming else [],
        "ticked": [item.label for item in step.checklist if item.key in keys],
        "carried": carried,
        "token": confirm_token(case, step, request.user) if confirming else "",
        "token_field": CONFIRMATION_FIELD,
        "action_url": action_url,
        "change_url": change_url,
        "review_assignment": model_admin.assignment_context(request, case),
        "title": (_("Confirm: %(step)s") % {"step": step.label}) if confirming else str(step.label),
    }
    return TemplateResponse(request, "admin/cases/step.html", context, status=400 if errors else 200)
