"""The outbox in the admin: read-only, for administrators only, with "retry now" for failed messages."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.bigtables import BigTableAdminMixin

from .delivery import outbox_retry
from .models import MessageStatus, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(BigTableAdminMixin, admin.ModelAdmin):
    list_display = ("channel", "masked_recipient", "template", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "channel")
    search_fields = ("template",)
    list_per_page = 50
    actions = ("retry_now",)
    fields = (
        "channel",
        "to",
        "user",
        "template",
        "subject",
        "body",
        "html_body",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "provider_id",
    )
    readonly_fields = fields

    @admin.display(description=_("to"))
    def masked_recipient(self, obj):
        return obj.masked_to

    # Administrators only (the view permission, granted to their role by accounts' migration 0008, and held by
    # superusers); nobody adds, edits or deletes outbox rows by hand. Django's default module and view checks ask
    # for that permission.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.has_perm("notify.view_outboxmessage")

    @admin.action(description=_("Retry the selected failed messages now"), permissions=["retry"])
    def retry_now(self, request, queryset):
        count = outbox_retry(message_ids=queryset.filter(status=MessageStatus.FAILED).values_list("pk", flat=True))
        skipped = queryset.count() - count
        if count:
            self.message_user(
                request,
                ngettext("%(count)d message will be sent again.", "%(count)d messages will be sent again.", count)
                % {"count": count},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message was skipped: only failed messages can be retried.",
                    "%(count)d messages were skipped: only failed messages can be retried.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
