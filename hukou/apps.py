"""The one-stop hukou migration service and what it tells the portal's registry (/, /me/, /track/, the deadline
sweep)."""

from django.utils.translation import gettext_lazy as _

from portal.cases import serviceapp


def next_step_of(application):
    """/me/'s next step of a migration case (portal.cases.progress): who acts now, in plain words."""
    from portal.cases.progress import next_step

    from .constants import Status

    return next_step(
        application,
        texts={
            Status.SUBMITTED: _("The move-in police station checks your application and accepts it"),
            Status.ACCEPTED: _("The move-in police station checks it and sends it to the household administration"),
            Status.FORWARDED: _("The municipal household administration decides on the Permit to Move In"),
            Status.APPROVED: _("The move-out police station registers your emigration"),
            Status.RETURNED: _("The move-in police station resolves a problem the move-out station found"),
            Status.EMIGRATED: _("The move-in police station settles your hukou"),
            Status.PAPER: _("Your case continues on paper at the move-in police station"),
            Status.SETTLED: _(
                "Come to the move-in police station with your ID card to print the Permanent Resident Registration Form"
            ),
        },
    )


def cases_for_user(user):
    """The citizen's migration cases (drafts included), each linking to its status page."""
    from .models import MigrationApplication

    return serviceapp.own_cases(
        user,
        MigrationApplication.objects.only(
            "case_number", "status", "updated_at", "due_date", "paused_at", "submitted_at"
        ),
        url_name="hukou:detail",
        title=lambda application: _("One-stop hukou migration"),
        next_step=next_step_of,
    )


def find_for_track(case_number):
    """The case `/track/` asks for; the second factor is the applicant's ID number (portal.cases.tracking).

    Drafts are not cases yet. The summary carries no personal data and no link to the signed-in pages.
    """
    from .models import MigrationApplication

    application = serviceapp.find_case(MigrationApplication, case_number)
    if application is None:
        return None
    return serviceapp.tracked_by_applicant(
        application, title=_("One-stop hukou migration"), next_step=next_step_of(application)
    )


class HukouConfig(serviceapp.ServiceAppConfig):
    name = "hukou"
    verbose_name = _("One-stop hukou migration")
    summary = _(
        "Apply once at the police station of the place you move to: the move is approved, registered at the place "
        "you leave and settled without a paper migration certificate."
    )
    agency = "public_security"
    order = 30
    who = _(
        "The person moving (the head of household for a whole-household move), or, for a move to join relatives, "
        "the mover together with the receiving householder."
    )
    what = _("Your hukou moved to the new place without carrying a paper migration certificate between stations.")
    time_limit = _("Approval within 20 working days, move-out within 5, settlement within 5 more.")
    fee = _("Free of charge.")
    where = _(
        "Online at any time. The originals are shown once, at the move-in police station, on working days, at a visit "
        "booked on the case's page; the station's address, telephone and free times are shown when you book."
    )
    legal_basis = _(
        "Regulations of the People's Republic of China on Household Registration (1958); the household registration "
        "rules of the Henan Provincial Department of Public Security."
    )
    case_model_names = ("MigrationApplication",)
    required_assurance = "verified"

    promised_text = _(
        "Accepted or refused within %(accept)s working days of submission; approval, move-out and settlement "
        "within the statutory limits."
    )

    def ready(self):
        super().ready()
        from django.urls import reverse

        from portal.visits import purposes as visits

        from .constants import Status
        from .models import MigrationApplication
        from .workflow import ORIGINALS_VISIT

        visits.register(
            visits.Purpose(
                key=ORIGINALS_VISIT,
                model=MigrationApplication,
                title=_("Visit to show the originals"),
                bring=_(
                    "Bring the originals of every document you uploaded, the ID cards of the people moving and the "
                    "Household Register Booklet. The station checks them before the case goes to the municipal "
                    "household administration."
                ),
                attended_label=_("Originals seen"),
                # After acceptance and before forwarding: the move-in station checks the originals in person.
                open_for=lambda application: application.status == Status.ACCEPTED,
                station_office=lambda application: application.office,
                case_url=lambda application: reverse("hukou:detail", kwargs={"case_number": application.case_number}),
            )
        )
