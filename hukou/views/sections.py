"""Starting an application and its sections, each a form or formset of people saved through hukou.drafts; a draft
may be left half-answered."""

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.cases.kept import forget_typed, keep_typed, kept_data, kept_message
from portal.cases.services import TransitionError
from portal.documents.services import DocumentAttachError

from .. import drafts
from ..constants import (
    MAX_PEOPLE,
    UPLOAD_KINDS,
    Category,
    DocumentKind,
    Grounds,
    ReceivingParty,
    Relation,
    Status,
    all_materials,
    move_materials,
)
from ..forms import (
    AuthorisationsForm,
    DestinationForm,
    DocumentsForm,
    MoverForm,
    MoverFormSet,
    OriginForm,
    StartForm,
    StayingForm,
    StayingFormSet,
    people_formset,
    people_initial,
)
from .check import problems
from .common import PAGES, SECTION_TITLES, SECTIONS, current_documents

MAX_NEW_ROWS = 5  # empty rows of people offered at once


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def apply(request):
    """First page: the category and the move-in police station. Creates the draft with its case number."""
    # Coming from the pre-check, its answers start the application.
    carried = ("category", "grounds", "receiving_party", "receiving_family_member_relation")
    initial = {name: request.GET[name] for name in carried if request.GET.get(name)}
    form = StartForm(request.POST if request.method == "POST" else None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            application = drafts.hukou_create_draft(
                applicant=request.user,
                category=form.cleaned_data["category"],
                grounds=form.cleaned_data["grounds"],
                office=form.cleaned_data["office"],
                answers=form.start_answers(),
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
        "materials": all_materials(),
        "from_precheck": bool(initial.get("category") and initial.get("grounds")),
    }
    return render(request, "hukou/apply.html", context, status=400 if form.is_bound else 200)


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
    return _Page(
        lambda: drafts.hukou_save_answers(application=a, by=request.user, fields=form.answers()),
        form=form,
        context={"shown": form.shown},
    )


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
        if application.category == Category.WHOLE_HOUSEHOLD:
            initial[0]["relation"] = Relation.HEAD  # the head of a whole household applies
    formset_class = people_formset(MoverForm, MoverFormSet, extra=_extra_rows(request, movers))
    formset = formset_class(*data[:1], prefix="movers", initial=initial, draft=draft)
    _show_ages(formset)
    return _Page(
        lambda: drafts.hukou_save_movers(application=application, by=request.user, movers=formset.rows()),
        formset=formset,
    )


def _origin_page(request, application, data, draft):
    """The household left. The head who moves is not asked for again; in a whole-household move nobody stays, so
    no rows of people staying are shown (and any left from an earlier answer are cleared on saving)."""
    a = application
    movers = list(a.movers.all())
    head = next((m for m in movers if m.is_head), None)
    form = OriginForm(*data[:1], draft=draft, instance=a, moving_head=head)
    whole = a.category == Category.WHOLE_HOUSEHOLD
    formset = None
    if not whole:
        staying = people_initial(StayingForm, a.staying_members.all())
        formset_class = people_formset(StayingForm, StayingFormSet, extra=_extra_rows(request, staying))
        formset = formset_class(
            *data[:1],
            prefix="staying",
            initial=staying,
            # Finding a station without JavaScript is no answer yet: the rows report nothing missing either.
            draft=draft or bool(form.finding),
            moving_numbers=[m.id_number for m in movers],
            head_moves=head is not None,
        )
        _show_ages(formset)
    return _Page(
        lambda: drafts.hukou_save_staying(
            application=a, by=request.user, fields=form.answers(), staying=formset.rows() if formset else []
        ),
        form=form,
        formset=formset,
        context={"head": head, "whole_household": whole},
    )


def _extra_rows(request, saved) -> int:
    """Empty rows under those saved: one, or the number asked for with "Add more people" (several per round trip)."""
    try:
        wanted = int(request.GET.get("rows", 1))
    except ValueError:
        wanted = 1
    return max(1, min(wanted, MAX_NEW_ROWS, MAX_PEOPLE - len(saved)))


def _authorisations_page(request, application, data, draft):
    a = application
    movers = list(a.movers.select_related("power_of_attorney"))
    joining = a.grounds == Grounds.JOIN_RELATIVES
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
            "materials": move_materials(application.category, application.grounds),
        },
    )


SECTION_PAGES = {
    "destination": _destination_page,
    "movers": _movers_page,
    "origin": _origin_page,
    "authorisations": _authorisations_page,
    "documents": _documents_page,
}


def _after_save(request, application, section):
    number = application.case_number
    action = request.POST.get("action")
    if action == "leave":
        messages.success(request, _("Your answers are saved. You can continue %(number)s later.") % {"number": number})
        if application.status == Status.DRAFT:
            return redirect("hukou:index")
        return redirect("hukou:detail", case_number=number)
    if action == "add":
        messages.success(request, _("Saved. Add the next ones below."))
        url = reverse("hukou:section", kwargs={"case_number": number, "section": section})
        query = {"rows": request.POST.get("add_rows", "1")} if section in ("movers", "origin") else {}
        if request.POST.get("return") == "check":
            query["return"] = "check"
        return redirect(f"{url}?{urlencode(query)}" if query else url)
    return PAGES.after_section(request, application, section, SECTIONS)


@PAGES.editable_page
def section(request, application, section):
    posted = request.method == "POST"
    # A draft may be saved half-answered (to leave, or to add another row or file); once submitted, every saved
    # answer must be complete.
    draft = posted and request.POST.get("action") in ("leave", "add") and application.status == Status.DRAFT
    data = (request.POST, request.FILES) if posted else ()
    kept = None if posted else kept_data(application, section)
    if kept is not None:
        # What was typed here and kept with the draft comes back as it was, with what to fix next to it.
        data, draft = (kept, MultiValueDict()), True
    page = SECTION_PAGES[section](request, application, data, draft)
    if kept is not None:
        page.is_valid()
    if posted and page.is_valid():
        try:
            with transaction.atomic():
                page.save()
                forget_typed(application, section)
        except DocumentAttachError:
            # A kept-upload token from another application's form: the file stays where it is (and is not kept).
            page.errors.append(_("One of the files belongs to another application. Choose the file again."))
            draft = False
        except TransitionError:
            application.refresh_from_db()
            return PAGES.not_editable(request, application)
        except ValidationError as exc:
            page.errors.extend(exc.messages)
        else:
            return _after_save(request, application, section)
    if draft and posted:
        # Saving a draft keeps everything typed, valid or not: the page comes back as it was when opened again.
        parts = (page.form, page.formset)
        if keep_typed(application, section, data=request.POST, parts=parts, problems=page.errors):
            messages.warning(request, kept_message(application))
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
            [p for p in problems(application) if p["section"] == section and (kept is None or p["code"] == "kept")]
            if not posted and (return_to_check or application.status != Status.DRAFT or kept is not None)
            else []
        ),
        **page.context,
    }
    template = f"hukou/section_{section}.html"
    return render(request, template, context, status=400 if posted else 200)
