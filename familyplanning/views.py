"""The citizen side of /familyplanning/: the catalogue, each service's guide and blank form, the online form with
drafts, check and submit, and the progress page with the issued document. Feedback and policy pages have their own
modules."""

import hashlib
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import quote_etag
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from portal.cases.kept import forget_typed, keep_typed, kept_data, kept_message
from portal.cases.services import TransitionError
from portal.cases.views import CitizenPages, declare_and_submit, error_messages
from portal.verify.lookup import document_state

from . import catalogue, services
from .apps import next_step_of
from .catalogue import Effect, ServiceGroup
from .fields import BLANK_FORM_TEMPLATE, blank_form_context, render_blank_pdf
from .forms import (
    OfficeForm,
    SubmitForm,
    answer_sections,
    answers_form_class,
    bound_sections,
    initial_from_answers,
    initial_from_profile,
)
from .models import FamilyPlanningApplication, Status
from .workflow import EDITABLE, WITHDRAWABLE

logger = logging.getLogger("familyplanning")

# Blank forms are the same for everyone: cached by the fingerprint of their HTML, so a changed definition, label,
# translation or template is a new entry and a stale form is never served. A day bounds a change of the PDF style
# sheet, the one input the fingerprint does not see.
BLANK_FORM_CACHE_SECONDS = 24 * 3600
BLANK_FORM_MAX_AGE = 3600  # browsers and proxies revalidate hourly (ETag)
BLANK_FORM_LANGUAGES = ("zh-hans", "en")


def _services_by_group() -> list[dict]:
    return [
        {"key": group.value, "title": group.label, "services": catalogue.services_in(group.value)}
        for group in ServiceGroup
    ]


def _my_applications(user, service_key=None):
    """The signed-in citizen's drafts and applications, newest first (none for a visitor)."""
    if not user.is_authenticated:
        return [], []
    mine = FamilyPlanningApplication.objects.filter(applicant=user).select_related("office").order_by("-updated_at")
    if service_key:
        mine = mine.filter(service=service_key)
    mine = list(mine)
    return [a for a in mine if a.status == Status.DRAFT], [a for a in mine if a.status != Status.DRAFT]


def index(request):
    """The service catalogue by group; for a signed-in citizen also their drafts and applications."""
    drafts, applications = _my_applications(request.user)
    return render(
        request,
        "familyplanning/index.html",
        {"groups": _services_by_group(), "drafts": drafts, "applications": applications},
    )


def _service(key) -> catalogue.ServiceDef:
    try:
        return catalogue.get_service(key)
    except KeyError:
        raise Http404 from None


def guide(request, service):
    """One service's guide: conditions, materials, time limit, legal basis, the document, the forms."""
    service = _service(service)
    kind = service.issues or service.affects
    drafts, applications = _my_applications(request.user, service.key)
    context = {
        "service": service,
        "group_title": ServiceGroup(service.group).label,
        "document_title": catalogue.DocumentKind(kind).label if kind else "",
        "validity_months": services.VALIDITY_MONTHS.get(kind) if kind else None,
        "effects": Effect,
        "languages": [(code, name) for code, name in settings.LANGUAGES if code in BLANK_FORM_LANGUAGES],
        "drafts": drafts,
        "applications": applications,
        "contact_confirmed": not request.user.is_authenticated or request.user.contact_confirmed,
    }
    return render(request, "familyplanning/guide.html", context)


def blank_pdf_fingerprint(form_def, language: str) -> str:
    """What the blank form of `form_def` in `language` looks like, as a digest of its HTML: the ETag and cache key."""
    from portal.pdf import render_html

    html = render_html(BLANK_FORM_TEMPLATE, blank_form_context(form_def), language=language)
    return hashlib.sha256(html.encode()).hexdigest()[:32]


def blank_pdf(form_def, language: str, fingerprint: str) -> bytes:
    """The blank form as PDF bytes: rendered once per fingerprint, then from the cache."""
    key = f"fp:blank-form:{fingerprint}"
    try:
        data = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache outage costs a render, never the page
        logger.warning("blank form cache unavailable; rendering %s", key)
        data = None
    if data is None:
        data = render_blank_pdf(form_def, language=language)
        try:
            cache.set(key, data, BLANK_FORM_CACHE_SECONDS)
        except Exception:  # noqa: BLE001
            logger.warning("blank form cache unavailable; %s not stored", key)
    return data


