"""The citizen side of /hukou/: the guide and pre-check, the application in sections, check and submit, the status
page with the answer to a request for information, withdrawal, and deleting a draft."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.cases.services import TransitionError
from portal.cases.views import confirmation_views, error_messages, not_editable
from portal.documents.services import DocumentAttachError, documents_for_case

from . import drafts, services
from .constants import (
    CATEGORY_MATERIALS,
    CLOCK_LIMITS,
    EDITABLE_STATUSES,
    FINAL_STATUSES,
    STAGE_TITLES,
    STAGES,
    STEPS,
    UPLOAD_KINDS,
    Actor,
    Category,
    DocumentKind,
    ReceivingParty,
    Status,
)
from .forms import (
    AuthorisationsForm,
    DestinationForm,
    DocumentsForm,
    MoverForm,
    MoverFormSet,
    OriginForm,
    PrecheckForm,
    ReplyForm,
    StartForm,
    StayingForm,
    StayingFormSet,
    SubmitForm,
    people_formset,
    people_initial,
)
from .models import MigrationApplication
from .rules import eligibility_precheck

SECTIONS = ("destination", "movers", "origin", "authorisations", "documents")
SECTION_TITLES = {
    "destination": gettext_lazy("Category and destination"),
    "movers": gettext_lazy("The people moving"),
    "origin": gettext_lazy("The household you leave"),
    "authorisations": gettext_lazy("Powers of attorney and consent"),
    "documents": gettext_lazy("Documents"),
    "declaration": gettext_lazy("Declaration"),
}
# Where the citizen fixes what each rule of hukou.rules reports.
RULE_SECTIONS = {
    "category_missing": "destination",
    "age_unknown": "origin",
    "no_movers": "movers",
    "no_applicant": "movers",
    "whole_household_head_missing": "movers",
    "whole_household_head_under_16": "movers",
    "whole_household_head_applies": "movers",
    "whole_household_members_stay": "origin",
    "minor_without_guardian": "movers",
    "join_relatives_householder_missing": "destination",
    "join_relatives_not_immediate_family": "destination",
    "join_relatives_receiving_party_missing": "destination",
    "join_relatives_consent_missing": "authorisations",
    "origin_left_with_minors": "origin",
    "new_head_missing": "origin",
    "new_head_ambiguous": "origin",
    "new_head_under_16": "origin",
    "absent_without_power_of_attorney": "authorisations",
    "receiving_absent_without_power_of_attorney": "authorisations",
    "collective_mover_applies": "movers",
    "other_grounds_unexplained": "destination",
}
WITHDRAWABLE = STEPS["withdraw"].allowed_from


# --- the guide and the pre-check ------------------------------------------------------------------------


def index(request):
    """The service guide: who may apply, materials, time limits; for a signed-in citizen also their applications."""
    mine = []
    if request.user.is_authenticated:
        mine = list(
            MigrationApplication.objects.filter(applicant=request.user)
            .select_related("office", "municipal_office", "origin_office")
            .order_by("-updated_at")
        )
    context = {
        "drafts": [a for a in mine if a.status == Status.DRAFT],
        "applications": [a for a in mine if a.status != Status.DRAFT],
        "contact_confirmed": request.user.is_authenticated and request.user.contact_confirmed,
    }
    return render(request, "hukou/index.html", context)


def precheck(request):
    """The eligibility pre-check: plain questions, a plain answer and the materials. No login; nothing stored.

    A GET form, since it changes nothing: the answer can be bookmarked or reloaded.
    """
    form = PrecheckForm(request.GET if "category" in request.GET else None)
    result = None
    if form.is_bound and form.is_valid():
        result = eligibility_precheck(form.answers(), on=timezone.localdate())
    context = {
        "form": form,
        "result": result,
        "category_label": Category(form.cleaned_data["category"]).label if result else "",
        "category_value": form.cleaned_data["category"] if result else "",
        "all_materials": [(Category(c).label, m) for c, m in CATEGORY_MATERIALS.items()],
    }
    return render(request, "hukou/precheck.html", context, status=400 if form.is_bound and not form.is_valid() else 200)


# --- starting an application ---------------------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def apply(request):
    """First page: the category and the move-in police station. Creates the draft with its case number."""
    initial = {"category": request.GET.get("category")} if request.GET.get("category") in Category.values else {}
    form = StartForm(request.POST if request.method == "POST" else None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            application = drafts.hukou_create_draft(
                applicant=request.user, category=form.cleaned_data["category"], office=form.cleaned_data["office"]
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("Your application %(number)s is saved as a draft. You can leave at any point and continue later.")
                % {"number": application.case_number},
            )
            return redirect("hukou:section", case_number=application.case_number, section=SECTIONS[0])
    context = {
        "form": form,
        "contact_confirmed": request.user.contact_confirmed,
        "materials": [(Category(c).label, m) for c, m in CATEGORY_MATERIALS.items()],
    }
    return render(request, "hukou/apply.html", context, status=400 if form.is_bound else 200)


# --- the sections --------------------------------------------------------------------------------------


def _own_application(request, case_number, *related):
    """The signed-in citizen's own application; anyone else's looks exactly like no application at all."""
    return get_object_or_404(
        MigrationApplication.objects.select_related("office", "municipal_office", "origin_office", *related),
        case_number=case_number,
        applicant=request.user,
    )


def _not_editable(request, application):
    return not_editable(request, application, reverse("hukou:detail", kwargs={"case_number": application.case_number}))


def current_documents(application) -> dict:
    """Each kind's attached documents, oldest first (the order they were uploaded in)."""
    current = {}
    for document in documents_for_case(application).order_by("created_at", "pk"):
        current.setdefault(document.kind, []).append(document)
    return current


