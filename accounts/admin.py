"""Admin for users, offices and misuse reports: users are managed by administrators only."""

import re
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.bigtables import BigTableAdminMixin

from . import services
from .forms import check_username_free
from .idnumber import normalize
from .models import MisuseReport, Office, User
from .scoping import ALL, OfficeScopedAdminMixin, is_administrator, scoped_office_ids
from .usernames import validate_username_characters

if TYPE_CHECKING:
    # The mixin comes before ModelAdmin in an admin class.
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object

ID_NUMBER_RE = re.compile(r"\d{17}[\dX]")


class SuspendedFilter(admin.SimpleListFilter):
    title = _("suspended")
    parameter_name = "suspended"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(suspended_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(suspended_at__isnull=True)
        return queryset


class AdministratorOnlyMixin(_ModelAdmin):
    """Every permission of this admin is the administrators' (superusers and the administrator role)."""

    def has_module_permission(self, request):
        return is_administrator(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_administrator(request.user)

    def has_change_permission(self, request, obj=None):
        return is_administrator(request.user)

    def has_add_permission(self, request):
        return is_administrator(request.user)

    def has_delete_permission(self, request, obj=None):
        return False


class UsernameChecksMixin:
    """The admin's user forms: a new or changed username in the documented characters, not confusable with another."""

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]  # type: ignore[attr-defined]
        instance = getattr(self, "instance", None)
        pk = instance.pk if instance is not None else None
        if instance is not None and pk is not None and username == instance.username:
            return username  # unchanged: an older name keeps working
        validate_username_characters(username)
        return check_username_free(username, exclude_pk=pk)


class UserCreationForm(UsernameChecksMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "real_name", "email")


class UserChangeForm(UsernameChecksMixin, DjangoUserChangeForm):
    class Meta(DjangoUserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(AdministratorOnlyMixin, BigTableAdminMixin, DjangoUserAdmin):
    add_form = UserCreationForm
    form = UserChangeForm
    list_display = (
        "username",
        "real_name",
        "masked_id",
        "masked_mobile_display",
        "email",
        "office",
        "is_staff",
        "suspended_display",
    )
    list_select_related = ("office",)
    list_filter = (SuspendedFilter, "is_staff", "is_superuser", "office__kind", "groups")
    # By prefix on indexed expressions (migration 0007); a full ID number is searched exactly, and only then, by
    # get_search_results (an "=id_number" here would add UPPER(id_number) = …, which no index serves).
    search_fields = ("username__istartswith", "email__istartswith")
    search_help_text = _("Username or e-mail (beginning), or the full ID number.")
    ordering = ("-date_joined",)
    autocomplete_fields = ("office",)
    readonly_fields = (
        "masked_id",
        "sex",
        "birth_date",
        "email_confirmed_at",
        "mobile_confirmed_at",
        "suspended_at",
        "suspension_reason",
        "data_consent_at",
        "last_login",
        "date_joined",
    )
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Identity"), {"fields": ("real_name", "masked_id", "sex", "birth_date")}),
        (
            _("Contact"),
            {"fields": ("email", "email_confirmed_at", "mobile", "mobile_confirmed_at", "language")},
        ),
        (_("Staff"), {"fields": ("is_staff", "office", "groups")}),
        (
            _("Status"),
            {
                "fields": (
                    "is_active",
                    "suspended_at",
                    "suspension_reason",
                    "must_change_password",
                    "data_consent_at",
                    "last_login",
                    "date_joined",
                )
            },
        ),
        (_("Superuser"), {"classes": ("collapse",), "fields": ("is_superuser", "user_permissions")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "real_name", "email", "usable_password", "password1", "password2"),
            },
        ),
    )
    filter_horizontal = ("groups", "user_permissions")
    actions = ("lift_suspension", "force_password_reset")

    @admin.display(description=_("resident ID number"), ordering="id_number")
    def masked_id(self, obj):
        return obj.masked_id_number

    @admin.display(description=_("mobile phone"))
    def masked_mobile_display(self, obj):
        return obj.masked_mobile

    @admin.display(description=_("suspended"), boolean=True, ordering="suspended_at")
    def suspended_display(self, obj):
        return obj.is_suspended

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a superuser makes superusers or hands out single permissions.
            fields += ["is_superuser", "user_permissions"]
        return fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_search_results(self, request, queryset, search_term):
        # The exact ID-number search must see the normalised form (lower-case x, spaces).
        term = search_term.strip()
        number = normalize(term)
        if ID_NUMBER_RE.fullmatch(number):
            return queryset.filter(Q(id_number=number) | Q(username__iexact=term)), False
        return super().get_search_results(request, queryset, term)

    @admin.action(description=_("Lift the suspension of the selected users"))
    def lift_suspension(self, request, queryset):
        count = sum(
            services.user_lift_suspension(user=user, by=request.user)
            for user in queryset.filter(suspended_at__isnull=False)
        )
        self.message_user(
            request,
            ngettext("Suspension lifted for %(n)d user.", "Suspension lifted for %(n)d users.", count) % {"n": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Force a password reset (the user must choose a new password)"))
    def force_password_reset(self, request, queryset):
        count = 0
        for user in queryset:
            services.user_force_password_reset(user=user, by=request.user)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(n)d user must now choose a new password; a reset link was e-mailed.",
                "%(n)d users must now choose a new password; reset links were e-mailed.",
                count,
            )
            % {"n": count},
            messages.SUCCESS,
        )


