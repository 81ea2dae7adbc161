"""What happens next in a case, as `/me/` says it: its group (needs your action, in progress, finished), the next
step in words and the date that goes with it.

One rule for every service, from the statuses each case model declares (DRAFT_STATUSES, INFO_REQUESTED_STATUS,
finished_statuses()); a service passes its own words for the statuses where it can say more ("Download your
certificate", "Come to the move-in police station…").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from portal.registry import NextStep, Stage

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from .models import Case


def next_step(
    case: Case,
    *,
    texts: Mapping[str, StrOrPromise] | None = None,
    finished: Iterable[str] | None = None,
) -> NextStep:
    """The case's group, next step and date. `texts`: the service's words per status; `finished`: the statuses in
    which nothing more happens (default: the model's finished_statuses())."""
    model = type(case)
    status = case.status
    own = (texts or {}).get(status)
    done = tuple(finished) if finished is not None else model.finished_statuses()
    if status in model.DRAFT_STATUSES:
        return NextStep(
            Stage.ACTION,
            str(own or _("Finish your application and submit it")),
            timezone.localdate(case.updated_at),
            _("Last saved"),
        )
    if status == model.INFO_REQUESTED_STATUS:
        return NextStep(
            Stage.ACTION,
            str(own or _("Send the information the office asked for")),
            timezone.localdate(case.paused_at or case.updated_at),
            _("Asked on"),
        )
    if status in done:
        default = {
            "refused": _("Read the reason on the application's page"),
            "withdrawn": _("You withdrew this application: nothing more to do"),
        }.get(status, _("Nothing more to do"))
        return NextStep(Stage.FINISHED, str(own or default), timezone.localdate(case.updated_at), _("Finished on"))
    text = str(own or _("The office is handling your application"))
    if case.due_date:
        return NextStep(Stage.IN_PROGRESS, text, case.due_date, _("Due by"))
    if case.submitted_at:
        return NextStep(Stage.IN_PROGRESS, text, timezone.localdate(case.submitted_at), _("Submitted on"))
    return NextStep(Stage.IN_PROGRESS, text, timezone.localdate(case.updated_at), _("Last change"))
