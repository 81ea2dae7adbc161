"""The police station's queue and review page; the administrators' criminal-record register and its import jobs."""

import csv
import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.scoping import is_administrator, safe_csv_cell
from portal.bigtables import EstimatedCountPaginator, IndexedValuesFieldListFilter
from portal.cases.admin import DueStateFilter, countdown
from portal.cases.queues import AssignmentFilter, InboxFilter, ReviewedCaseAdmin

from . import services
from .forms import DOCUMENT_LABELS
from .models import Application, CriminalRecord, ImportKind, ImportOutcome, ImportPhase, RegisterImport
from .workflow import WORKFLOW, concerns

logger = logging.getLogger("certificates.admin")


def _labelled(documents):
    # What each upload is, as the review page names it (its image's alt text too): the citizen's form's words.
    for document in documents:
        document.kind_label = DOCUMENT_LABELS.get(document.kind, document.kind)
    return documents


@admin.register(Application)
class ApplicationAdmin(ReviewedCaseAdmin):
    workflow = WORKFLOW
    list_display = (
        "case_number",
        "holder_display",
        "status",
        "purpose_display",
        "due_date",
        "countdown_display",
        "assigned_to",
    )
    list_filter = (InboxFilter, AssignmentFilter, "status", DueStateFilter, "delivery")
    search_fields = ("=case_number", "holder_name", "=holder_id_number")
    queue_person_fields = (("holder_name", "holder_id_number"), ("applicant__real_name", "applicant__id_number"))
    list_select_related = ("office", "assigned_to")
    change_form_template = "certificates/admin/application_review.html"
    export_fields = ("case_number", "status", "reason", "delivery", "submitted_at", "due_date")
    # Citizen data is never edited here: every change is an action calling a service.
    fieldsets = (
        (
            _("Case"),
            {
                "fields": (
                    "case_number",
                    "status",
                    "office",
                    "submitted_at",
                    "accepted_at",
                    "due_date",
                    "decided_by",
                    "decided_at",
                )
            },
        ),
        (
            _("Holder"),
            {
                "fields": (
                    "for_self",
                    "holder_name",
                    "holder_id_type",
                    "holder_id_number",
                    "holder_sex",
                    "holder_birth_date",
                )
            },
        ),
        (
            _("Purpose and delivery"),
            {
                "fields": (
                    "reason",
                    "destination_country",
                    "reason_other",
                    "receiving_organisation",
                    "delivery",
                    "collection_office",
                )
            },
        ),
        (
            _("Review"),
            {
                "fields": (
                    "info_request",
                    "citizen_reply",
                    "refusal_reason",
                    "register_checked_at",
                    "paper_printed_at",
                    "paper_collected_at",
                )
            },
        ),
    )

    @admin.display(description=_("holder"), ordering="holder_name")
    def holder_display(self, obj):
        return obj.masked_holder_name

    @admin.display(description=_("purpose"))
    def purpose_display(self, obj):
        return obj.purpose_text

    # --- the review page --------------------------------------------------------------------------

    def review_context(self, request, application):
        certificate = services.current_certificate(application=application)
        matches = services.register_matches(id_number=application.holder_id_number)
        may_act = self.has_change_permission(request, application)
        actions = services.available_actions(application=application, certificate=certificate) if may_act else []
        own = concerns(request.user, application)
        return {
            "application": application,
            "review_documents": _labelled(
                sorted(self.review_documents(request, application), key=lambda d: (d.kind, -d.created_at.timestamp()))
            ),
            "register_matches": matches,
            "register_blocking": [m for m in matches if not m.sealed],
            "timeline": self.timeline_context(application),
            "certificate": certificate,
            "refusal_notice": services.refusal_notice(application=application),
            "countdown": countdown(application),
            "own_application": own,
            "review_actions": self.review_actions(application, [] if own else actions),
        }


# --- the register ---------------------------------------------------------------------------------------


class RegisterImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=ImportKind.choices,
        initial=ImportKind.FULL,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, with the header line record_id,id_number,name,offence,court,judgment_date,sentence,"
            "sentence_months,age_at_offence (optionally sealed_by_order); a file of changes adds an action column "
            "(add, correct, seal or remove). Dates as YYYY-MM-DD. The import runs in the background; if any row is "
            "wrong, nothing changes."
        ),
    )


class AdministratorsOnlyMixin:
    """Administrators only: officers see matches on the review page of an application, never the register."""

    def _admin(self, request):
        return is_administrator(request.user)

    def has_module_permission(self, request):
        return self._admin(request)

    def has_view_permission(self, request, obj=None):
        return self._admin(request)


