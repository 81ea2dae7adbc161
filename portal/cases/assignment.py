"""Who works a case: an officer claims it, a supervisor assigns it to a named officer of the office, the assignee
releases it. Each is a staff-only timeline row (record_event, guarded on the assignee read, so two officers claiming
at once cannot both win); acting on a case assigned to someone else needs an explicit confirmation and is recorded
(docs/architecture.md#the-officers-desk).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.scoping import ALL, is_administrator, scoped_office_ids

from .deadlines import deadline_office
from .services import TransitionNotAllowed, record_event, record_staff_event

if TYPE_CHECKING:
    from accounts.models import User

    from .models import Case
    from .workflow import Workflow

# The POST field an action form carries when the officer confirmed acting on a case assigned to someone else.
CONFIRM_FIELD = "confirm_other_assignee"


class Event:
    CLAIMED = "claimed"
    ASSIGNED = "assigned"
    RELEASED = "released"


EVENT_LABELS = {
    Event.CLAIMED: _("Claimed"),
    Event.ASSIGNED: _("Assigned"),
    Event.RELEASED: _("Released"),
}


def _name(user: Any) -> str:
    return str(getattr(user, "real_name", "") or user.get_username())


def _ensure_staff_of_case(by: Any, case: Case, workflow: Workflow) -> None:
    """The same rule as a step's: active staff whose scope covers the office acting now, never on their own case."""
    from .workflow import ensure_staff_may_act

    ensure_staff_may_act(by, case, office=deadline_office(case), workflow=workflow)


def is_supervisor(user: Any) -> bool:
    return bool(is_administrator(user) or user.groups.filter(name=Role.SUPERVISOR).exists())


def _record_assignment(case: Case, *, by: User, event: str, internal_note: str, to: User | None) -> Case:
    """The new assignee, in one UPDATE guarded by the assignment as it was read (of two clicks at once, one wins),
    and the timeline row only staff see, under the office of the officer who acted."""
    record_event(
        case,
        by=by,
        event=event,
        internal_note=internal_note,
        office=getattr(by, "office", None),
        staff_only=True,
        guard={"assigned_to": case.assigned_to_id},
        assigned_to=to,
    )
    return case


def claim(case: Case, *, by: User, workflow: Workflow) -> Case:
    """The officer takes the case on: it is theirs until they release it or a supervisor assigns it elsewhere."""
    _ensure_staff_of_case(by, case, workflow)
    if case.assigned_to_id == by.pk:
        raise TransitionNotAllowed(gettext("You already work on this case."))
    if case.assigned_to_id is not None:
        raise TransitionNotAllowed(
            gettext("%(name)s works on this case; ask a supervisor to reassign it.") % {"name": _name(case.assigned_to)}
        )
    return _record_assignment(
        case,
        by=by,
        event=Event.CLAIMED,
        internal_note=gettext("Claimed by %(name)s.") % {"name": _name(by)},
        to=by,
    )


def assign(case: Case, *, to: User, by: User, workflow: Workflow) -> Case:
    """A supervisor (or an administrator) gives the case to a named active officer of the office acting now."""
    _ensure_staff_of_case(by, case, workflow)
    if not is_supervisor(by):
        raise TransitionNotAllowed(gettext("Only a supervisor can assign a case to an officer."))
    office = deadline_office(case)
    ids = scoped_office_ids(by, service=case)
    if not (to.is_active and to.is_staff and to.office_id == office.pk and (ids is ALL or to.office_id in ids)):
        raise TransitionNotAllowed(gettext("Choose an active officer of %(office)s.") % {"office": office})
    if workflow.concerns(to, case):
        raise TransitionNotAllowed(gettext("This case concerns that officer; assign it to someone else."))
    if case.assigned_to_id == to.pk:
        raise TransitionNotAllowed(gettext("The case is already assigned to %(name)s.") % {"name": _name(to)})
    return _record_assignment(
        case,
        by=by,
        event=Event.ASSIGNED,
        internal_note=gettext("Assigned to %(name)s by %(by)s.") % {"name": _name(to), "by": _name(by)},
        to=to,
    )


def release(case: Case, *, by: User, workflow: Workflow) -> Case:
    """The assignee (or a supervisor) gives the case back to the office's common queue."""
    _ensure_staff_of_case(by, case, workflow)
    if case.assigned_to_id is None:
        raise TransitionNotAllowed(gettext("Nobody works on this case."))
    if case.assigned_to_id != by.pk and not is_supervisor(by):
        raise TransitionNotAllowed(gettext("Only the officer working on the case or a supervisor can release it."))
    return _record_assignment(
        case,
        by=by,
        event=Event.RELEASED,
        internal_note=gettext("Released by %(name)s.") % {"name": _name(by)},
        to=None,
    )


def ensure_confirmed_if_assigned_elsewhere(case: Case, *, by: Any, data: Any) -> bool:
    """Before a step on a case assigned to another officer: the form must carry the confirmation, or nothing happens.
    Returns whether the case was someone else's (the caller records it once the step succeeded)."""
    if case.assigned_to_id is None or case.assigned_to_id == getattr(by, "pk", None):
        return False
    if not data.get(CONFIRM_FIELD):
        raise TransitionNotAllowed(
            gettext(
                "Case %(number)s is assigned to %(name)s. Tick “I am acting on a case assigned to someone else” to "
                "act on it anyway."
            )
            % {"number": case.case_number, "name": _name(case.assigned_to)}
        )
    return True


def record_acted_for_other(case: Case, *, by: Any, step_label: Any) -> None:
    """The timeline says who acted on a case assigned to someone else, and on whose case."""
    record_staff_event(
        case,
        by=by,
        internal_note=gettext("%(by)s took the step “%(step)s” on a case assigned to %(name)s.")
        % {"by": _name(by), "step": step_label, "name": _name(case.assigned_to)},
        office=getattr(by, "office", None),
    )
