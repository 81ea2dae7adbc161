"""The one-stop hukou migration service and what it tells the portal's registry (/, /me/, the deadline sweep)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def cases_for_user(user):
    """The citizen's migration cases (drafts included); the detail page comes later, so they link to the guide."""
    from django.urls import reverse

    from portal.registry import CaseSummary

    from .models import MigrationApplication

    if not user.is_authenticated:
        return []
    url = reverse("hukou:index")
    return [
        CaseSummary(
            service="hukou",
            case_number=a.case_number,
            title=str(_("One-stop hukou migration")),
            status_label=str(a.get_status_display()),
            updated_at=a.updated_at,
            due_date=a.due_date,
            url=url,
        )
        for a in MigrationApplication.objects.filter(applicant=user).order_by("-updated_at")
    ]


class HukouConfig(AppConfig):
    name = "hukou"
    verbose_name = _("One-stop hukou migration")

    def ready(self):
        from portal import registry

        from .models import MigrationApplication

        registry.register(
            registry.Service(
                key="hukou",
                title=_("One-stop hukou migration"),
                summary=_(
                    "Apply once at the police station of the place you move to: the move is approved, registered at "
                    "the place you leave and settled without a paper migration certificate."
                ),
                url_name="hukou:index",
                order=30,
                case_models=(MigrationApplication,),
                cases_for_user=cases_for_user,
            )
        )