@admin.register(CriminalRecord)
class CriminalRecordAdmin(AdministratorsOnlyMixin, admin.ModelAdmin):
    list_display = (
        "masked_id_number",
        "record_id",
        "name",
        "offence",
        "judgment_date",
        "sentence",
        "sealed_display",
        "import_batch",
    )
    search_fields = ("=id_number",)
    list_filter = (("import_batch", IndexedValuesFieldListFilter),)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    readonly_fields = ("imported_at", "import_batch")
    change_list_template = "certificates/admin/criminalrecord_changelist.html"

    def get_search_results(self, request, queryset, search_term):
        # The register is searched by exact, normalised ID number (the indexed column) only.
        from accounts import idnumber

        return super().get_search_results(request, queryset, idnumber.normalize(search_term))

    def has_add_permission(self, request):
        return self._admin(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._admin(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._admin(request) and super().has_delete_permission(request, obj)

    @admin.display(description=_("ID number"), ordering="id_number")
    def masked_id_number(self, obj):
        from accounts import idnumber

        return idnumber.mask(obj.id_number)

    @admin.display(description=_("sealed"), boolean=True)
    def sealed_display(self, obj):
        return obj.sealed

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="{}_{}_import".format(*info)),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Store the file and queue the import; the job's page shows its progress."""
        if not (self._admin(request) and super().has_add_permission(request)):
            raise PermissionDenied
        form = RegisterImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job = services.register_import_start(
                file=form.cleaned_data["file"], kind=form.cleaned_data["kind"], by=request.user
            )
            self.message_user(
                request,
                _("The file is stored and import %(number)s is queued; this page shows its progress.")
                % {"number": job.pk},
                messages.SUCCESS,
            )
            return redirect("admin:certificates_registerimport_change", job.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import the criminal-record register (CSV)"),
            "form": form,
            "recent_imports": RegisterImport.objects.select_related("started_by")[:5],
        }
        return TemplateResponse(
            request,
            "certificates/admin/register_import.html",
            context,
            status=400 if request.method == "POST" else 200,
        )


def job_progress(job: RegisterImport) -> dict:
    """What the job page shows and the JSON endpoint answers."""
    if job.phase == ImportPhase.DONE and job.outcome == ImportOutcome.IMPORTED:
        percent = 100
    elif job.file_size:
        percent = min(99 if job.running else 100, int(job.bytes_read * 100 / job.file_size))
    else:
        percent = 0
    return {
        "id": job.pk,
        "kind": job.kind,
        "phase": job.phase,
        "phase_label": str(job.get_phase_display()),
        "outcome": job.outcome,
        "outcome_label": str(job.get_outcome_display()),
        "running": job.running,
        "cancel_requested": job.cancel_requested,
        "cancellable": job.cancellable,
        "rows_read": job.rows_read,
        "rows_rejected": job.rows_rejected,
        "rows_imported": job.rows_imported,
        "bytes_read": job.bytes_read,
        "file_size": job.file_size,
        "percent": percent,
        "changed_cases_count": job.changed_cases_count,
        "error": job.error,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


@admin.register(RegisterImport)
class RegisterImportAdmin(AdministratorsOnlyMixin, admin.ModelAdmin):
    """The import jobs: who started which file when, and what came of it; each job's page shows its progress."""

    list_display = (
        "__str__",
        "kind",
        "phase",
        "outcome",
        "started_by",
        "created_at",
        "finished_at",
        "rows_read",
        "rows_rejected",
        "rows_imported",
        "short_sha256",
    )
    list_filter = ("kind", "outcome")
    list_select_related = ("started_by",)
    ordering = ("-pk",)

    def has_add_permission(self, request):
        return False  # through the register's import form

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the record of who imported what stays

    @admin.display(description=_("SHA-256"))
    def short_sha256(self, obj):
        return obj.sha256[:16] + "…"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/progress.json", view(self.progress_view), name="certificates_registerimport_progress"),
            path("<int:pk>/cancel/", view(self.cancel_view), name="certificates_registerimport_cancel"),
            path("<int:pk>/restart/", view(self.restart_view), name="certificates_registerimport_restart"),
            path("<int:pk>/rejections.csv", view(self.rejections_view), name="certificates_registerimport_rejections"),
            *super().get_urls(),
        ]

    def _job(self, request, pk) -> RegisterImport:
        if not self._admin(request):
            raise PermissionDenied
        return get_object_or_404(RegisterImport.objects.select_related("started_by", "cancelled_by"), pk=pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            pk = int(object_id)
        except (TypeError, ValueError):
            raise Http404 from None
        job = self._job(request, pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(job),
            "job": job,
            "progress": job_progress(job),
            "counts": sorted(job.counts.items()),
            "register_opts": CriminalRecord._meta,
        }
        return TemplateResponse(request, "certificates/admin/register_import_job.html", context)

    def progress_view(self, request, pk):
        response = JsonResponse(job_progress(self._job(request, pk)))
        response["Cache-Control"] = "no-store"
        return response

    def cancel_view(self, request, pk):
        job = self._job(request, pk)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if services.register_import_cancel(job=job, by=request.user):
            self.message_user(request, _("Import %(number)s is cancelled; nothing changes.") % {"number": job.pk})
        else:
            self.message_user(
                request,
                _("Import %(number)s can no longer be cancelled.") % {"number": job.pk},
                messages.ERROR,
            )
        return redirect("admin:certificates_registerimport_change", job.pk)

    def restart_view(self, request, pk):
        job = self._job(request, pk)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not (self._admin(request) and request.user.has_perm("certificates.add_criminalrecord")):
            raise PermissionDenied
        try:
            new = services.register_import_restart(job=job, by=request.user)
        except ValueError:
            self.message_user(request, _("Only a failed or cancelled import can run again."), messages.ERROR)
            return redirect("admin:certificates_registerimport_change", job.pk)
        self.message_user(request, _("Import %(number)s is queued with the same file.") % {"number": new.pk})
        return redirect("admin:certificates_registerimport_change", new.pk)

    def rejections_view(self, request, pk):
        """The rejected rows as CSV (line, reason), safe to open in a spreadsheet."""
        job = self._job(request, pk)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="register-import-{job.pk}-rejected.csv"'
        response.write("\ufeff")  # BOM so that spreadsheet programs read UTF-8
        writer = csv.writer(response)
        writer.writerow([safe_csv_cell(_("Line")), safe_csv_cell(_("Reason"))])
        for line, reason in job.rejections:
            writer.writerow([safe_csv_cell(line), safe_csv_cell(reason)])
        if job.more_rejected:
            more = ngettext(
                "and %(count)d more rejected row", "and %(count)d more rejected rows", job.more_rejected
            ) % {"count": job.more_rejected}
            writer.writerow(["", safe_csv_cell(more)])
        logger.info("register import %s: rejections downloaded by user %s", job.pk, request.user.pk)
        return response
