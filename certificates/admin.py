"""The police station's queue and review page, and the administrators' criminal-record register with CSV import."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.scoping import OfficeScopedAdminMixin, is_administrator
from portal.bigtables import EstimatedCountPaginator, IndexedValuesFieldListFilter
from portal.cases.admin import CaseReviewAdminMixin, DueStateFilter, countdown
from portal.documents.services import documents_for_case

from . import services
from .models import Application, CriminalRecord, Status

ACTION_LABELS = {
    "accept": _("Accept"),
    "request_info": _("Request more information"),
    "approve": _("Approve and issue the certificate"),
    "refuse": _("Refuse (issues a refusal notice)"),
    "revoke": _("Revoke the certificate"),
    "reissue": _("Reissue the certificate"),
    "paper_printed": _("Mark the paper copy printed"),
    "paper_collected": _("Mark the paper copy collected"),
}
# The actions that need a text, and what the text is.
ACTION_TEXT = {
    "request_info": _("What must the applicant add or correct? (sent to the applicant)"),
    "refuse": _("Reason for the refusal (printed on the refusal notice)"),
    "revoke": _("Reason for the revocation (shown to the applicant and on the verification page)"),
    "reissue": _("Reason for reissuing"),
    "approve": _("Note (optional, for the timeline)"),
}
ACTION_DONE = {
    "accept": _("Application %(number)s accepted; the time limit runs from today."),
    "request_info": _("More information requested for %(number)s; the time limit is paused."),
    "approve": _("Application %(number)s approved; the certificate is being generated."),
    "refuse": _("Application %(number)s refused; the refusal notice is being generated."),
    "revoke": _("The certificate of %(number)s is revoked."),
    "reissue": _("The certificate of %(number)s is revoked and a new one is being generated."),
    "paper_printed": _("Paper copy of %(number)s marked printed; the applicant has been told to collect it."),
    "paper_collected": _("Paper copy of %(number)s marked collected."),
}


def _run_action(action, *, application, by, text):
    if action == "accept":
        return services.application_accept(application=application, by=by)
    if action == "request_info":
        return services.application_request_info(application=application, by=by, message=text)
    if action == "approve":
        return services.application_approve(application=application, by=by, note=text)
    if action == "refuse":
        return services.application_refuse(application=application, by=by, reason=text)
    if action == "revoke":
        return services.certificate_revoke(application=application, by=by, reason=text)
    if action == "reissue":
        return services.certificate_reissue(application=application, by=by, reason=text)
    if action == "paper_printed":
        return services.paper_mark_printed(application=application, by=by)
    if action == "paper_collected":
        return services.paper_mark_collected(application=application, by=by)
    raise ValueError(action)


@admin.register(Application)
class ApplicationAdmin(CaseReviewAdminMixin, OfficeScopedAdminMixin, admin.ModelAdmin):
    review_action_labels = ACTION_LABELS
    review_action_done = ACTION_DONE
    office_fields = ("office",)
    list_display = ("case_number", "holder_display", "status", "purpose_display", "due_date", "countdown_display")
    list_filter = ("status", DueStateFilter, "delivery")
    search_fields = ("=case_number", "holder_name", "=holder_id_number")
    list_select_related = ("office",)
    list_per_page = 50
    show_full_result_count = False
    # Newest first by primary key (issued in creation order): a backward scan of the primary key finds the first
    # page of a large office's queue at once, where "-created_at" sorted every row of the office (bench/pages.py).
    ordering = ("-pk",)
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

    def get_readonly_fields(self, request, obj=None):
        return [field for _name, options in self.fieldsets for field in options["fields"]]

    def get_queryset(self, request):
        # Drafts are the citizen's own business until submitted.
        return super().get_queryset(request).exclude(status=Status.DRAFT)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("holder"), ordering="holder_name")
    def holder_display(self, obj):
        return obj.masked_holder_name

    @admin.display(description=_("purpose"))
    def purpose_display(self, obj):
        return obj.purpose_text

    @admin.display(description=_("time left"))
    def countdown_display(self, obj):
        return countdown(obj)

    # --- the review page --------------------------------------------------------------------------

    def review_context(self, request, application):
        certificate = services.current_certificate(application=application)
        matches = services.register_matches(id_number=application.holder_id_number)
        may_act = self.has_change_permission(request, application)
        actions = services.available_actions(application=application, certificate=certificate) if may_act else []
        own = services._same_person(request.user, application)
        return {
            "application": application,
            "review_documents": list(documents_for_case(application).order_by("kind", "-created_at")),
            "register_matches": matches,
            "register_blocking": [m for m in matches if not m.sealed],
            "timeline": self.timeline_context(application),
            "certificate": certificate,
            "refusal_notice": services.refusal_notice(application=application),
            "countdown": countdown(application),
            "own_application": own,
            "review_actions": [
                {
                    "name": name,
                    "label": ACTION_LABELS[name],
                    "text_label": ACTION_TEXT.get(name),
                    "text_required": name in ("request_info", "refuse", "revoke", "reissue"),
                    "url": self.review_action_url(application, name),
                    "danger": name in ("refuse", "revoke"),
                }
                for name in ([] if own else actions)
            ],
        }

    def run_review_action(self, request, application, action):
        _run_action(action, application=application, by=request.user, text=request.POST.get("text", ""))


# --- the register ----------------------------------------------------------------------------------------


class RegisterImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, with the header line id_number,name,offence,court,judgment_date,sentence,sentence_months,"
            "age_at_offence. Dates as YYYY-MM-DD. If any row is wrong, nothing is imported."
        ),
    )


@admin.register(CriminalRecord)
class CriminalRecordAdmin(admin.ModelAdmin):
    """Administrators only: officers see matches on the review page of an application, never the register."""

    list_display = (
        "masked_id_number",
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

    def _admin(self, request):
        return is_administrator(request.user)

    def has_module_permission(self, request):
        return self._admin(request)

    def has_view_permission(self, request, obj=None):
        return self._admin(request)

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
        if not (self._admin(request) and super().has_add_permission(request)):
            raise PermissionDenied
        report = None
        form = RegisterImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            report = services.register_import_csv(file=form.cleaned_data["file"], by=request.user)
            if report.ok:
                self.message_user(
                    request,
                    ngettext("%(count)d record imported.", "%(count)d records imported.", report.imported)
                    % {"count": report.imported},
                    messages.SUCCESS,
                )
            else:
                self.message_user(request, _("Nothing was imported: correct the file and try again."), messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import the criminal-record register (CSV)"),
            "form": form,
            "report": report,
        }
        return TemplateResponse(
            request,
            "certificates/admin/register_import.html",
            context,
            status=400 if report is not None and not report.ok else 200,
        )
