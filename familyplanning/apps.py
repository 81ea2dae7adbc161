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
        else tuple((entry.at, str(application.status_label(entry.to_status))) for entry in application.timeline()),
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


def track(case_number, second_factor):
    """The public enquiry: the case number plus the applicant's real name or the last four characters of the
    applicant's ID number. Drafts are not cases yet; the answer carries no personal data and no link."""
    from accounts import idnumber

    from .models import FamilyPlanningApplication, Feedback, Status

    factor = " ".join((second_factor or "").split())
    if not case_number or not factor:
        return None
    application = (
        FamilyPlanningApplication.objects.filter(case_number=(case_number or "").strip().upper())
        .exclude(status=Status.DRAFT)
        .select_related("applicant")
        .first()
    )
    if application is None:
        # Complaints, suggestions, questions and follow-ups (FB-...) are found the same way.
        number = (case_number or "").strip().upper()
        application = Feedback.objects.filter(case_number=number).select_related("applicant").first()
    if application is None:
        return None
    name = (application.applicant.real_name or "").strip()
    last_four = idnumber.normalize(application.applicant.id_number or "")[-4:]
    if (name and factor == name) or (len(last_four) == 4 and idnumber.normalize(factor) == last_four):
        return _summary(application, with_url=False)
    return None


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
                case_models=(FamilyPlanningApplication, Feedback),
                cases_for_user=cases_for_user,
                track=track,
                # Complaints, suggestions and consultations need no identity check; applications do.
                required_assurance="verified",
                assurance_by_kind=(("feedback", "declared"),),
            )
        )
