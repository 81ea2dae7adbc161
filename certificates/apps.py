"""The no-criminal-record service and what it tells the portal's registry (/, /me/, /track/, the deadline sweep)."""

from django.utils.translation import gettext_lazy as _

from portal.cases import serviceapp


def next_step_of(application, revoked):
    """/me/'s next step of an application (portal.cases.progress), in this service's words."""
    from portal.cases.progress import next_step

    from .models import Status

    issued = _("Nothing more to do") if revoked else _("Download your certificate from the application's page")
    return next_step(
        application,
        finished=(Status.ISSUED, Status.REFUSED, Status.WITHDRAWN),
        texts={
            Status.SUBMITTED: _("The police station checks your application and accepts it"),
            Status.ACCEPTED: _("The police station reviews your application"),
            Status.INFO_REQUESTED: _("Send the information the police station asked for"),
            Status.APPROVED: _("Your certificate is being made: we will tell you by SMS and e-mail"),
            Status.ISSUED: issued,
        },
    )


def _summary(application, *, with_url: bool, revoked=None):
    from django.urls import reverse

    from portal.registry import CaseSummary

    from .services import status_label, timeline_entries

    return CaseSummary(
        service="certificates",
        case_number=application.case_number,
        title=str(_("Certificate of No Criminal Record")),
        status_label=str(status_label(application, revoked)),
        updated_at=application.updated_at,
        due_date=application.due_date,
        url=reverse("certificates:detail", kwargs={"case_number": application.case_number}) if with_url else "",
        timeline=tuple((entry["at"], str(entry["label"])) for entry in timeline_entries(application))
        if not with_url
        else (),
        next_step=next_step_of(application, revoked),
    )


def cases_for_user(user):
    """The citizen's applications (drafts included: they can be continued from /me/)."""
    from .models import Application, Status
    from .services import revoked_certificates

    if not user.is_authenticated:
        return []
    applications = list(Application.objects.filter(applicant=user).order_by("-updated_at"))
    # One query for all: an issued application whose certificate was revoked says "revoked", as its page does.
    revoked = revoked_certificates(a.pk for a in applications if a.status == Status.ISSUED)
    return [_summary(a, with_url=True, revoked=revoked.get(a.pk)) for a in applications]


def find_for_track(case_number):
    """The case `/track/` asks for (portal.cases.tracking checks the second factor and decides what to show).

    The outcome is confidential: "refused" means an unsealed conviction, so the public answer is only the stage. The
    ID numbers of both the holder and an agent who applied count as the second factor. Drafts are not cases yet.
    """
    from portal.registry import TrackedCase, TrackStage

    from .models import Application, Status

    application = serviceapp.find_case(Application, case_number)
    if application is None:
        return None
    if application.status == Status.SUBMITTED:
        stage = TrackStage.SUBMITTED
    elif application.status in (Status.ACCEPTED, Status.INFO_REQUESTED):
        stage = TrackStage.IN_REVIEW
    else:  # approved, issued, refused, withdrawn: all alike to the public
        stage = TrackStage.CLOSED
    from .services import revoked_certificates

    revoked = revoked_certificates([application.pk]) if application.status == Status.ISSUED else {}
    return TrackedCase(
        summary=_summary(application, with_url=False, revoked=revoked.get(application.pk)),
        id_numbers=(application.applicant.id_number or "", application.holder_id_number),
        owner_ids=(application.applicant_id,),
        owner_id_numbers=(application.holder_id_number,),
        confidential=True,
        stage=stage,
    )


class CertificatesConfig(serviceapp.ServiceAppConfig):
    name = "certificates"
    verbose_name = _("Certificate of No Criminal Record")
    summary = _(
        "Apply online for a certificate of no criminal record, follow the police station's review and download the "
        "signed e-certificate, which has the same legal effect as paper."
    )
    agency = "public_security"
    order = 10
    who = _(
        "Anyone, for themself, or an agent with a written authorisation, at the police station of their hukou or "
        "residence."
    )
    what = _("A signed e-certificate with a verification code; on request also on paper.")
    time_limit = _("3 working days from acceptance.")
    fee = _("Free of charge.")
    where = _(
        "Online at any time. Paper copies are collected at the station chosen, on working days; each station's address "
        "and hours are shown when you choose it."
    )
    legal_basis = _(
        "Provisions on the Handling of Criminal Record Inquiries by Public Security Organs (Ministry of Public Security, "
        "2021)."
    )
    case_model_names = ("Application",)
    required_assurance = "verified"

    promised_text = _(
        "Accepted or refused within %(accept)s working day(s) of submission; decided within %(decide)s working days "
        "of acceptance."
    )

    def promised_values(self):
        from .models import CLOCK_WORKING_DAYS

        return {**super().promised_values(), "decide": CLOCK_WORKING_DAYS}

    def ready(self):
        super().ready()
        from django.urls import reverse

        from portal.cases import events
        from portal.visits import purposes as visits

        from .models import Application, Delivery, Status
        from .services import EVENT_LABELS

        events.register(EVENT_LABELS)

        visits.register(
            visits.Purpose(
                key="ncr_paper_copy",
                model=Application,
                title=_("Visit to collect the paper copy"),
                bring=_("Bring your ID card (an agent: their own ID card and the written authorisation)."),
                attended_label=_("Came to collect the paper copy"),
                # The applicant chose a paper copy at an office; until it is handed over.
                open_for=lambda application: (
                    application.status == Status.ISSUED
                    and application.delivery == Delivery.COLLECT
                    and application.paper_collected_at is None
                ),
                station_office=lambda application: application.collection_office or application.office,
                case_url=lambda application: reverse(
                    "certificates:detail", kwargs={"case_number": application.case_number}
                ),
            )
        )
