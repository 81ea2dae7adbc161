"""Each service's workflow, declared once: its steps as a table that the service, the review admin and the views read.

A `Step` says everything about one action but the work particular to it: the statuses it may start from, the status
it leads to, who takes it (the applicant, or staff of the office acting now, optionally with a role), what it does to
the working-day clock, the button's label, the confirmation an irreversible step asks for, the inputs of its form on
the review page, the message the applicant and the office are sent, and the success message. A service's workflow
is one `Workflow` of such steps (docs/architecture.md#cases-transitions-and-deadlines).

From the table come:
- the status groups (`statuses_from("withdraw")` is where a case can be withdrawn; `editable` where the applicant
  may change answers), so nothing lists statuses a second time;
- the review page's offered actions, their forms, the dispatch of a POST to the step's function and the success
  message (portal.cases.admin.CaseReviewAdminMixin);
- `run()`, the common body of a step: who may act (`ensure_may_act`, one rule of role, office scope and own case),
  the status check, the clock, the guarded transition and the messages. A step function that does nothing else is
  a single call to it; one that does more (a register check, a document queued) passes its extra fields and checks.

Adding a step means: a row here, its service function if it does more than a transition, its message templates.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import ALL, is_administrator, scoped_office_ids

from .deadlines import clock_pause, clock_resume, clock_start, clock_stop
from .services import TransitionNotAllowed, ensure_applicant, ensure_status, required_text, transition

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django_stubs_ext import StrOrPromise

    from accounts.models import Office, User

    from .models import Case


# The two texts of a staff action (docs/architecture.md#security-and-privacy): the message goes on the applicant's
# status page; the internal note only on the review page. Each review template shows both on every action form.
MESSAGE_LABEL = _("Message to the applicant (optional; the applicant will see this)")
INTERNAL_NOTE_LABEL = _("Internal note (optional; staff only, the applicant is not told)")


class Actor(StrEnum):
    APPLICANT = "applicant"
    STAFF = "staff"


class Clock(StrEnum):
    """What a step does to the working-day clock (portal.cases.deadlines.clock_*)."""

    KEEP = "keep"
    START = "start"  # a new clock of the step's limit from today (day 0)
    PAUSE = "pause"  # waiting for the applicant: the working days left are kept
    RESUME = "resume"  # the applicant answered: the days left run again from today
    STOP = "stop"  # decided, withdrawn: no clock


@dataclass(frozen=True)
class Input:
    """One input of a step's form on the review page, and the keyword the step function takes it as."""

    name: str  # the POST field
    param: str  # the step function's keyword
    label: StrOrPromise
    required: bool = False
    kind: str = "textarea"  # textarea, text or date (YYYY-MM-DD, parsed before the step function sees it)
    initial: Callable[[Any], Any] | None = None  # the value the form starts with, from the case
    shown: Callable[[Any], bool] | None = None  # the form asks for it only when this holds of the case


@dataclass(frozen=True)
class Check:
    """One item of a step's checklist: what the officer must have checked before taking the step. The review page
    shows it as a checkbox on the step's form; a required one left unticked blocks the step, and the ticked ones are
    recorded on the step's timeline row (by `key`, so the timeline reads them in the reader's language)."""

    key: str
    label: StrOrPromise
    required: bool = False
    # The step function also takes the tick as this keyword (True or False), where the rule behind the item must
    # hold whoever calls it, not only on the review page.
    param: str = ""
    # The form asks for it only when this holds of the case; an item not asked for does not block the step.
    shown: Callable[[Any], bool] | None = None

    def asked(self, case: Any) -> bool:
        return self.shown is None or bool(self.shown(case))


