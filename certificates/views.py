"""The citizen side of /certificates/: guide, application sections, check and submit, status and withdrawal."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.cases.kept import forget_typed, keep_typed, kept_data, kept_message, kept_problems
from portal.cases.services import TransitionError
from portal.cases.views import CitizenPages, declare_and_submit, error_messages
from portal.documents.services import DocumentAttachError, document_attach, documents_for_case
from portal.verify.models import DocumentStatus

from . import services
from .apps import next_step_of
from .forms import (
    DOCUMENT_KINDS,
    DOCUMENT_LABELS,
    DeliveryForm,
    DocumentsForm,
    HolderAgentForm,
    HolderSelfForm,
    PurposeForm,
    StartForm,
    SubmitForm,
)
from .models import CLOCK_WORKING_DAYS, Application, HolderIdType, Status
from .workflow import EDITABLE, WITHDRAWABLE

# In these states the citizen may change the answers: before submission, and to answer a request for information.
SECTIONS = ("holder", "purpose", "delivery", "documents")
SECTION_TITLES = {
    "holder": gettext_lazy("Whose certificate"),
    "purpose": gettext_lazy("Purpose"),
    "delivery": gettext_lazy("Delivery"),
    "documents": gettext_lazy("Documents"),
    "declaration": gettext_lazy("Declaration"),
}


def index(request):
    """The service guide; for a signed-in citizen also their drafts and applications."""
    context = {"contact_confirmed": True, "drafts": [], "applications": []}
    if request.user.is_authenticated:
        mine = list(Application.objects.filter(applicant=request.user).select_related("office"))
        context.update(
            contact_confirmed=request.user.contact_confirmed,
            drafts=[a for a in mine if a.status == Status.DRAFT],
            applications=[a for a in mine if a.status != Status.DRAFT],
        )
    return render(request, "certificates/index.html", context)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def apply(request):
    """First page: for whom, and which police station. Creates the draft."""
    form = StartForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        application = services.application_create_draft(
            applicant=request.user,
            for_self=form.cleaned_data["applying_for"] == StartForm.FOR_SELF,
            office=form.cleaned_data["office"],
        )
        messages.success(
            request,
            _("Your application %(number)s is saved as a draft. You can leave at any point and continue later.")
            % {"number": application.case_number},
        )
        return redirect("certificates:section", case_number=application.case_number, section=SECTIONS[0])
    return render(
        request,
        "certificates/apply.html",
        {"form": form, "contact_confirmed": request.user.contact_confirmed},
        status=400 if form.is_bound else 200,
    )


# --- the sections -----------------------------------------------------------------------------------


PAGES = CitizenPages(
    "certificates",
    cases=Application.objects.select_related("office", "collection_office"),
    editable=EDITABLE,
    withdrawable=WITHDRAWABLE,
)


def current_documents(application) -> dict:
    """The current document of each kind: the newest one attached (an upload replaces the one before)."""
    current = {}
    for document in documents_for_case(application).order_by("-created_at", "-pk"):
        current.setdefault(document.kind, document)
    return current


def _save_answers(application, fields: dict, documents=()) -> bool:
    """Write a section's answers and attach its new uploads, unless the status changed meanwhile."""
    with transaction.atomic():
        updated = Application.objects.filter(pk=application.pk, status=application.status).update(
            updated_at=timezone.now(), **fields
        )
        if not updated:
            return False
        for document in documents:
            if document is not None:
                # Idempotent for this case; refuses a file already attached to another case.
                document_attach(document=document, case=application)
    for name, value in fields.items():
        setattr(application, name, value)
    return True


def _after_save(request, application, section):
    number = application.case_number
    if request.POST.get("action") == "leave":
        messages.success(request, _("Your answers are saved. You can continue %(number)s later.") % {"number": number})
        if application.status == Status.DRAFT:
            return redirect("certificates:index")
        return redirect("certificates:detail", case_number=number)
    return PAGES.after_section(request, application, section, SECTIONS)


