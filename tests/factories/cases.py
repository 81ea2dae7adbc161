"""What every case factory shares: a case number as the services give it, the submission time, the working-day clock."""

import factory
from django.utils import timezone

from portal.cases.deadlines import clock_start
from portal.cases.models import DueState
from portal.cases.services import next_case_number


def _running_clock(field):
    """The clock field as clock_start() writes it for a clock of `clock` working days from today, else unset."""
    stopped = {"clock_limit": None, "clock_started_on": None, "due_date": None, "deadline_provisional": False}
    return factory.LazyAttribute(lambda o: clock_start(o.clock)[field] if o.clock is not None else stopped[field])


class CaseFactory(factory.django.DjangoModelFactory):
    """A case of the model's CASE_PREFIX, numbered by portal.cases.services.next_case_number.

    `clock=<working days>` starts the clock today as the accepting step does; `paused=True` then pauses it today with
    every working day left, as a request for more information does. Status changes after creation go through the
    services, never through the factory.
    """

    class Meta:
        abstract = True
        skip_postgeneration_save = True

    class Params:
        case_prefix = "XX"  # each factory sets its model's CASE_PREFIX
        draft_statuses = ("draft",)
        clock = None
        paused = False

    case_number = factory.LazyAttribute(lambda o: next_case_number(o.case_prefix))
    submitted_at = factory.LazyAttribute(lambda o: None if o.status in o.draft_statuses else timezone.now())
    clock_limit = _running_clock("clock_limit")
    clock_started_on = _running_clock("clock_started_on")
    due_date = _running_clock("due_date")
    deadline_provisional = _running_clock("deadline_provisional")
    paused_at = factory.LazyAttribute(lambda o: timezone.now() if o.paused else None)
    workdays_left = factory.LazyAttribute(lambda o: o.clock_limit if o.paused else None)
    due_state = DueState.NONE