@dataclass(frozen=True)
class Step:
    name: str
    allowed_from: tuple[str, ...]
    to: str | None  # None: the status stays (an event such as a revocation) or the step function decides
    actor: Actor = Actor.STAFF
    label: StrOrPromise = ""
    done: StrOrPromise = ""  # the review page's success message, with %(number)s
    clock: Clock = Clock.KEEP
    # Clock.START: working days, or a function of the case (a setting read when the step is taken); None takes the
    # workflow's limit for the case.
    clock_limit: int | Callable[[Any], int] | None = None
    roles: tuple[str, ...] = ()  # staff need one of these roles (administrators always may); () any staff role
    # An irreversible step (a decision, a revocation, the paper fallback): what it will do, with %(number)s. The
    # review page asks for a confirmation that says it, who is told and by which channels, before taking the step;
    # every `danger` step has one (Workflow checks).
    confirm: StrOrPromise = ""
    danger: bool = False
    checklist: tuple[Check, ...] = ()  # what the officer must check first (portal.cases.review)
    # Messages the applicant gets later from this step's work, beyond `notify` (the issued certificate's "ready",
    # sent by the worker): the confirmation names their channels too.
    tells: tuple[str, ...] = ()
    inputs: tuple[Input, ...] = ()
    notify: str = ""  # the applicant's message template, under the workflow's template prefix
    notify_office: str = ""  # the office's message template, likewise
    # What the step writes besides the status and the clock: `stamp` gets the time, `note_fields` the step's text
    # (mandatory, with the message `required`, when given; `default_note` when none is given), `clear` is emptied,
    # and a step that `decides` records who decided and when.
    stamp: str = ""
    note_fields: tuple[str, ...] = ()
    note_context: str = ""  # the applicant's message gets the text under this name
    required: StrOrPromise = ""
    default_note: StrOrPromise = ""
    clear: tuple[str, ...] = ()
    decides: bool = False
    # Offered on the review page only when this holds of the case and the facts the admin passes (a valid
    # certificate, a paper copy asked for); the step function checks again.
    when: Callable[[Any, Mapping[str, Any]], bool] | None = None

    @property
    def by_officer(self) -> bool:
        return self.actor == Actor.STAFF


def review_steps(status: Any, **overrides: Mapping[str, Any]) -> tuple[Step, ...]:
    """The steps of an application one office reviews (certificates, family planning): the applicant submits,
    answers a request for information or withdraws; the office accepts (the clock starts), asks for more information
    (it pauses), approves or refuses. `status` is the service's TextChoices; `overrides` change a step's fields by
    name (`refuse={"label": …}`)."""
    applicant = Actor.APPLICANT
    message = Input("text", "note", MESSAGE_LABEL)
    steps = (
        Step("submit", (status.DRAFT,), status.SUBMITTED, actor=applicant, notify="submitted", stamp="submitted_at"),
        Step(
            "resubmit",
            (status.INFO_REQUESTED,),
            status.ACCEPTED,
            actor=applicant,
            clock=Clock.RESUME,
            notify_office="resubmitted",
            note_fields=("citizen_reply",),
        ),
        Step(
            "withdraw",
            (status.SUBMITTED, status.ACCEPTED, status.INFO_REQUESTED),
            status.WITHDRAWN,
            actor=applicant,
            clock=Clock.STOP,
            default_note=_("Withdrawn by the applicant."),
        ),
        Step(
            "accept",
            (status.SUBMITTED,),
            status.ACCEPTED,
            label=_("Accept"),
            done=_("Application %(number)s accepted; the time limit runs from today."),
            clock=Clock.START,
            inputs=(message,),
            notify="accepted",
            stamp="accepted_at",
        ),
        Step(
            "request_info",
            (status.ACCEPTED,),
            status.INFO_REQUESTED,
            label=_("Request more information"),
            done=_("More information requested for %(number)s; the time limit is paused."),
            clock=Clock.PAUSE,
            inputs=(
                Input(
                    "text",
                    "message",
                    _("What must the applicant add or correct? (the applicant will see this)"),
                    required=True,
                ),
            ),
            notify="info_requested",
            required=_("Say what information or document the applicant must add."),
            note_fields=("info_request",),
            note_context="message",
            clear=("citizen_reply",),
        ),
        Step(
            "approve",
            (status.ACCEPTED,),
            status.APPROVED,
            label=_("Approve"),
            done=_("Application %(number)s approved."),
            clock=Clock.STOP,
            confirm=_("You are about to approve %(number)s: the decision is final."),
            inputs=(message,),
            decides=True,
        ),
        Step(
            "refuse",
            (status.ACCEPTED, status.INFO_REQUESTED),
            status.REFUSED,
            label=_("Refuse"),
            done=_("Application %(number)s refused."),
            clock=Clock.STOP,
            danger=True,
            confirm=_("You are about to refuse %(number)s: the decision is final and the applicant reads your reason."),
            inputs=(Input("text", "reason", _("Reason for the refusal (the applicant will see this)"), required=True),),
            notify="refused",
            note_fields=("refusal_reason",),
            note_context="reason",
            decides=True,
        ),
    )
    unknown = set(overrides) - {step.name for step in steps}
    if unknown:
        raise KeyError(f"no such review steps: {sorted(unknown)}")
    return tuple(replace(step, **overrides.get(step.name, {})) for step in steps)