@dataclass
class _Page:
    """One section: its form and/or formset of people, what saving does, and what else the template shows."""

    save: Callable[[], object]
    form: object = None
    formset: object = None
    context: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)  # refusals of the service, above the form

    def is_valid(self):
        # Both are validated, so every error shows at once.
        results = [part.is_valid() for part in (self.form, self.formset) if part is not None]
        return all(results)


def _destination_page(request, application, data, draft):
    a = application
    form = DestinationForm(*data, draft=draft, instance=a, lock_office=a.status != Status.DRAFT)
    return _Page(lambda: drafts.hukou_save_answers(application=a, by=request.user, fields=form.answers()), form=form)


def _show_ages(formset):
    """What each row's ID number tells (sex, date of birth, age today), shown under the row."""
    today = timezone.localdate()
    for form in formset:
        form.info = form.derived(today)


def _movers_page(request, application, data, draft):
    movers = list(application.movers.all())
    initial = people_initial(MoverForm, movers)
    if not movers and request.user.id_number:
        # Usually the applicant moves: their row is filled in from the account, to be changed or cleared.
        initial = [
            {"name": request.user.real_name, "id_number": request.user.id_number, "is_applicant": True, "present": True}
        ]
    formset_class = people_formset(MoverForm, MoverFormSet, extra=1)
    formset = formset_class(*data[:1], prefix="movers", initial=initial, draft=draft)
    _show_ages(formset)
    return _Page(
        lambda: drafts.hukou_save_movers(application=application, by=request.user, movers=formset.rows()),
        formset=formset,
    )


def _origin_page(request, application, data, draft):
    a = application
    movers = list(a.movers.all())
    head = next((m for m in movers if m.is_head), None)
    form = OriginForm(*data[:1], draft=draft, instance=a, moving_head=head)
    staying = people_initial(StayingForm, a.staying_members.all())
    formset_class = people_formset(StayingForm, StayingFormSet, extra=1)
    formset = formset_class(
        *data[:1],
        prefix="staying",
        initial=staying,
        draft=draft,
        moving_numbers=[m.id_number for m in movers],
        head_moves=head is not None,
    )
    _show_ages(formset)
    return _Page(
        lambda: drafts.hukou_save_staying(
            application=a, by=request.user, fields=form.answers(), staying=formset.rows()
        ),
        form=form,
        formset=formset,
        context={"head": head, "whole_household": a.category == Category.WHOLE_HOUSEHOLD},
    )


