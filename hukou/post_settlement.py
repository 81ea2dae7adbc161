"""One-stop hukou migration: the post-settlement check, which the move-in station records after a move is settled.

It is not a step of the STEPS table (the status stays "settled"): a timeline row notes it. Who may record it is the
rule of every office step (hukou.services._ensure_officer), for the move-in station.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portal.cases.services import TransitionConflict, TransitionNotAllowed, record_event

from .constants import Education, MaritalStatus, Status
from .models import MigrationApplication, Mover, PostSettlementCheck
from .services import _ensure_officer

__all__ = ["hukou_record_post_settlement_check"]


def _note_event(application: MigrationApplication, *, by, office, note: str, internal_note: str = ""):
    """A timeline row for a step that does not change the status (the post-settlement check)."""
    record_event(application, by=by, office=office, note=note, internal_note=internal_note)


def hukou_record_post_settlement_check(
    *,
    application: MigrationApplication,
    by,
    mover: Mover,
    marital_status: str,
    education: str,
    employer: str = "",
    phone: str = "",
    changes_made: str = "",
    evidence: str = "",
    internal_note: str = "",
) -> PostSettlementCheck:
    """After settlement the move-in station verifies one settled person's details and records what it changed.

    Changes need the evidence they rest on; each person is checked once.
    """
    if application.status != Status.SETTLED:
        raise TransitionNotAllowed(_("The post-settlement check is made once the move is settled."))
    office = _ensure_officer(by, application, office=application.office)
    if mover.application_id != application.pk:
        raise TransitionNotAllowed(_("This person is not part of this move."))
    problems = []
    if marital_status not in MaritalStatus.values:
        problems.append(ValidationError(_("Choose the marital status."), code="marital_status"))
    if education not in Education.values:
        problems.append(ValidationError(_("Choose the education."), code="education"))
    changes_made, evidence = (changes_made or "").strip(), (evidence or "").strip()
    if changes_made and not evidence:
        problems.append(ValidationError(_("Name the evidence the changes rest on."), code="evidence"))
    if problems:
        raise ValidationError(problems)
    try:
        with transaction.atomic():
            check = PostSettlementCheck.objects.create(
                mover=mover,
                marital_status=marital_status,
                education=education,
                employer=(employer or "").strip(),
                phone=(phone or "").strip(),
                changes_made=changes_made,
                evidence=evidence,
                checked_by=by,
            )
            note = _("Post-settlement check of %(name)s.") % {"name": mover.masked_name}
            if changes_made:
                note += "\n" + _("Changed: %(changes)s (evidence: %(evidence)s)") % {
                    "changes": changes_made,
                    "evidence": evidence,
                }
            _note_event(application, by=by, office=office, internal_note=internal_note, note=note)
    except IntegrityError as exc:  # someone recorded this person's check a moment ago
        raise TransitionConflict(
            _("%(name)s has already been checked. Reload the page.") % {"name": mover.masked_name}
        ) from exc
    return check