@require_GET
def blank_form(request, service, language):
    """The blank application form to print and fill in by hand, with its version and date."""
    service = _service(service)
    if language not in BLANK_FORM_LANGUAGES:
        raise Http404
    fingerprint = blank_pdf_fingerprint(service.form, language)
    etag = quote_etag(fingerprint)
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(blank_pdf(service.form, language, fingerprint), content_type="application/pdf")
        filename = f"{service.key}-form-{service.form.version}-{language}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["X-Content-Type-Options"] = "nosniff"
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={BLANK_FORM_MAX_AGE}"
    return response


# --- the online form ------------------------------------------------------------------------------------


PAGES = CitizenPages(
    "familyplanning",
    cases=FamilyPlanningApplication.objects.select_related("office"),
    editable=EDITABLE,
    withdrawable=WITHDRAWABLE,
)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def apply(request, service):
    """A new application: the office and the service's form. The first save creates the draft."""
    return _form_page(request, _service(service), None)


@PAGES.editable_page
def edit(request, application):
    """Change a draft, or amend an application the office asked more information about."""
    return _form_page(request, application.service_def, application)


KEPT_PAGE = "form"  # the one page of a family-planning application, for portal.cases.kept


def _keep_draft(request, service, application, form, office_form):
    """Saving a draft with answers that are not right yet: keep everything typed and say what to fix.

    A new application becomes a draft first, which needs the office; without one the page is shown again as typed.
    """
    if application is None:
        if office_form is None or not office_form.is_valid():
            form.add_error(None, _("Choose the office first: the draft is kept with the office that handles it."))
            return None
        application = services.fp_create_draft(
            applicant=request.user, service_key=service.key, office=office_form.cleaned_data["office"]
        )
    if not keep_typed(application, KEPT_PAGE, data=request.POST, parts=(form, office_form)):
        return None
    messages.warning(request, kept_message(application))
    return application


def _form_page(request, service, application):
    form_def = service.form
    form_class = answers_form_class(form_def)
    # The office is chosen until submission; afterwards it is the office's case.
    with_office = application is None or application.status == Status.DRAFT
    draft = request.method == "POST" and request.POST.get("action") == "draft"
    kept = kept_data(application, KEPT_PAGE) if application is not None and request.method == "GET" else None
    if request.method == "POST" or kept is not None:
        # A draft opened again comes back as it was typed, kept with the draft, with what to fix next to it.
        data = request.POST if kept is None else kept
        office_form = OfficeForm(data) if with_office else None
        # Finding an office without JavaScript sends the whole form: nothing is saved, no answer is reported missing.
        finding = bool(request.method == "POST" and office_form is not None and office_form.finding)
        form = form_class(data, draft=draft or finding or kept is not None)
    else:
        if application is None:
            initial = initial_from_profile(form_def, request.user)
        else:
            initial = initial_from_answers(form_def, application.answers)
        form = form_class(initial=initial)
        office_form = OfficeForm(initial={"office": application.office_id} if application else None)
        office_form = office_form if with_office else None

    if request.method == "POST" and form.is_valid() and (office_form is None or office_form.is_valid()):
        office = office_form.cleaned_data["office"] if office_form else None
        saved = application
        try:
            with transaction.atomic():
                if saved is None:
                    saved = services.fp_create_draft(applicant=request.user, service_key=service.key, office=office)
                services.fp_save_answers(application=saved, by=request.user, answers=form.answers(), office=office)
                forget_typed(saved, KEPT_PAGE)
        except TransitionError:
            if application is None:
                raise
            application.refresh_from_db()  # the office acted, or another tab submitted it, meanwhile
            return PAGES.not_editable(request, application)
        except ValidationError as exc:
            for message in error_messages(exc):
                form.add_error(None, message)
        else:
            number = saved.case_number
            if draft:
                messages.success(
                    request, _("Your answers are saved. You can continue %(number)s later.") % {"number": number}
                )
                return redirect("familyplanning:detail", case_number=number)
            return redirect("familyplanning:check", case_number=number)
    if draft and (application is None or application.status == Status.DRAFT):
        kept_draft = _keep_draft(request, service, application, form, office_form)
        if kept_draft is not None:
            return redirect("familyplanning:detail", case_number=kept_draft.case_number)
    if kept is not None:
        form.is_valid()  # the kept answers' messages, next to them

    context = {
        "service": service,
        "application": application,
        "form": form,
        "office_form": office_form,
        "sections": bound_sections(form_def, form),
        "contact_confirmed": request.user.contact_confirmed,
        "action": (
            reverse("familyplanning:edit", kwargs={"case_number": application.case_number})
            if application
            else reverse("familyplanning:apply", kwargs={"service": service.key})
        ),
    }
    # A kept draft shown again is bound to what was typed, but it is a page opened, not a form refused.
    return render(request, "familyplanning/form.html", context, status=400 if request.method == "POST" else 200)