def _authorisations_page(request, application, data, draft):
    a = application
    movers = list(a.movers.select_related("power_of_attorney"))
    joining = a.category == Category.JOIN_RELATIVES
    receiving_absent = joining and bool(a.receiving_party) and not a.receiving_present
    consent_needed = joining and a.receiving_party == ReceivingParty.FAMILY_MEMBER
    absent = [m for m in movers if not m.present]
    current = {f"mover_{m.pk}": m.power_of_attorney for m in absent}
    current["receiving_power_of_attorney"] = a.receiving_power_of_attorney if receiving_absent else None
    current["householder_consent"] = a.householder_consent if consent_needed else None
    form = AuthorisationsForm(
        *data,
        owner=request.user,
        draft=draft,
        absent_movers=absent,
        receiving_absent=receiving_absent,
        consent_needed=consent_needed,
        current=current,
    )

    def save():
        c = form.cleaned_data
        return drafts.hukou_save_authorisations(
            application=a,
            by=request.user,
            movers=form.mover_documents(),
            receiving_power_of_attorney=c.get("receiving_power_of_attorney"),
            householder_consent=c.get("householder_consent"),
        )

    return _Page(save, form=form, context={"nothing_needed": not form.fields})


def _documents_page(request, application, data, draft):
    current = current_documents(application)
    form = DocumentsForm(
        *data,
        owner=request.user,
        draft=draft,
        current=current,
        allow_remove=application.status == Status.DRAFT,
    )
    return _Page(
        lambda: drafts.hukou_add_documents(
            application=application, by=request.user, documents=form.uploads(), remove=form.removed()
        ),
        form=form,
        context={
            "uploaded": [(DocumentKind(kind).label, current.get(kind, [])) for kind in UPLOAD_KINDS],
            "materials": CATEGORY_MATERIALS.get(application.category, ()),
        },
    )


SECTION_PAGES = {
    "destination": _destination_page,
    "movers": _movers_page,
    "origin": _origin_page,
    "authorisations": _authorisations_page,
    "documents": _documents_page,
}


def problems(application) -> list[dict]:
    """Everything that stops submission, in plain words, each with the section that fixes it.

    What is missing (drafts.hukou_missing) comes first, then every eligibility rule that is not met
    (hukou.rules, ages on the day of application).
    """
    found = []
    for section, message in drafts.hukou_missing(application=application):
        if section != "declaration":  # the declaration is the checkbox below the list, with its own message
            found.append({"section": section, "message": message, "code": "missing"})
    for violation in drafts.rule_violations(application):
        section = RULE_SECTIONS.get(violation.code, "destination")
        if violation.code == "age_unknown" and application.movers.filter(birth_date__isnull=True).exists():
            section = "movers"
        found.append({"section": section, "message": violation.message, "code": violation.code})
    for item in found:
        item["title"] = SECTION_TITLES[item["section"]]
        item["url"] = (
            reverse("hukou:section", kwargs={"case_number": application.case_number, "section": item["section"]})
            + "?return=check"
        )
    return found


