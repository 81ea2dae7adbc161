"""The no-criminal-record service and what it tells the portal's registry (/, /me/, /track/, the deadline sweep)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _summary(application, *, with_url: bool):
    from django.urls import reverse

    from portal.registry import CaseSummary

    return CaseSummary(
        service="certificates",
        case_number=application.case_number,
        title=str(_("Certificate of No Criminal Record")),
        status_label=str(application.get_status_display()),
        updated_at=application.updated_at,
        due_date=application.due_date,
        url=reverse("certificates:detail", kwargs={"case_number": application.case_number}) if with_url else "",
        timeline=tuple((entry.at, str(application.status_label(entry.to_status))) for entry in application.timeline())
        if not with_url
        else (),
    )


def cases_for_user(user):
    """The citizen's applications (drafts included: they can be continued from /me/)."""
    from .models import Application

    if not user.is_authenticated:
        return []
    return [_summary(a, with_url=True) for a in Application.objects.filter(applicant=user).order_by("-updated_at")]


def track(case_number, second_factor):
    """The public enquiry: the case number plus the applicant's or holder's name, or the last four ID characters.

    Drafts are not cases yet. The answer carries no personal data and no link to the signed-in pages.
    """
    from accounts import idnumber

    from .models import Application, Status

    factor = " ".join((second_factor or "").split())
    if not case_number or not factor:
        return None
    application = (
        Application.objects.filter(case_number=(case_number or "").strip().upper())
        .exclude(status=Status.DRAFT)
        .select_related("applicant")
        .first()
    )
    if application is None:
        return None
    names = {application.applicant.real_name.strip(), application.holder_name.strip()} - {""}
    last_four = idnumber.normalize(application.holder_id_number)[-4:]
    if factor in names or (len(last_four) == 4 and idnumber.normalize(factor) == last_four):
        return _summary(application, with_url=False)
    return None


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("Certificate of No Criminal Record")

    def ready(self):
        from accounts.models import Office
        from portal import registry

        from .models import Application

        registry.register(
            registry.Service(
                key="certificates",
                title=_("Certificate of No Criminal Record"),
                summary=_(
                    "Apply online for a certificate of no criminal record, follow the police station's review and "
                    "download the signed e-certificate, which has the same legal effect as paper."
                ),
                url_name="certificates:index",
                agency=Office.Agency.PUBLIC_SECURITY,
                order=10,
                case_models=(Application,),
                cases_for_user=cases_for_user,
                track=track,
                required_assurance="verified",
            )
        )
