"""Documents in the admin: read-only, scoped to the staff member's offices; the view log for administrators."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.scoping import AdministratorsReadOnlyAdminMixin, OfficeScopedAdminMixin, ReadOnlyAdminMixin
from portal.bigtables import BigTableAdminMixin, IndexedValuesFieldListFilter

from .models import Document, DocumentAccess


@admin.register(Document)
class DocumentAdmin(BigTableAdminMixin, OfficeScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    office_fields = ("office",)
    service_type_field = "case_type"  # uploads of every service: only those of the staff member's agency
    list_display = (
        "public_id",
        "kind",
        "owner_display",
        "case_display",
        "office",
        "mime_type",
        "created_at",
        "download",
    )
    list_filter = (("kind", IndexedValuesFieldListFilter),)
    list_select_related = ("owner", "office", "case_type")
    search_fields = ("=public_id",)
    # `file` is left out on purpose: its default display would ask the private storage for a URL.
    fields = (
        "public_id",
        "kind",
        "owner_display",
        "case_display",
        "office",
        "original_name",
        "mime_type",
        "size",
        "width",
        "height",
        "sha256",
        "created_at",
        "attached_at",
        "download",
        "preview",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # The case column follows a generic relation: one query per case type, not one per row.
        return super().get_queryset(request).prefetch_related("case")

    def has_view_permission(self, request, obj=None):
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    @admin.display(description=_("owner"))
    def owner_display(self, obj):
        # The masked name is enough to tell files apart; the full record is on the case.
        return obj.owner.masked_name

    @admin.display(description=_("case"))
    def case_display(self, obj):
        if obj.case_id is None:
            return _("not attached")
        case = obj.case
        return str(case) if case is not None else f"{obj.case_type} #{obj.case_id}"

    @admin.display(description=_("download"))
    def download(self, obj):
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), _("Download"))

    @admin.display(description=_("preview"))
    def preview(self, obj):
        if not obj.is_image:
            return "-"
        # Loading the image is a logged view like a download.
        return format_html(
            '<img src="{}" alt="{}" class="documents-preview" width="{}" height="{}">',
            obj.inline_url,
            obj.original_name,
            min(obj.width or 480, 480),
            int((obj.height or 480) * min(obj.width or 480, 480) / (obj.width or 480)),
        )


@admin.register(DocumentAccess)
class DocumentAccessAdmin(BigTableAdminMixin, AdministratorsReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "document", "user", "ip", "inline")
    list_select_related = ("document", "user")
    list_filter = ("inline",)
    search_fields = ("=document__public_id", "=user__username")
    date_hierarchy = "at"
    fields = ("at", "document", "user", "ip", "inline")
    readonly_fields = fields
