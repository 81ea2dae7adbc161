"""The family-planning service centre and what it tells the portal's registry (/, /me/, /track/, the deadline sweep)."""

from django.utils.translation import gettext_lazy as _

from portal.cases import serviceapp


def next_step_of(case):
    """/me/'s next step of an application (portal.cases.progress)."""
    from portal.cases.progress import next_step

    from .models import Status

    return next_step(
        case,
        finished=(Status.ISSUED, Status.REFUSED, Status.WITHDRAWN),
        texts={
            Status.SUBMITTED: _("The family-planning office checks your application and accepts it"),
            Status.ACCEPTED: _("The family-planning office reviews your application"),
            Status.APPROVED: _("Your document is being made: we will tell you by SMS and e-mail"),
            Status.ISSUED: _("Download your document from the application's page"),
        },
    )


def cases_for_user(user):
    """The citizen's applications (drafts included: they can be continued from /me/). Their complaints, questions
    and follow-ups are the portal's (portal.feedback)."""
    from .models import FamilyPlanningApplication

    return serviceapp.own_cases(
        user,
        FamilyPlanningApplication.objects.all(),
        url_name="familyplanning:detail",
        title=lambda application: application.title,
        next_step=next_step_of,
    )


def documents_naming(user):
    from .services import documents_naming

    return documents_naming(user)


def find_for_track(case_number):
    """The application `/track/` asks for (feedback cases, FB-..., are the portal's: portal.feedback).

    The second factor is the applicant's ID number (portal.cases.tracking); drafts are not cases yet.
    """
    from .models import FamilyPlanningApplication

    application = serviceapp.find_case(FamilyPlanningApplication, case_number)
    if application is None:
        return None
    return serviceapp.tracked_by_applicant(application, title=application.title, next_step=next_step_of(application))


class FamilyplanningConfig(serviceapp.ServiceAppConfig):
    name = "familyplanning"
    verbose_name = _("Population and family-planning service centre")
    summary = _(
        "Birth registration, the Certificate of Honour for Parents of an Only Child, certificates for the floating "
        "population, licences for technical-service institutions and staff, forms and feedback."
    )
    agency = "health_commission"
    order = 20
    who = _(
        "Families registering a birth, parents of an only child, the floating population, and family-planning "
        "technical-service institutions and their staff."
    )
    what = _("Birth registration, certificates, licences and qualification certificates, each verifiable online.")
    fee = _("Free of charge.")
    time_limit = _("Each service states its own limit in working days in its guide (1 to 20).")
    where = _(
        "Online at any time, or at the health commission of the district of your hukou or residence on working days."
    )
    legal_basis = _(
        "Population and Family Planning Law of the People's Republic of China; Regulations of Henan Province on "
        "Population and Family Planning."
    )
    case_model_names = ("FamilyPlanningApplication",)
    required_assurance = "verified"

    promised_text = _(
        "Accepted or refused within %(accept)s working days of submission; decided within the service's limit "
        "from acceptance."
    )
