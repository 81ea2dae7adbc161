"""Issued documents (read-only, scoped to the issuing office), their downloads and the verification log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.scoping import AdministratorsReadOnlyAdminMixin, OfficeScopedAdminMixin, ReadOnlyAdminMixin
from portal.bigtables import BigTableAdminMixin, IndexedValuesFieldListFilter

from .codes import normalize_code
from .models import IssuedDocument, IssuedDocumentAccess, ShareCode, ShareCodeUse, VerificationLog


class IssuedKindFilter(IndexedValuesFieldListFilter):
    """The document-type filter: each type named by the title of a document of that type (one query of an indexed
    probe per type), in the staff member's language, never the raw key such as ncr_certificate."""

    def choices(self, changelist: Any) -> Iterator[Any]:
        from django.utils.translation import get_language

        english = (get_language() or "").startswith("en")
        labels: dict[str, str] = {}
        kinds = [kind for kind in self.lookup_choices if kind]
        if kinds:
            # One query on PostgreSQL: a UNION ALL of one indexed probe per type.
            probes = [
                IssuedDocument.objects.filter(kind=kind).order_by().values_list("kind", "title", "title_en")[:1]
                for kind in kinds
            ]
            from django.db import connections

            compound = connections[IssuedDocument.objects.db].features.supports_slicing_ordering_in_compound
            if len(probes) == 1:
                rows = list(probes[0])
            elif compound:
                rows = list(probes[0].union(*probes[1:], all=True))
            else:  # SQLite: no LIMIT inside a UNION; a probe per type (a handful)
                rows = [row for probe in probes for row in probe]
            for kind, title, title_en in rows:
                labels[kind] = (title_en if english and title_en else title) or kind
        for choice in super().choices(changelist):
            display = choice.get("display")
            if isinstance(display, str) and display in labels:
                choice = {**choice, "display": labels[display]}
            yield choice


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(
    BigTableAdminMixin, OfficeScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin[IssuedDocument]
):
    office_fields = ("issuing_office",)
    service_type_field = "source_type"  # documents of every service: only those of the staff member's agency
    list_display = (
        "code",
        "title",
        "masked_holder",
        "issuing_office",
        "status",
        "issued_at",
        "valid_until",
        "verification_count",
    )
    list_filter = ("status", ("kind", IssuedKindFilter))
    list_select_related = ("issuing_office",)
    search_fields = ("code",)
    date_hierarchy = None
    fields = (
        "code",
        "kind",
        "title",
        "title_en",
        "source_type",
        "source_id",
        "generation",
        "holder_name",
        "holder_birth_date",
        "issuing_office",
        "issued_at",
        "valid_until",
        "status",
        "revoked_at",
        "revoke_reason",
        "public_reason",
        "superseded",
        "revoked_by",
        "download",
        "sha256",
        "size",
        "generated_at",
        "verification_count",
        "last_verified_at",
    )
    readonly_fields = fields

    @admin.display(description=_("holder"))
    def masked_holder(self, obj: IssuedDocument) -> str:
        return obj.masked_holder_name

    @admin.display(description=_("PDF"))
    def download(self, obj: IssuedDocument) -> str:
        if not obj.file:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("verify:download", args=[obj.code]), _("Download (logged)"))

    def has_view_permission(self, request: HttpRequest, obj: IssuedDocument | None = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[IssuedDocument], search_term: str
    ) -> tuple[QuerySet[IssuedDocument], bool]:
        # Codes are read aloud and typed: accept any spelling normalize_code() accepts.
        code = normalize_code(search_term)
        if code:
            return queryset.filter(code=code), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(IssuedDocumentAccess)
class IssuedDocumentAccessAdmin(
    BigTableAdminMixin, AdministratorsReadOnlyAdminMixin, admin.ModelAdmin[IssuedDocumentAccess]
):
    list_display = ("at", "document", "user", "ip")
    list_select_related = ("document", "user")
    raw_id_fields = ("document",)


@admin.register(VerificationLog)
class VerificationLogAdmin(BigTableAdminMixin, AdministratorsReadOnlyAdminMixin, admin.ModelAdmin[VerificationLog]):
    list_display = ("at", "channel", "result", "document", "client_ip")
    list_filter = ("channel", ("result", IndexedValuesFieldListFilter))
    list_select_related = ("document",)


class ShareCodeUseInline(admin.TabularInline[ShareCodeUse, ShareCode]):
    model = ShareCodeUse
    fields = ("at", "organisation", "matched", "notify_email", "notified_at", "client_ip")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: ShareCode | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ShareCode | None = None) -> bool:
        return False


@admin.register(ShareCode)
class ShareCodeAdmin(BigTableAdminMixin, AdministratorsReadOnlyAdminMixin, admin.ModelAdmin[ShareCode]):
    """Administrators only, read-only: the codes themselves are never stored, only their hash and last group."""

    list_display = ("created_at", "document", "organisation", "purpose", "expires_at", "cancelled_at")
    list_select_related = ("document",)
    raw_id_fields = ("document", "holder")
    fields = ("document", "holder", "code_hint", "organisation", "purpose", "created_at", "expires_at", "cancelled_at")
    readonly_fields = fields
    inlines = (ShareCodeUseInline,)


@admin.register(ShareCodeUse)
class ShareCodeUseAdmin(BigTableAdminMixin, AdministratorsReadOnlyAdminMixin, admin.ModelAdmin[ShareCodeUse]):
    list_display = ("at", "share", "organisation", "matched", "notified_at", "client_ip")
    list_select_related = ("share",)
    raw_id_fields = ("share",)
