"""The one-stop hukou migration service and what it tells the portal's registry (/, /me/, the deadline sweep)."""

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


def track(case_number, second_factor):
    """The public enquiry: the case number plus the applicant's real name, or the last four characters of their ID.

    Drafts are not cases yet. The answer carries no personal data and no link to the signed-in pages.
    """
    from accounts import idnumber
    from portal.registry import CaseSummary

    from .constants import DRAFT_STATUSES
    from .models import MigrationApplication

    factor = " ".join((second_factor or "").split())
    if not case_number or not factor:
        return None
    application = (
        MigrationApplication.objects.filter(case_number=case_number.strip().upper())
        .exclude(status__in=DRAFT_STATUSES)
        .select_related("applicant")
        .first()
    )
    if application is None:
        return None
    applicant = application.applicant
    last_four = idnumber.normalize(applicant.id_number or "")[-4:]
    if not (
        (applicant.real_name.strip() and factor == applicant.real_name.strip())
        or (len(last_four) == 4 and idnumber.normalize(factor) == last_four)
    ):
        return None
    return CaseSummary(
        service="hukou",
        case_number=application.case_number,
        title=str(_("One-stop hukou migration")),
        status_label=str(application.get_status_display()),
        updated_at=application.updated_at,
        due_date=application.due_date,
        url="",
        timeline=tuple((entry.at, str(application.status_label(entry.to_status))) for entry in application.timeline()),
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
                case_models=(MigrationApplication,),
                cases_for_user=cases_for_user,
                track=track,
                required_assurance="verified",
            )
        )