@admin.register(Office)
class OfficeAdmin(OfficeScopedAdminMixin, admin.ModelAdmin):
    """Administrators change every office; supervisors see their office and those below it."""

    list_display = ("tree_name", "kind", "agency", "division_code", "active")
    list_filter = ("agency", "kind", "active")
    search_fields = ("name", "name_en", "division_code")
    ordering = ("path",)
    list_per_page = 200
    autocomplete_fields = ("parent",)
    fields = (
        "name",
        "name_en",
        "kind",
        "agency",
        "division_code",
        "parent",
        "address",
        "phone",
        "opening_hours",
        "accepts_paper_collection",
        "active",
    )

    scope_by_service = False  # offices belong to no service; a supervisor's subtree holds only their agency's

    def scope_q(self, request, office_ids):
        return Q(pk__in=office_ids)

    @admin.display(description=_("name"), ordering="path")
    def tree_name(self, obj):
        depth = max(obj.path.count("/") - 2, 0)
        return f"{'— ' * depth}{obj}"

    def has_view_permission(self, request, obj=None):
        # Supervisors hold accounts.view_office; get_queryset keeps them to their subtree.
        return is_administrator(request.user) or super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return is_administrator(request.user)

    def has_add_permission(self, request):
        return is_administrator(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_administrator(request.user)

    def get_search_results(self, request, queryset, search_term):
        # Autocomplete (the user's office, an office's parent) stays within scope too.
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        ids = scoped_office_ids(request.user, service=None)
        if ids is not ALL:
            queryset = queryset.filter(pk__in=ids or [])
        return queryset, distinct


@admin.register(MisuseReport)
class MisuseReportAdmin(AdministratorOnlyMixin, admin.ModelAdmin):
    list_display = ("created", "user", "short_description", "handled_at", "handled_by")
    list_select_related = ("user", "handled_by")
    list_filter = (("handled_at", admin.EmptyFieldListFilter), "created")
    search_fields = ("user__username__istartswith", "=user__id_number")
    readonly_fields = ("user", "description", "created", "handled_by", "handled_at")
    actions = ("mark_handled",)

    def has_add_permission(self, request):
        return False  # reports come from the account holder

    @admin.display(description=_("description"))
    def short_description(self, obj):
        return obj.description if len(obj.description) <= 80 else obj.description[:79] + "…"

    @admin.action(description=_("Mark the selected reports as handled"))
    def mark_handled(self, request, queryset):
        count = sum(services.misuse_report_mark_handled(report=r, by=request.user) for r in queryset)
        self.message_user(
            request,
            ngettext("%(n)d report marked handled.", "%(n)d reports marked handled.", count) % {"n": count},
            messages.SUCCESS,
        )
