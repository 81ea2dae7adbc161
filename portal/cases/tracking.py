"""The public progress enquiry's one rule: which case a number and second factor find, and what is shown to whom.

Every service answers `/track/` under the same rule (docs/architecture.md#security-and-privacy): the case number and
the last four characters of the applicant's ID number (X in either case; for a certificate applied for by an agent,
the holder's number counts as well). Names are not accepted: they are known to too many people. A wrong number and a
wrong second factor give the same answer. Where a service marks the outcome confidential (a refused certificate of
no criminal record means a conviction), anyone but the signed-in applicant or holder learns only the stage.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from accounts import idnumber
from portal import registry
from portal.registry import CaseSummary, TrackedCase, TrackStage

from .services import normalize_case_number

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

STAGE_LABELS: dict[str, StrOrPromise] = {
    TrackStage.SUBMITTED: _("Submitted, waiting to be accepted"),
    TrackStage.IN_REVIEW: _("Being reviewed"),
    TrackStage.CLOSED: _("Finished: log in to see the result"),
}


@dataclass(frozen=True)
class TrackResult:
    """What `/track/` shows: `full` (status, due date, timeline) or, for a confidential case, only `stage_label`."""

    service: str
    case_number: str
    title: str
    full: CaseSummary | None
    stage_label: StrOrPromise = ""


def last_four(value: str) -> str:
    """The second factor as typed, normalised: full-width to half-width, spaces out, x as X; "" unless 4 characters."""
    cleaned = idnumber.normalize(value or "")  # NFKC inside
    return cleaned if len(cleaned) == 4 else ""


def second_factor_matches(found: TrackedCase, second_factor: str) -> bool:
    typed = last_four(second_factor)
    if not typed:
        return False
    matched = False
    for number in found.id_numbers:
        expected = idnumber.normalize(number)[-4:]
        # Every number is compared (no early exit), in constant time.
        matched |= len(expected) == 4 and hmac.compare_digest(expected.encode(), typed.encode())
    return matched


def is_owner(found: TrackedCase, user: Any) -> bool:
    """The signed-in applicant, or the signed-in holder (by their account's ID number)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.pk in found.owner_ids:
        return True
    own = idnumber.normalize(getattr(user, "id_number", "") or "")
    return bool(own) and any(idnumber.normalize(number) == own for number in found.owner_id_numbers)


def track(case_number: str, second_factor: str, *, user: Any = None) -> TrackResult | None:
    """The answer to one enquiry, or None for "no application matches" (whatever was wrong)."""
    number = normalize_case_number(case_number)
    if not number or not last_four(second_factor):
        return None
    found = registry.find_for_track(number)
    if found is None or not second_factor_matches(found, second_factor):
        return None
    summary = found.summary
    if found.confidential and not is_owner(found, user):
        return TrackResult(
            service=summary.service,
            case_number=summary.case_number,
            title=summary.title,
            full=None,
            stage_label=STAGE_LABELS[found.stage],
        )
    return TrackResult(service=summary.service, case_number=summary.case_number, title=summary.title, full=summary)