@dataclass(frozen=True)
class AccessMessages:
    """What a member of staff is told when the step is not theirs to take (one wording per service)."""

    staff_only: StrOrPromise
    other_office: StrOrPromise  # may name the office with %(office)s
    own_case: StrOrPromise
    wrong_role: StrOrPromise = _("Your role does not allow this step.")


@dataclass
class Workflow:
    """A service's steps, in the order the review page offers them."""

    service: str  # the app label: the prefix of its message templates
    steps: tuple[Step, ...]
    messages: AccessMessages
    # The case concerns this user (they applied, or the case names them): staff never act on it.
    concerns: Callable[[Any, Any], bool]
    # The working days a Clock.START step without its own limit gives (a constant, or per service of the catalogue).
    clock_limit: Callable[[Any], int] | None = None
    # The context every message to the applicant gets besides the case and its number.
    notify_context: Callable[[Any], dict[str, Any]] | None = None
    # The timeline row of a staff step names the office of the member of staff who took it (the station's own
    # services), or the office acting in the case's state (multi-office workflows).
    timeline_office_of_actor: bool = False
    handlers: dict[str, Callable[..., Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name: dict[str, Step] = {step.name: step for step in self.steps}
        if len(self.by_name) != len(self.steps):
            raise ValueError(f"{self.service}: two steps share a name")
        for step in self.steps:
            if step.danger and not step.confirm:
                raise ValueError(f"{self.service}: step {step.name!r} is irreversible but asks for no confirmation")
            keys = [item.key for item in step.checklist]
            if len(set(keys)) != len(keys):
                raise ValueError(f"{self.service}: step {step.name!r} lists a checklist item twice")

    def __getitem__(self, name: str) -> Step:
        return self.by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    # --- the table's derived facts ----------------------------------------------------------------------------

    def statuses_from(self, *names: str) -> tuple[str, ...]:
        """The statuses from which any of these steps may be taken, in table order, each once."""
        seen: dict[str, None] = {}
        for name in names:
            for status in self.by_name[name].allowed_from:
                seen.setdefault(str(status), None)
        return tuple(seen)

    def officer_steps(self) -> tuple[Step, ...]:
        return tuple(step for step in self.steps if step.actor == Actor.STAFF)

    def checklist_label(self, step_name: str, key: str) -> StrOrPromise:
        """The label of a recorded checklist item (the key itself if the table no longer lists it)."""
        step = self.by_name.get(step_name)
        for item in step.checklist if step else ():
            if item.key == key:
                return item.label
        return key

    def available(self, case: Case, **facts: Any) -> list[str]:
        """The staff steps that make sense for the case now (the step functions still check everything)."""
        return [
            step.name
            for step in self.officer_steps()
            if case.status in step.allowed_from and (step.when is None or step.when(case, facts))
        ]

    # --- registering and calling the step functions ------------------------------------------------------------

    def implements(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: the service function that takes step `name` (its keywords: the case's, `by`, the inputs')."""
        if name not in self.by_name:
            raise KeyError(f"{self.service} has no step {name!r}")

        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            self.handlers[name] = function
            return function

        return register

    def function(self, name: str, *, case_param: str = "application") -> Callable[..., Any]:
        """The service function of a step that does nothing but what its row declares: it takes the case (as
        `case_param`), `by`, the step's text input under its keyword and `internal_note`, and runs the step."""
        step = self.by_name[name]
        text = step.inputs[0].param if step.inputs else ""

        def take(*, by: Any, internal_note: str = "", **kwargs: Any) -> Any:
            case = kwargs.pop(case_param)
            note = kwargs.pop(text, "") if text else ""
            if kwargs:
                raise TypeError(f"{self.service} {name}: unexpected keywords {sorted(kwargs)}")
            return self.run(name, case, by=by, note=note, internal_note=internal_note)

        take.__name__ = take.__qualname__ = f"{self.service}_{name}"
        take.__doc__ = f"The {name!r} step of the {self.service} workflow, as its table row declares it."
        self.handlers[name] = take
        return take

    def dispatch(self, name: str, case: Case, *, by: Any, data: Mapping[str, Any], case_param: str) -> Any:
        """Take step `name` with the inputs a review page posted (each step also takes the internal note)."""
        step = self.by_name[name]
        kwargs: dict[str, Any] = {
            case_param: case,
            "by": by,
            "internal_note": (data.get("internal_note") or "").strip(),
        }
        for item in step.inputs:
            raw = data.get(item.name, "")
            kwargs[item.param] = parse_input(item, raw)
        if any(item.param for item in step.checklist):
            from .review import ticked

            keys = ticked(step, data)
            kwargs.update({item.param: item.key in keys for item in step.checklist if item.param})
        return self.handlers[name](**kwargs)

    # --- who may act, and the common body of a step ------------------------------------------------------------

    def ensure_may_act(
        self, by: User | AnonymousUser | None, case: Case, step: Step, office: Office | None = None
    ) -> Office | None:
        """The one rule of who may take a step. The applicant's steps: only the applicant. Staff steps: an active
        member of staff, with one of the step's roles if it names any, whose office scope covers the office acting
        now (`office`, the case's `acting_office()` or its office), on a case that does not concern them
        (docs/architecture.md#security-and-privacy). Returns the acting office for staff steps."""
        if step.actor == Actor.APPLICANT:
            ensure_applicant(by, case)
            return None
        return ensure_staff_may_act(by, case, roles=step.roles, office=office, workflow=self)

    def ensure_may_take(self, name: str, case: Case, *, by: Any, office: Office | None = None) -> Office | None:
        """Who may act (ensure_may_act) and the case's status: what a step function checks before its own work (a
        register check, a serial number drawn); it then calls run() with `checked=True`. Returns the acting office."""
        step = self.by_name[name]
        acting = self.ensure_may_act(by, case, step, office)
        ensure_status(case, step.allowed_from)
        return acting

    def run(
        self,
        name: str,
        case: Case,
        *,
        by: Any,
        note: str = "",
        internal_note: str = "",
        office: Office | None = None,
        required: StrOrPromise = "",
        note_fields: Iterable[str] = (),
        note_context: str = "",
        changes: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        office_context: Mapping[str, Any] | None = None,
        checked: bool = False,
        to: str | None = None,
    ) -> Case:
        """Take step `name`: check who acts and the status, set the clock, make the guarded transition and send the
        step's messages after it, in one transaction. `required` makes `note` mandatory with that message, and the
        note is also written to `note_fields` and given to the applicant's message as `note_context`; `changes` are
        further fields of the same UPDATE; `context` is added to the applicant's message. `checked`: the caller
        already ran ensure_may_act (it needed the office first)."""
        step = self.by_name[name]
        acting = office if checked else self.ensure_may_act(by, case, step, office)
        # Before any text is asked for, and before the clock (clock_pause/resume read the running clock of the state);
        # transition() checks the status again, atomically.
        ensure_status(case, step.allowed_from)
        required = required or step.required
        note = required_text(note, required) if required else (note or str(step.default_note)).strip()
        fields: dict[str, Any] = {name: "" for name in step.clear}
        fields.update({name: note for name in (*step.note_fields, *note_fields)})
        now = timezone.now()
        if step.stamp:
            fields[step.stamp] = now
        if step.decides:
            fields["decided_by"] = by
            if any(f.name == "decided_at" for f in case._meta.concrete_fields):
                fields["decided_at"] = now
        fields.update(changes or {})
        fields.update(self._clock(step, case))
        note_context = note_context or step.note_context
        context = {**({note_context: note} if note_context else {}), **(context or {})}
        target = to or step.to
        if target is None:
            raise ValueError(f"step {name!r} has no target status; its service function names it")
        with transaction.atomic():
            transition(
                case,
                to=target,
                by=by,
                office=self._timeline_office(step, by, acting),
                note=note,
                internal_note=internal_note,
                allowed_from=step.allowed_from,
                **fields,
            )
            expressions = [name for name, value in fields.items() if hasattr(value, "resolve_expression")]
            if expressions:  # F("generation") + 1 and the like: read back what the database made of them
                case.refresh_from_db(fields=expressions)
            if step.notify:
                self.tell_applicant(case, step.notify, **context)
            if step.notify_office:
                self.tell_office(case, step.notify_office, **(office_context or {}))
        return case

    def _timeline_office(self, step: Step, by: Any, acting: Office | None) -> Office | None:
        if step.actor != Actor.STAFF:
            return None
        return getattr(by, "office", None) if self.timeline_office_of_actor else acting

    def _clock(self, step: Step, case: Case) -> dict[str, Any]:
        if step.clock == Clock.START:
            limit = step.clock_limit(case) if callable(step.clock_limit) else step.clock_limit
            if limit is None:
                if self.clock_limit is None:
                    raise ValueError(f"{self.service}: step {step.name!r} starts a clock but no limit is declared")
                limit = self.clock_limit(case)
            return dict(clock_start(limit))
        if step.clock == Clock.PAUSE:
            return dict(clock_pause(case))
        if step.clock == Clock.RESUME:
            return dict(clock_resume(case))
        if step.clock == Clock.STOP:
            return dict(clock_stop())
        return {}

    def tell_office(self, case: Case, template: str, **context: Any) -> None:
        """E-mail the staff of the office that must act now (the case's `acting_office()`, or its office): the case
        has arrived in, or come back to, its inbox. Nobody is told when the applicant must act."""
        from accounts.notify import notify_office

        acting = getattr(case, "acting_office", None)
        office = acting() if callable(acting) else case.office
        if office is None:
            return
        notify_office(
            office,
            template=f"{self.service}/{template}",
            context={
                "case_number": case.case_number,
                "status_label": case.status_label(),
                "due_date": case.due_date,
                **context,
            },
            service=case,
        )

    def tell_applicant(self, case: Case, template: str, **context: Any) -> None:
        """SMS and e-mail to the applicant from the workflow's templates (the template decides which parts exist)."""
        from portal.notify.services import notify_user

        notify_user(
            case.applicant,
            template=f"{self.service}/{template}",
            context={
                "application": case,
                "case_number": case.case_number,
                "due_date": case.due_date,
                **(self.notify_context(case) if self.notify_context else {}),
                **context,
            },
        )


def acceptance_limit(service: str) -> Callable[[Any], int]:
    """The limit of the acceptance clock the "submit" step starts: settings.ACCEPTANCE_WORKING_DAYS[service], read
    when the step is taken (docs/architecture.md#cases-transitions-and-deadlines)."""

    def limit(case: Any) -> int:
        from django.conf import settings

        return int(settings.ACCEPTANCE_WORKING_DAYS[service])

    return limit


def ensure_staff_may_act(
    by: Any,
    case: Case,
    *,
    roles: Iterable[str] = (),
    office: Office | None = None,
    workflow: Workflow | None = None,
    messages: AccessMessages | None = None,
) -> Office:
    """Role, office scope and own case, checked once for every staff step of every service; returns the acting
    office. `messages` (or the workflow's) word the refusals."""
    words = messages or (workflow.messages if workflow is not None else None)
    if words is None:
        raise ValueError("ensure_staff_may_act needs a workflow or messages")
    if by is None or not getattr(by, "is_staff", False) or not by.is_active:
        raise TransitionNotAllowed(str(words.staff_only))
    roles = tuple(roles)
    if roles and not is_administrator(by) and not by.groups.filter(name__in=roles).exists():
        raise TransitionNotAllowed(str(words.wrong_role))
    if office is None:
        acting = getattr(case, "acting_office", None)
        office = acting() if callable(acting) else case.office
    if office is None:
        raise TransitionNotAllowed(
            _("This action is not possible while the case is “%(status)s”.") % {"status": case.status_label()}
        )
    ids = scoped_office_ids(by, service=case)
    if ids is not ALL and office.pk not in ids:
        raise TransitionNotAllowed(str(words.other_office) % {"office": office})
    concerns = workflow.concerns if workflow is not None else None
    if concerns is not None and concerns(by, case):
        raise TransitionNotAllowed(str(words.own_case))
    return office


def parse_input(item: Input, raw: Any) -> Any:
    """A posted value as the step function takes it: text as given, a date parsed (None when left empty)."""
    if item.kind != "date":
        return raw
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(_("Enter the date as YYYY-MM-DD.")) from exc
