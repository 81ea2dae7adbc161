"""Staff publish policies, notices and answers to common questions (imported by familyplanning/admin.py): scoped to their offices."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.scoping import ALL, OfficeScopedAdminMixin, scoped_office_ids

from . import services
from .models import PolicyArticle

FIELDSETS = (
    (None, {"fields": ("kind", "title_zh", "body_zh", "title_en", "body_en")}),
    (_("Document"), {"fields": ("document_number", "issued_by", "office")}),
    (
        _("Publication"),
        {
            "fields": ("published", "published_on"),
            "description": _(
                "A published article is on the public pages at once. Without a publication date, the day it is "
                "published is used; withdrawing it keeps the date."
            ),
        },
    ),
    (_("Record"), {"fields": ("created_by", "updated_at")}),
)


class PolicyArticleForm(forms.ModelForm):
    class Meta:
        model = PolicyArticle
        fields = [field for _name, options in FIELDSETS[:-1] for field in options["fields"]]
        widgets = {
            "body_zh": forms.Textarea(attrs={"rows": 14}),
            "body_en": forms.Textarea(attrs={"rows": 14}),
        }
        help_texts = {
            "body_zh": _("Plain text; an empty line starts a new paragraph."),
            "body_en": _("Plain text; an empty line starts a new paragraph."),
        }

    def clean_published_on(self):
        day = self.cleaned_data.get("published_on")
        if day and day > timezone.localdate():
            raise ValidationError(_("The publication date cannot be in the future."))
        return day


def _changed(*field_names) -> list:
    # The admin history stores untranslated field labels and translates them when shown (as the admin itself does).
    with translation.override(None):
        return [{"changed": {"fields": [str(PolicyArticle._meta.get_field(n).verbose_name) for n in field_names]}}]


@admin.register(PolicyArticle)
class PolicyArticleAdmin(OfficeScopedAdminMixin, admin.ModelAdmin):
    form = PolicyArticleForm
    fieldsets = FIELDSETS
    readonly_fields = ("created_by", "updated_at")
    office_fields = ("office",)
    list_display = ("title_display", "kind", "document_number", "published", "published_on", "updated_at")
    list_filter = ("kind", "published", ("office", admin.RelatedOnlyFieldListFilter))
    search_fields = ("title_zh", "title_en", "document_number")
    list_select_related = ("office",)
    list_per_page = 50
    ordering = ("-updated_at",)
    actions = ("publish_selected", "unpublish_selected")

    @admin.display(description=_("title"), ordering="title_zh")
    def title_display(self, obj):
        return obj.title

    def get_fieldsets(self, request, obj=None):
        return FIELDSETS if obj else FIELDSETS[:-1]  # nothing on record before the article exists

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "office" in form.base_fields and scoped_office_ids(request.user, service=PolicyArticle) is not ALL:
            # An article without an office would leave the officer's own list the moment it was saved.
            form.base_fields["office"].required = True
        return form

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if request.user.office_id:
            initial.setdefault("office", request.user.office_id)
        return initial

    def save_model(self, request, obj, form, change):
        services.article_save(article=obj, by=request.user)

    @admin.action(description=_("Publish the selected articles"), permissions=["change"])
    def publish_selected(self, request, queryset):
        done = [article for article in queryset if services.article_publish(article=article)]
        for article in done:
            self.log_change(request, article, _changed("published", "published_on"))
        self.message_user(
            request,
            ngettext("%(count)d article published.", "%(count)d articles published.", len(done)) % {"count": len(done)},
        )

    @admin.action(description=_("Withdraw the selected articles from the public pages"), permissions=["change"])
    def unpublish_selected(self, request, queryset):
        done = [article for article in queryset if services.article_unpublish(article=article)]
        for article in done:
            self.log_change(request, article, _changed("published"))
        self.message_user(
            request,
            ngettext("%(count)d article withdrawn.", "%(count)d articles withdrawn.", len(done)) % {"count": len(done)},
        )