def _after_save(request, application, section):
    number = application.case_number
    action = request.POST.get("action")
    if action == "leave":
        messages.success(request, _("Your answers are saved. You can continue %(number)s later.") % {"number": number})
        if application.status == Status.DRAFT:
            return redirect("hukou:index")
        return redirect("hukou:detail", case_number=number)
    if action == "add":
        messages.success(request, _("Saved. Add the next one below."))
        url = reverse("hukou:section", kwargs={"case_number": number, "section": section})
        if request.POST.get("return") == "check":
            url += "?return=check"
        return redirect(url)
    if request.POST.get("return") == "check" or section == SECTIONS[-1]:
        return redirect("hukou:check", case_number=number)
    return redirect("hukou:section", case_number=number, section=SECTIONS[SECTIONS.index(section) + 1])


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def section(request, case_number, section):
    application = _own_application(request, case_number)
    if application.status not in EDITABLE_STATUSES:
        return _not_editable(request, application)
    posted = request.method == "POST"
    # A draft may be saved half-answered (to leave, or to add another row or file); once submitted, every saved
    # answer must be complete.
    draft = posted and request.POST.get("action") in ("leave", "add") and application.status == Status.DRAFT
    data = (request.POST, request.FILES) if posted else ()
    page = SECTION_PAGES[section](request, application, data, draft)
    if posted and page.is_valid():
        try:
            with transaction.atomic():
                page.save()
        except DocumentAttachError:
            # A kept-upload token from another application's form: the file stays where it is.
            page.errors.append(_("One of the files belongs to another application. Choose the file again."))
        except TransitionError:
            application.refresh_from_db()
            return _not_editable(request, application)
        except ValidationError as exc:
            page.errors.extend(exc.messages)
        else:
            return _after_save(request, application, section)

    step = SECTIONS.index(section) + 1
    return_to_check = request.GET.get("return") == "check" or request.POST.get("return") == "check"
    context = {
        "application": application,
        "form": page.form,
        "formset": page.formset,
        "page_errors": page.errors,
        "section": section,
        "section_title": SECTION_TITLES[section],
        "step": step,
        "steps": len(SECTIONS),
        "return_to_check": return_to_check,
        "previous": SECTIONS[step - 2] if step > 1 else None,
        # Coming back from the check page (or answering a request), the points to fix here are repeated.
        "to_fix": (
            [p for p in problems(application) if p["section"] == section]
            if not posted and (return_to_check or application.status != Status.DRAFT)
            else []
        ),
        **page.context,
    }
    template = f"hukou/section_{section}.html"
    return render(request, template, context, status=400 if posted else 200)


# --- check and submit --------------------------------------------------------------------------------


