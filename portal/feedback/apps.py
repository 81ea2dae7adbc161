"""The portal-wide feedback app: ratings (好差评) of any service's decided cases, complaints, consultations; and what it
tells the portal's registry (/me/, /track/, the deadline sweep)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def next_step_of(case):
    """/me/'s next step of a complaint, suggestion, question or follow-up (portal.cases.progress)."""
    from portal.cases.progress import next_step

    return next_step(
        case,
        texts={
            "open": _("The office answers you within its time limit"),
            "answered": _("Read the answer on its page"),
        },
    )


def cases_for_user(user):
    """The citizen's complaints, suggestions, questions and follow-ups, for /me/."""
    from portal.cases import serviceapp

    from .models import Feedback

    return serviceapp.own_cases(
        user, Feedback.objects.all(), url_name="feedback:detail", title=lambda item: item.title, next_step=next_step_of
    )


def find_for_track(case_number):
    """A complaint, suggestion, question or follow-up (FB-...) for /track/; the second factor is the applicant's ID
    number (portal.cases.tracking)."""
    from portal.cases import serviceapp

    from .models import Feedback

    item = Feedback.objects.filter(case_number=case_number, applicant__isnull=False).select_related("applicant").first()
    if item is None or item.applicant is None:  # asked without an account: read by the e-mailed link only
        return None
    return serviceapp.tracked_by_applicant(item, title=item.title, next_step=next_step_of(item))


class FeedbackConfig(AppConfig):
    name = "portal.feedback"
    # Not a service key (portal.registry): feedback belongs to every service, each row to the office it concerns.
    # "feedback" is also the key a rating of the answer to a complaint names (portal.feedback.cases.FEEDBACK).
    label = "feedback"
    verbose_name = _("Ratings and feedback")

    def ready(self) -> None:
        from portal import registry

        from .models import Feedback

        registry.register_shared(
            registry.SharedApp(
                self.label, case_models=(Feedback,), cases_for_user=cases_for_user, find_for_track=find_for_track
            )
        )
