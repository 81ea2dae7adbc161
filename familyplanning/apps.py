"""The family-planning service centre and what it tells the portal's registry (/, /me/, /track/, the deadline sweep)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _summary(application, *, with_url: bool, url_name: str = "familyplanning:detail"):
    from django.urls import reverse

    from portal.registry import CaseSummary

    return CaseSummary(
        service="familyplanning",
        case_number=application.case_number,
        title=str(application.title),
        status_label=str(application.get_status_display()),
        updated_at=application.updated_at,
        due_date=application.due_date,
        url=reverse(url_name, kwargs={"case_number": application.case_number}) if with_url else "",
        timeline=()
        if with_url
        else tuple(
            (entry.at, str(application.status_label(entry.to_status))) for entry in application.public_timeline()
        ),
    )


def cases_for_user(user):
    """The citizen's applications (drafts included: they can be continued from /me/), then their complaints,
    suggestions, questions and follow-ups."""
    from .models import FamilyPlanningApplication, Feedback

    if not user.is_authenticated:
        return []
    return [
        _summary(a, with_url=True)
        for a in FamilyPlanningApplication.objects.filter(applicant=user).order_by("-updated_at")
    ] + [
        _summary(f, with_url=True, url_name="familyplanning:feedback_detail")
        for f in Feedback.objects.filter(applicant=user).order_by("-updated_at")
    ]


def find_for_track(case_number):
    """The case `/track/` asks for: an application, or a complaint, suggestion, question or follow-up (FB-...).

    The second factor is the applicant's ID number (portal.cases.tracking); drafts are not cases yet.
    """
    from portal.registry import TrackedCase

    from .models import FamilyPlanningApplication, Feedback, Status

    application = (
        FamilyPlanningApplication.objects.filter(case_number=case_number)
        .exclude(status=Status.DRAFT)
        .select_related("applicant")
        .first()
    )
    if application is None:
        application = Feedback.objects.filter(case_number=case_number).select_related("applicant").first()
    if application is None:
        return None
    return TrackedCase(
        summary=_summary(application, with_url=False),
        id_numbers=(application.applicant.id_number or "",),
        owner_ids=(application.applicant_id,),
    )


class FamilyplanningConfig(AppConfig):
    name = "familyplanning"
    verbose_name = _("Population and family-planning service centre")

    def ready(self):
        from accounts.models import Office
        from portal import registry

        from .models import FamilyPlanningApplication, Feedback

        registry.register(
            registry.Service(
                key="familyplanning",
                title=_("Population and family-planning service centre"),
                summary=_(
                    "Birth registration, the Certificate of Honour for Parents of an Only Child, certificates for the "
                    "floating population, licences for technical-service institutions and staff, forms and feedback."
                ),
                url_name="familyplanning:index",
                agency=Office.Agency.HEALTH_COMMISSION,
                order=20,
                guide=registry.service_guide(
                    who=_(
                        "Families registering a birth, parents of an only child, the floating population, and "
                        "family-planning technical-service institutions and their staff."
                    ),
                    what=_(
                        "Birth registration, certificates, licences and qualification certificates, each verifiable "
                        "online."
                    ),
                    time_limit=_("Each service states its own limit in working days in its guide."),
                ),
                case_models=(FamilyPlanningApplication, Feedback),
                cases_for_user=cases_for_user,
                find_for_track=find_for_track,
                # Complaints, suggestions and consultations need no identity check; applications do.
                required_assurance="verified",
                assurance_by_kind=(("feedback", "declared"),),
            )
        )
