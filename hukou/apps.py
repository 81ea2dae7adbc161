"""The one-stop hukou migration service and what it tells the portal's registry (/, /me/, /track/, the deadline
sweep)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def cases_for_user(user):
    """The citizen's migration cases (drafts included), each linking to its status page."""
    from django.urls import reverse

    from portal.registry import CaseSummary

    from .models import MigrationApplication

    if not user.is_authenticated:
        return []
    return [
        CaseSummary(
            service="hukou",
            case_number=a.case_number,
            title=str(_("One-stop hukou migration")),
            status_label=str(a.get_status_display()),
            updated_at=a.updated_at,
            due_date=a.due_date,
            url=reverse("hukou:detail", kwargs={"case_number": a.case_number}),
        )
        for a in MigrationApplication.objects.filter(applicant=user)
        .only("case_number", "status", "updated_at", "due_date")
        .order_by("-updated_at")
    ]


def find_for_track(case_number):
    """The case `/track/` asks for; the second factor is the applicant's ID number (portal.cases.tracking).

    Drafts are not cases yet. The summary carries no personal data and no link to the signed-in pages.
    """
    from portal.registry import CaseSummary, TrackedCase

    from .constants import DRAFT_STATUSES
    from .models import MigrationApplication

    application = (
        MigrationApplication.objects.filter(case_number=case_number)
        .exclude(status__in=DRAFT_STATUSES)
        .select_related("applicant")
        .first()
    )
    if application is None:
        return None
    summary = CaseSummary(
        service="hukou",
        case_number=application.case_number,
        title=str(_("One-stop hukou migration")),
        status_label=str(application.get_status_display()),
        updated_at=application.updated_at,
        due_date=application.due_date,
        url="",
        timeline=tuple(
            (entry.at, str(application.status_label(entry.to_status))) for entry in application.public_timeline()
        ),
    )
    return TrackedCase(
        summary=summary, id_numbers=(application.applicant.id_number or "",), owner_ids=(application.applicant_id,)
    )


class HukouConfig(AppConfig):
    name = "hukou"
    verbose_name = _("One-stop hukou migration")

    def ready(self):
        from accounts.models import Office
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
                agency=Office.Agency.PUBLIC_SECURITY,
                order=30,
                guide=registry.service_guide(
                    who=_(
                        "The person moving (the head of household for a whole-household move), or, for a move to join "
                        "relatives, the mover together with the receiving householder."
                    ),
                    what=_(
                        "Your hukou moved to the new place without carrying a paper migration certificate between "
                        "stations."
                    ),
                    time_limit=_("Approval within 20 working days, move-out within 5, settlement within 5 more."),
                ),
                case_models=(MigrationApplication,),
                cases_for_user=cases_for_user,
                find_for_track=find_for_track,
                required_assurance="verified",
            )
        )