@PAGES.editable_page
def section(request, application, section):
    draft = request.method == "POST" and request.POST.get("action") == "leave"
    data = (request.POST, request.FILES) if request.method == "POST" else ()
    kept = None if request.method == "POST" else kept_data(application, section)
    if kept is not None:
        # What was typed here and kept with the draft comes back as it was, with what to fix next to it.
        data, draft = (kept, MultiValueDict()), True
    current = current_documents(application)
    fields, uploads, form = {}, (), None

    if section == "holder" and application.for_self:
        form = HolderSelfForm(*data, draft=draft)
        if form.is_bound and form.is_valid():
            user = request.user
            # The holder is the applicant: their profile is the source, never a second copy typed in.
            fields = {
                "holder_name": user.real_name,
                "holder_id_type": HolderIdType.RESIDENT_ID,
                "holder_id_number": user.id_number or "",
                "holder_sex": user.sex,
                "holder_birth_date": user.birth_date,
            }
    elif section == "holder":
        initial = {
            "holder_name": application.holder_name,
            "holder_id_type": application.holder_id_type,
            "holder_id_number": application.holder_id_number,
            "authorisation": current.get("authorisation"),
        }
        form = HolderAgentForm(*data, owner=request.user, draft=draft, initial=initial)
        if form.is_bound and form.is_valid():
            c = form.cleaned_data
            fields = {
                "holder_name": c.get("holder_name", ""),
                "holder_id_type": c.get("holder_id_type") or application.holder_id_type,
                "holder_id_number": c.get("holder_id_number", ""),
                "holder_sex": c.get("holder_sex", ""),
                "holder_birth_date": c.get("holder_birth_date"),
            }
            uploads = (c.get("authorisation"),)
    elif section == "purpose":
        initial = {
            name: getattr(application, name)
            for name in ("reason", "destination_country", "reason_other", "receiving_organisation")
        }
        form = PurposeForm(*data, draft=draft, initial=initial)
        if form.is_bound and form.is_valid():
            c = form.cleaned_data
            fields = {name: c.get(name) or "" for name in initial}
    elif section == "delivery":
        initial = {"delivery": application.delivery, "collection_office": application.collection_office_id}
        form = DeliveryForm(*data, draft=draft, initial=initial)
        if form.is_bound and form.is_valid():
            c = form.cleaned_data
            fields = {
                "delivery": c.get("delivery") or application.delivery,
                "collection_office": c.get("collection_office"),
            }
    else:  # documents
        form = DocumentsForm(
            *data, owner=request.user, draft=draft, id_type=application.holder_id_type, current=current
        )
        if form.is_bound and form.is_valid():
            uploads = tuple(form.cleaned_data.get(kind) for kind in form.kinds)

    if form.is_bound and form.is_valid():
        try:
            saved = _save_answers(application, fields, uploads)
        except DocumentAttachError:
            # A kept-upload token from another application's form: the file stays where it is.
            form.add_error(None, _("One of the files belongs to another application. Choose the file again."))
        else:
            if not saved:
                application.refresh_from_db()
                return PAGES.not_editable(request, application)
            forget_typed(application, section)
            return _after_save(request, application, section)
    elif kept is None and draft and application.status == Status.DRAFT:
        # Saving a draft keeps everything typed, valid or not: the page comes back as it was when opened again.
        if keep_typed(application, section, data=request.POST, parts=(form,)):
            messages.warning(request, kept_message(application))
            return _after_save(request, application, section)

    step = SECTIONS.index(section) + 1
    context = {
        "application": application,
        "form": form,
        "section": section,
        "section_title": SECTION_TITLES[section],
        "step": step,
        "steps": len(SECTIONS),
        "return_to_check": request.GET.get("return") == "check" or request.POST.get("return") == "check",
        "documents": [current[k] for k in _kinds_shown(application) if k in current],
        "previous": SECTIONS[step - 2] if step > 1 else None,
    }
    if kept is not None:
        context["kept"] = [message for page, message in kept_problems(application) if page == section]
    return render(request, "certificates/section.html", context, status=400 if request.method == "POST" else 200)


