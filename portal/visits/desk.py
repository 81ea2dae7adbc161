"""Today's booked visits on the officer's desk (the admin index, portal.cases.desk): one query, however many."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from accounts.scoping import ALL, scoped_office_ids, scoped_services

from . import purposes
from .admin import case_admin_url, outcome_label
from .models import Visit, VisitSlot, VisitStatus
from .services import masked_applicant

if TYPE_CHECKING:
    from django.http import HttpRequest


@dataclass(frozen=True)
class DeskVisit:
    slot: VisitSlot
    case_number: str
    case_url: str
    applicant: str  # the name and the masked ID number
    purpose: Any
    status: str
    status_label: Any
    office: Any


def todays_visits(request: HttpRequest, today: datetime.date | None = None) -> list[DeskVisit] | None:
    """The visits booked today at the staff member's offices, for the services of their agency, by time.
    None (no section) for administrators, who receive nobody, and for staff without the visits' permission."""
    user = request.user
    office_ids = scoped_office_ids(user, service=None)
    if office_ids is ALL or not office_ids or not user.has_perm("visits.view_visit"):
        return None
    labels = sorted(scoped_services(user) or ())
    visits = (
        Visit.objects.filter(
            slot__day=today or timezone.localdate(),
            slot__station__office__in=sorted(office_ids),
            content_type__app_label__in=labels,
        )
        .exclude(status=VisitStatus.CANCELLED)
        .select_related("slot__station__office", "applicant", "content_type")
        .order_by("slot__starts_at", "pk")
    )
    rows = []
    for visit in visits:
        purpose = purposes.get(visit.purpose)
        rows.append(
            DeskVisit(
                slot=visit.slot,
                case_number=visit.case_number,
                case_url=case_admin_url(visit),
                applicant=masked_applicant(visit.applicant),
                purpose=purpose.title if purpose else visit.purpose,
                status=visit.status,
                status_label=outcome_label(visit),
                office=visit.slot.station.office,
            )
        )
    return rows
