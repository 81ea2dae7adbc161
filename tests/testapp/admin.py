from django.contrib import admin

from accounts.scoping import OfficeScopedAdminMixin

from .models import SampleCase


@admin.register(SampleCase)
class SampleCaseAdmin(OfficeScopedAdminMixin, admin.ModelAdmin):
    list_display = ("case_number", "status", "office", "due_date")
    search_fields = ("case_number",)
    autocomplete_fields = ("office",)
    raw_id_fields = ("applicant",)
    export_fields = ("case_number", "status", "reason")
    actions = ("export_csv", "approve")

    @admin.action(description="Approve")
    def approve(self, request, queryset):
        from portal.cases.services import transition

        for case in queryset:
            transition(case, to="approved", by=request.user, allowed_from=("submitted",))