def _kinds_shown(application):
    kinds = list(DOCUMENT_KINDS.get(application.holder_id_type, DOCUMENT_KINDS[HolderIdType.RESIDENT_ID]))
    if not application.for_self:
        kinds.insert(0, "authorisation")
    return kinds


# --- check and submit -------------------------------------------------------------------------------


def _missing_with_links(application):
    """application_missing's (section, message) pairs, each with the page that fixes it."""
    missing = []
    for key, message in services.application_missing(application=application):
        if key == "declaration":
            continue  # the declaration is the checkbox right below the list, with its own message
        if key in SECTIONS:
            url = reverse("certificates:section", kwargs={"case_number": application.case_number, "section": key})
            url += "?return=check"
        else:
            url = "#submit-heading"
        missing.append({"section": key, "label": SECTION_TITLES.get(key, key), "message": message, "url": url})
    return missing


@PAGES.editable_page
def check(request, application):
    """Every answer on one page, what is still missing, the declaration, and submit (or resubmit)."""
    resubmit = application.status == Status.INFO_REQUESTED
    form = SubmitForm(request.POST if request.method == "POST" else None, resubmit=resubmit)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                declare_and_submit(
                    application,
                    lambda: (
                        services.application_resubmit(
                            application=application, by=request.user, reply=form.cleaned_data["reply"]
                        )
                        if resubmit
                        else services.application_submit(application=application, by=request.user)
                    ),
                )
            except (TransitionError, ValidationError) as exc:
                for message in error_messages(exc):
                    form.add_error(None, message)
            else:
                return redirect("certificates:submitted", case_number=application.case_number)
    documents = current_documents(application)
    context = {
        "application": application,
        "form": form,
        "resubmit": resubmit,
        "missing": _missing_with_links(application),
        "documents": documents,
        "document_rows": [
            (k, DOCUMENT_LABELS[k], documents.get(k)) for k in _kinds_shown(application) if k != "authorisation"
        ],
        "contact_confirmed": request.user.contact_confirmed,
        "sections": SECTIONS,
    }
    return render(request, "certificates/check.html", context, status=status)


submitted = PAGES.submitted_page(lambda application: {"working_days": CLOCK_WORKING_DAYS})


# --- status, withdrawal, deleting a draft -------------------------------------------------------------


@login_required
@never_cache
def detail(request, case_number):
    application = PAGES.get_case(request, case_number)
    documents = current_documents(application)
    certificate = services.current_certificate(application=application)
    context = {
        "application": application,
        "status_label": services.status_label(application, certificate),
        "timeline": services.timeline_entries(application),
        "documents": [(DOCUMENT_LABELS[k], documents[k]) for k in _kinds_shown(application) if k in documents],
        "certificate": certificate,
        "refusal_notice": (
            services.refusal_notice(application=application) if application.status == Status.REFUSED else None
        ),
        "editable": application.status in EDITABLE,
        "withdrawable": application.status in WITHDRAWABLE,
        "working_days": CLOCK_WORKING_DAYS,
        "statuses": Status,
        # /me/'s rule (portal.cases.progress): a finished case shows the day it finished instead of a due date.
        "next_step": next_step_of(
            application,
            certificate if certificate is not None and certificate.status == DocumentStatus.REVOKED else None,
        ),
    }
    return render(request, "certificates/detail.html", context)


# The confirmation pages to withdraw an application and to delete a draft, shared with the other services.
withdraw, delete_draft = PAGES.confirmation_views(
    withdraw=services.application_withdraw,
    delete_draft=services.application_delete_draft,
)