# --- check and submit -------------------------------------------------------------------------------------


def _problems_with_links(application) -> list[dict]:
    """What stops submission, each with the label of its field and a link to it on the online form."""
    form_fields = answers_form_class(application.service_def.form).base_fields
    url = reverse("familyplanning:edit", kwargs={"case_number": application.case_number})
    problems = []
    for name, field_messages in services.answers_problems(application).items():
        field = form_fields.get(name)
        for message in field_messages:
            problems.append(
                {"label": field.label if field else "", "message": message, "url": f"{url}#id_{name}" if field else url}
            )
    return problems


@PAGES.editable_page
def check(request, application):
    """Every answer on one page, what is still missing, the declaration, and submit (or send again)."""
    resubmit = application.status == Status.INFO_REQUESTED
    form = SubmitForm(request.POST if request.method == "POST" else None, resubmit=resubmit)
    problems = _problems_with_links(application)
    status = 200
    if request.method == "POST":
        status = 400
        if problems:
            form.add_error(None, _("Complete the answers listed above first."))
        elif form.is_valid():
            try:
                declare_and_submit(
                    application,
                    lambda: (
                        services.fp_resubmit(application=application, by=request.user, reply=form.cleaned_data["reply"])
                        if resubmit
                        else services.fp_submit(application=application, by=request.user)
                    ),
                )
            except (TransitionError, ValidationError) as exc:
                application.refresh_from_db()
                for message in error_messages(exc):
                    form.add_error(None, message)
            else:
                return redirect("familyplanning:submitted", case_number=application.case_number)
    context = {
        "application": application,
        "service": application.service_def,
        "form": form,
        "resubmit": resubmit,
        "problems": problems,
        "answers": answer_sections(application.service_def.form, application.answers),
        "contact_confirmed": request.user.contact_confirmed,
    }
    return render(request, "familyplanning/check.html", context, status=status)


submitted = PAGES.submitted_page(lambda application: {"service": application.service_def})


# --- progress, the issued document, withdrawal, deleting a draft ----------------------------------------------


def _document_facts(document):
    if document is None:
        return None
    return {"document": document, "state": document_state(document)}


@login_required
@never_cache
def detail(request, case_number):
    """The progress of one application: status, due date, timeline, the office's request, the document."""
    application = PAGES.get_case(request, case_number)
    service = application.service_def
    timeline = [
        {"at": entry.at, "label": application.status_label(entry.to_status), "note": entry.note}
        for entry in application.public_timeline()
    ]
    context = {
        "application": application,
        "service": service,
        "timeline": timeline,
        "document": _document_facts(services.current_document(application=application)),
        "affected": _document_facts(services.affected_document(application=application)),
        "effects": Effect,
        "statuses": Status,
        "editable": application.status in EDITABLE,
        "withdrawable": application.status in WITHDRAWABLE,
        "reply_form": SubmitForm(resubmit=True) if application.status == Status.INFO_REQUESTED else None,
        "answers": answer_sections(service.form, application.answers, masked=True),
        # /me/'s rule (portal.cases.progress): a finished case shows the day it finished instead of a due date.
        "next_step": next_step_of(application),
    }
    return render(request, "familyplanning/detail.html", context)


# The confirmation pages to withdraw an application and to delete a draft, shared with the other services.
withdraw, delete_draft = PAGES.confirmation_views(
    withdraw=services.fp_withdraw,
    delete_draft=services.fp_delete_draft,
)
