"""The cases of every service, as feedback sees them: found by service key and case number through portal.registry
(the portal imports no service). A case is *decided* when it finished with a decision: a finished status of its
model (Case.finished_statuses) other than withdrawn. The answer to a complaint counts as a decided case of the
service "feedback", so a complainant rates it like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Model
from django.urls import NoReverseMatch, reverse

from portal import registry

if TYPE_CHECKING:
    from portal.cases.models import Case

FEEDBACK = "feedback"  # the service key of a rated answer to a complaint
# A finished case that had no decision to rate.
UNDECIDED_ENDS = ("withdrawn",)


@dataclass(frozen=True)
class CaseRef:
    """A case of any service, with what a rating needs of it."""

    service: str
    case: Any  # the Case instance

    @property
    def case_number(self) -> str:
        return str(self.case.case_number)

    @property
    def title(self) -> str:
        if self.service == FEEDBACK:
            return str(self.case.title)
        found = registry.get_service(self.service)
        return str(getattr(self.case, "title", None) or (found.title if found else self.service))

    @property
    def url(self) -> str:
        """The citizen's page of the case."""
        name = "feedback:detail" if self.service == FEEDBACK else f"{self.service}:detail"
        try:
            return reverse(name, kwargs={"case_number": self.case_number})
        except NoReverseMatch:
            return ""


def _models_of(service: str) -> tuple[type[Model], ...]:
    if service == FEEDBACK:
        from .models import Feedback

        return (Feedback,)
    found = registry.get_service(service)
    return found.case_models if found is not None else ()


def decided_statuses(model: type[Case]) -> tuple[str, ...]:
    return tuple(status for status in model.finished_statuses() if status not in UNDECIDED_ENDS)


def is_decided(ref: CaseRef) -> bool:
    from .models import FeedbackKind

    if ref.service == FEEDBACK and ref.case.kind != FeedbackKind.COMPLAINT:
        return False  # only the answer to a complaint is rated
    return ref.case.status in decided_statuses(type(ref.case))


def find(service: str, case_number: str) -> CaseRef | None:
    """The submitted case with this number in this service (drafts are no cases yet), or None."""
    for model in _models_of(service):
        case = (
            model._default_manager.filter(case_number=case_number)
            .exclude(status__in=model.DRAFT_STATUSES)  # type: ignore[attr-defined]
            .select_related("office")
            .first()
        )
        if case is not None:
            return CaseRef(service, case)
    return None


def of_case(case: Case) -> CaseRef:
    """A case instance named generically."""
    from .models import Feedback

    return CaseRef(FEEDBACK if isinstance(case, Feedback) else case._meta.app_label, case)


def as_ref(case: Any) -> CaseRef | None:
    """A CaseRef as given, or a case instance of any service named generically (None stays None)."""
    return case if case is None or isinstance(case, CaseRef) else of_case(case)


def citizen_cases(user: Any, *, decided_only: bool = False) -> list[CaseRef]:
    """The citizen's submitted cases of every service (and, when decided, their answered complaints), newest first."""
    if not getattr(user, "is_authenticated", False):
        return []
    keys = [service.key for service in registry.services()] + ([FEEDBACK] if decided_only else [])
    found: list[CaseRef] = []
    for key in keys:
        for model in _models_of(key):
            qs = model._default_manager.filter(applicant=user).select_related("office")
            if decided_only:
                qs = qs.filter(status__in=decided_statuses(model))  # type: ignore[arg-type]
                if key == FEEDBACK:
                    qs = qs.filter(kind="complaint")
            else:
                qs = qs.exclude(status__in=model.DRAFT_STATUSES)  # type: ignore[attr-defined]
            found.extend(CaseRef(key, case) for case in qs.order_by("-updated_at"))
    return sorted(found, key=lambda ref: ref.case.updated_at, reverse=True)