def _answers_context(application):
    """The answers as the check page and the status page show them (ages on the day of application)."""
    a = application
    movers = list(a.movers.select_related("power_of_attorney"))
    day = drafts.application_day(a)
    documents = current_documents(a)
    authorisations = [
        (_("Power of attorney of %(name)s") % {"name": m.name}, m.power_of_attorney) for m in movers if not m.present
    ]
    if a.category == Category.JOIN_RELATIVES and a.receiving_party and not a.receiving_present:
        authorisations.append(
            (_("Power of attorney of the person applying for the household you join"), a.receiving_power_of_attorney)
        )
    if a.category == Category.JOIN_RELATIVES and a.receiving_party == ReceivingParty.FAMILY_MEMBER:
        authorisations.append((DocumentKind.HOUSEHOLDER_CONSENT.label, a.householder_consent))
    return {
        "movers": [(m, m.age_on(day)) for m in movers],
        "staying": [(p, p.age_on(day)) for p in a.staying_members.all()],
        "application_day": day,
        "authorisations": authorisations,
        "upload_rows": [(DocumentKind(kind).label, documents.get(kind, [])) for kind in UPLOAD_KINDS],
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def check(request, case_number):
    """Every answer on one page, every problem with a link to fix it, the declaration and submit."""
    application = _own_application(request, case_number, "householder_consent", "receiving_power_of_attorney")
    if application.status not in EDITABLE_STATUSES:
        return _not_editable(request, application)
    resubmit = application.status == Status.INFO_REQUESTED
    form = SubmitForm(request.POST if request.method == "POST" and not resubmit else None)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            previous = application.declaration_at
            try:
                with transaction.atomic():
                    # The declaration is dated when it is ticked at submission; undone if submission fails.
                    now = timezone.now()
                    MigrationApplication.objects.filter(pk=application.pk, status=application.status).update(
                        declaration_at=now
                    )
                    application.declaration_at = now
                    services.hukou_submit(application=application, by=request.user)
            except (TransitionError, ValidationError) as exc:
                application.declaration_at = previous
                _submission_errors(form, exc)
            else:
                return redirect("hukou:submitted", case_number=application.case_number)
    context = {
        "application": application,
        "form": form,
        "resubmit": resubmit,
        "problems": problems(application),
        "contact_confirmed": request.user.contact_confirmed,
        "sections": SECTIONS,
        "section_titles": SECTION_TITLES,
        **_answers_context(application),
    }
    return render(request, "hukou/check.html", context, status=status)


def _submission_errors(form, exc):
    """The service's refusal on the form: contact details and conflicts word for word, the listed problems counted."""
    if not isinstance(exc, ValidationError):
        form.add_error(None, str(exc))
        return
    listed = 0
    for error in exc.error_list:
        if error.code == "contact_unconfirmed":
            form.add_error(None, error.messages[0])
        else:
            listed += 1
    if listed:
        form.add_error(
            None,
            _(
                "The application cannot be submitted yet: fix the points listed under “Still to do before you "
                "submit” first."
            ),
        )


@login_required
@never_cache
def submitted(request, case_number):
    """The confirmation after submission: the case number and what happens next."""
    application = _own_application(request, case_number)
    if application.status == Status.DRAFT:
        return redirect("hukou:check", case_number=application.case_number)
    return render(request, "hukou/submitted.html", {"application": application, "limits": CLOCK_LIMITS})


# --- status, the answer to a request for information, withdrawal, deleting a draft -----------------------


STOPPED = (Status.REFUSED, Status.WITHDRAWN, Status.PAPER)


def _stage(application):
    """(number, title) of the stage the case is in, or stopped in: a request for information, a refusal, a
    withdrawal and the switch to paper belong to the stage they happened in."""
    status = application.status
    if status in (Status.REFUSED, Status.WITHDRAWN):
        last = application.public_timeline().order_by("-at", "-pk").first()
        status = last.from_status if last else ""
    if status == Status.PAPER:
        status = application.paper_switched_from
    if status == Status.INFO_REQUESTED:
        status = application.info_requested_in
    number = STAGES.get(status)
    return (number, STAGE_TITLES[number]) if number else (None, "")


def _detail_context(application, reply_form=None):
    acting = application.acting_office()
    actor = application.acting_actor
    requesting = None
    if application.status == Status.INFO_REQUESTED:
        request_row = (
            application.public_timeline().filter(to_status=Status.INFO_REQUESTED).select_related("office").last()
        )
        requesting = request_row.office if request_row else None
    stage, stage_title = _stage(application)
    return {
        "application": application,
        "statuses": Status,
        "stage": stage,
        "stage_title": stage_title,
        "stages": sorted(STAGE_TITLES.items()),
        "stopped": application.status in STOPPED,
        "closed": application.status in FINAL_STATUSES,
        "acting_office": acting,
        "applicant_acts": actor == Actor.APPLICANT,
        "requesting_office": requesting,
        "timeline": [
            {
                "at": entry.at,
                "label": application.status_label(entry.to_status),
                "office": entry.office,
                "note": entry.note,
            }
            for entry in application.public_timeline().select_related("office")
        ],
        "reply_form": reply_form or (ReplyForm() if application.status == Status.INFO_REQUESTED else None),
        "editable": application.status in EDITABLE_STATUSES,
        "withdrawable": application.status in WITHDRAWABLE,
        **_answers_context(application),
    }


@login_required
@never_cache
def detail(request, case_number):
    application = _own_application(request, case_number)
    return render(request, "hukou/detail.html", _detail_context(application))


@login_required
@never_cache
@require_http_methods(["POST"])
def reply(request, case_number):
    """The answer to a request for more information: back to the office that asked, its clock resumed."""
    application = _own_application(request, case_number)
    if application.status != Status.INFO_REQUESTED:
        messages.info(request, _("No information is requested for application %(number)s.") % {"number": case_number})
        return redirect("hukou:detail", case_number=case_number)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                now = timezone.now()
                MigrationApplication.objects.filter(pk=application.pk, status=application.status).update(
                    declaration_at=now
                )
                services.hukou_resubmit(application=application, by=request.user, reply=form.cleaned_data["reply"])
        except (TransitionError, ValidationError) as exc:
            application.refresh_from_db()
            for message in error_messages(exc):
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("Your answer is sent. %(number)s is back with the office that asked, and its clock runs again.")
                % {"number": case_number},
            )
            return redirect("hukou:detail", case_number=case_number)
    return render(request, "hukou/detail.html", _detail_context(application, reply_form=form), status=400)


# The confirmation pages to withdraw an application and to delete a draft, shared with the other services.
withdraw, delete_draft = confirmation_views(
    "hukou",
    get_case=_own_application,
    withdrawable=WITHDRAWABLE,
    withdraw=services.hukou_withdraw,
    delete_draft=drafts.hukou_delete_draft,
)
