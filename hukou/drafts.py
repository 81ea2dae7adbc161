"""One-stop hukou migration: the citizen's answers before and between the steps (none of these is a workflow step).

Creating and deleting a draft, saving each section's answers (only the citizen's own fields, and only while the
application may be edited, with the same guarded UPDATE as the steps), what is still missing before submission, and
the eligibility rules as they stand on the day of application. The steps themselves are in hukou.services.
"""

from __future__ import annotations

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import idnumber
from accounts.address import Address
from accounts.models import Office
from portal.cases.kept import kept_problems
from portal.cases.services import (
    TransitionConflict,
    TransitionNotAllowed,
    create_with_case_number,
    delete_draft,
    ensure_applicant,
)
from portal.documents.models import Document
from portal.documents.services import document_attach, documents_delete, documents_for_case, documents_move_office

from . import rules
from .constants import UPLOAD_KINDS, Category, DocumentKind, Grounds, Status
from .models import MigrationApplication, Mover, OriginMember
from .workflow import EDITABLE

logger = logging.getLogger("hukou")

__all__ = [
    "CITIZEN_FIELDS",
    "MOVER_FIELDS",
    "STAYING_FIELDS",
    "application_day",
    "hukou_add_documents",
    "hukou_create_draft",
    "hukou_delete_draft",
    "hukou_missing",
    "hukou_save_answers",
    "hukou_save_authorisations",
    "hukou_save_movers",
    "hukou_save_staying",
    "municipal_office_for",
    "municipal_office_required",
    "rule_violations",
]


def application_day(application: MigrationApplication) -> datetime.date:
    """The day of application: ages in the rules are taken on it (today for a draft)."""
    if application.submitted_at:
        return timezone.localdate(application.submitted_at)
    return timezone.localdate()


def rule_violations(application: MigrationApplication) -> list[rules.RuleViolation]:
    return rules.check_application(application, on=application_day(application))


# Answers the citizen gives in the sections; workflow fields are written only by the steps (hukou.services).
CITIZEN_FIELDS = frozenset(MigrationApplication.DESTINATION_ANSWERS + MigrationApplication.ORIGIN_ANSWERS)
MOVER_FIELDS = frozenset(Mover.ANSWERS)
STAYING_FIELDS = frozenset(OriginMember.ANSWERS)


def municipal_office_for(station: Office) -> Office | None:
    """The municipal household administration of the city `station` belongs to: it approves moves into that city."""
    city = station.city() if station is not None else None
    if city is None:
        return None
    return (
        Office.objects.filter(kind=Office.Kind.HOUSEHOLD_ADMIN, active=True, path__startswith=city.path)
        .order_by("pk")
        .first()
    )


def municipal_office_required(station: Office) -> Office:
    """municipal_office_for(station), or a ValidationError saying in plain words why the station cannot be chosen."""
    municipal = municipal_office_for(station)
    if municipal is None:
        raise ValidationError(
            _(
                "Moves to the area of %(station)s cannot be applied for online yet, because no municipal household "
                "administration there takes part. Apply at the counter of the police station."
            )
            % {"station": station},
            code="no_municipal_office",
        )
    return municipal


def hukou_create_draft(
    *, applicant, category: str, office: Office, grounds: str = "", answers: dict | None = None
) -> MigrationApplication:
    """A new draft at the move-in police station `office`, with a case number; its city's administration approves.

    `category` is who moves, `grounds` why (may wait for the first section); `answers` are further CITIZEN_FIELDS
    already given in the pre-check (who applies for the household joined), saved with it.
    """
    if category not in Category.values:
        raise ValidationError(_("Choose who moves."), code="category")
    if grounds and grounds not in Grounds.values:
        raise ValidationError(_("Choose the grounds on which you settle at the destination."), code="grounds")
    answers = dict(answers or {})
    unknown = set(answers) - CITIZEN_FIELDS
    if unknown:
        raise ValueError(f"not a citizen's answer: {sorted(unknown)}")
    if office is None or office.kind != Office.Kind.POLICE_STATION or not office.active:
        raise ValidationError(_("Choose the police station of the place you move to."), code="office")
    municipal = municipal_office_required(office)
    application = create_with_case_number(
        MigrationApplication,
        MigrationApplication.CASE_PREFIX,
        applicant=applicant,
        office=office,
        municipal_office=municipal,
        category=category,
        grounds=grounds,
        status=Status.DRAFT,
        **answers,
    )
    logger.info("hukou draft %s created by user %s", application.case_number, applicant.pk)
    return application


def _ensure_editable(application: MigrationApplication, by):
    ensure_applicant(by, application)
    if application.status not in EDITABLE:
        raise TransitionNotAllowed(
            _("Application %(number)s is “%(status)s” and can no longer be changed.")
            % {"number": application.case_number, "status": application.status_label()}
        )


def _touch(application: MigrationApplication, **fields):
    """Inside a transaction: write `fields` only if the case is still in the status it was read with.

    An officer acting at the same moment either sees the answers before its step or makes this fail; the row
    lock the UPDATE takes keeps the two apart until commit.
    """
    now = timezone.now()
    updated = MigrationApplication.objects.filter(pk=application.pk, status=application.status).update(
        updated_at=now, **fields
    )
    if updated != 1:
        raise TransitionConflict(
            _("Application %(number)s was changed a moment ago. Reload the page and check it.")
            % {"number": application.case_number}
        )
    for name, value in fields.items():
        setattr(application, name, value)
    application.updated_at = now


def hukou_save_answers(*, application: MigrationApplication, by, fields: dict, documents=()) -> MigrationApplication:
    """Save a section's answers (only CITIZEN_FIELDS) and attach its uploads, while the citizen may still edit.

    The move-in station can be changed only in a draft; its city's household administration comes with it, and the
    uploads follow it (portal.documents keeps each document's office for the staff's scoping).
    """
    _ensure_editable(application, by)
    unknown = set(fields) - CITIZEN_FIELDS
    if unknown:
        raise ValueError(f"not a citizen's answer: {sorted(unknown)}")
    fields = dict(fields)
    for name in ("receiving_householder_id_number", "receiving_family_member_id_number", "origin_head_id_number"):
        if fields.get(name):
            fields[name] = idnumber.parse(fields[name]).number
    new_office = fields.get("office")
    office_changes = new_office is not None and new_office.pk != application.office_id
    if office_changes:
        if application.status != Status.DRAFT:
            raise TransitionNotAllowed(_("The move-in police station cannot be changed after submission."))
        fields["municipal_office"] = municipal_office_required(new_office)
    with transaction.atomic():
        _touch(application, **fields)
        if office_changes:
            documents_move_office(case=application, office=new_office)
        for document in documents:
            if document is not None:
                document_attach(document=document, case=application)
    return application


def _normalised_rows(rows, allowed: frozenset) -> list[dict]:
    cleaned = []
    for row in rows:
        unknown = set(row) - allowed
        if unknown:
            raise ValueError(f"not a person's field: {sorted(unknown)}")
        row = dict(row)
        if row.get("id_number"):
            row["id_number"] = idnumber.parse(row["id_number"]).number
        cleaned.append(row)
    numbers = [row["id_number"] for row in cleaned if row.get("id_number")]
    if len(numbers) != len(set(numbers)):
        raise ValidationError(_("The same ID number is given for two people."), code="duplicate_id_number")
    return cleaned


def hukou_save_movers(*, application: MigrationApplication, by, movers) -> list[Mover]:
    """Replace the people moving with `movers` (dicts of MOVER_FIELDS, in booklet order).

    A person already listed (same ID number) keeps their record and their power of attorney; people left out are
    removed. Sex and date of birth come from the ID number (Mover.save).
    """
    _ensure_editable(application, by)
    rows = _normalised_rows(movers, MOVER_FIELDS)
    if any(not (row.get("name") or "").strip() or not row.get("id_number") for row in rows):
        raise ValidationError(_("Give the name and ID number of each person moving."), code="incomplete")
    saved = []
    with transaction.atomic():
        _touch(application)
        existing = {m.id_number: m for m in application.movers.all()}
        for position, row in enumerate(rows):
            mover = existing.get(row.get("id_number")) or Mover(application=application)
            for name, value in row.items():
                setattr(mover, name, value)
            mover.position = position
            mover.save()
            saved.append(mover)
        application.movers.exclude(pk__in=[m.pk for m in saved]).delete()
    return saved


def hukou_save_staying(*, application: MigrationApplication, by, fields: dict, staying) -> list[OriginMember]:
    """Save the origin household (`fields`) and replace the members who stay with `staying` (dicts of STAYING_FIELDS).

    At most one of them is the new head of household; a child may be given by date of birth alone.
    """
    rows = _normalised_rows(staying, STAYING_FIELDS)
    if sum(1 for row in rows if row.get("is_new_head")) > 1:
        raise ValidationError(_("Name only one new head of household."), code="new_head_ambiguous")
    for row in rows:
        if not row.get("id_number") and not row.get("birth_date"):
            raise ValidationError(
                _("Give the ID number or the date of birth of %(name)s.") % {"name": row.get("name") or "?"},
                code="birth_date",
            )
    with transaction.atomic():
        hukou_save_answers(application=application, by=by, fields=fields)
        application.staying_members.all().delete()
        members = [OriginMember(application=application, position=position, **row) for position, row in enumerate(rows)]
        for member in members:
            member.save()  # not bulk_create: save() derives sex and date of birth from the ID number
    return members


def hukou_save_authorisations(
    *,
    application: MigrationApplication,
    by,
    movers: dict | None = None,
    receiving_power_of_attorney: Document | None = None,
    householder_consent: Document | None = None,
) -> MigrationApplication:
    """Attach powers of attorney (`movers`: Mover pk -> Document) and the receiving householder's consent."""
    _ensure_editable(application, by)
    movers = {pk: document for pk, document in (movers or {}).items() if document is not None}
    known = set(application.movers.filter(pk__in=movers).values_list("pk", flat=True))
    if set(movers) - known:
        raise TransitionNotAllowed(_("This person is not part of this move."))
    fields = {}
    if receiving_power_of_attorney is not None:
        fields["receiving_power_of_attorney"] = receiving_power_of_attorney
    if householder_consent is not None:
        fields["householder_consent"] = householder_consent
    with transaction.atomic():
        _touch(application, **fields)
        for document in (*movers.values(), *fields.values()):
            document_attach(document=document, case=application)
        for pk, document in movers.items():
            Mover.objects.filter(pk=pk, application=application).update(power_of_attorney=document)
    return application


def hukou_add_documents(*, application: MigrationApplication, by, documents=(), remove=()) -> MigrationApplication:
    """Attach new uploads (ID cards, booklet pages, category materials) and, in a draft, delete the ones in `remove`.

    Files already sent to the police station stay with the case: after submission uploads can only be added.
    """
    _ensure_editable(application, by)
    remove = list(remove)
    if remove and application.status != Status.DRAFT:
        raise TransitionNotAllowed(
            _("Files already sent to the police station stay with the application; you can add new ones.")
        )
    own = documents_for_case(application).filter(kind__in=UPLOAD_KINDS)
    if remove and own.filter(pk__in=[d.pk for d in remove]).count() != len({d.pk for d in remove}):
        raise TransitionNotAllowed(_("This file is not part of this application."))
    with transaction.atomic():
        _touch(application)
        for document in documents:
            if document is not None:
                document_attach(document=document, case=application)
        if remove:
            documents_delete(remove)
    return application


def hukou_delete_draft(*, application: MigrationApplication, by) -> None:
    """Delete a draft with its people, uploads (the files after commit) and timeline."""
    delete_draft(application, by=by)


def _missing_people(application: MigrationApplication) -> list[tuple[str, str]]:
    missing = []
    movers = list(application.movers.all())
    staying = list(application.staying_members.all())
    for mover in movers:
        if not mover.relation:
            missing.append(
                ("movers", _("Give the relation of %(name)s to the head of household.") % {"name": mover.name})
            )
    for member in staying:
        if not member.relation:
            missing.append(
                ("origin", _("Give the relation of %(name)s to the head of household.") % {"name": member.name})
            )
    moving_numbers = {m.id_number for m in movers}
    for member in staying:
        if member.id_number and member.id_number in moving_numbers:
            missing.append(
                (
                    "origin",
                    _("%(name)s is listed both as moving and as staying: remove them from those who stay.")
                    % {"name": member.name},
                )
            )
    head = next((m for m in movers if m.is_head), None)
    if head and application.origin_head_id_number and head.id_number != application.origin_head_id_number:
        missing.append(
            (
                "origin",
                _(
                    "%(name)s moves as the head of household, but another person is given as head of the household "
                    "you leave. Correct one of them."
                )
                % {"name": head.name},
            )
        )
    if not head and any(m.is_new_head for m in staying):
        missing.append(("origin", _("A new head of household is named only when the head of household moves out.")))
    return missing


def hukou_missing(*, application: MigrationApplication) -> list[tuple[str, str]]:
    """(section, message) for what must still be given before submission, besides the eligibility rules.

    The sections are those of the citizen's pages: destination, movers, origin, authorisations, documents and
    declaration.
    """
    # What was typed on a page but could not be saved yet comes first (portal.cases.kept).
    missing = list(kept_problems(application))
    if not application.municipal_office_id:
        missing.append(("destination", _("Choose a move-in police station whose city handles moves online.")))
    if not application.destination_address.strip():
        missing.append(("destination", _("Enter the address you move to.")))
    elif not Address.of(application, "destination", "destination_address").complete:
        # Saved in a draft without all its parts, or typed before addresses had parts.
        missing.append(("destination", _("Complete the address you move to: its city, district or county and road.")))
    if application.destination_collective and not application.collective_household_name.strip():
        missing.append(("destination", _("Enter the name of the collective household you move into.")))
    if not application.grounds:
        missing.append(("destination", _("Choose the grounds on which you settle at the destination.")))
    if application.grounds == Grounds.JOIN_RELATIVES and not application.receiving_relation:
        missing.append(
            ("destination", _("Give how the people moving are related to the head of the household you join."))
        )
    if not application.origin_office_id:
        missing.append(("origin", _("Choose the police station of the household you leave.")))
    if not application.origin_address.strip():
        missing.append(("origin", _("Enter the address of the household you leave.")))
    elif not Address.of(application, "origin", "origin_address").complete:
        missing.append(
            ("origin", _("Complete the address of the household you leave: its city, district or county and road."))
        )
    if not (application.origin_head_name.strip() and application.origin_head_id_number):
        missing.append(("origin", _("Give the name and ID number of the head of the household you leave.")))
    missing += _missing_people(application)
    kinds = set(documents_for_case(application).values_list("kind", flat=True))
    labels = {
        DocumentKind.ID_CARD: _("Upload the ID cards of the people moving."),
        DocumentKind.BOOKLET: _("Upload the pages of the Household Register Booklet."),
        DocumentKind.EVIDENCE: _("Upload the materials for your category of move."),
    }
    missing += [("documents", labels[kind]) for kind in UPLOAD_KINDS if kind not in kinds]
    if application.declaration_at is None:
        missing.append(("declaration", _("Tick the declaration to confirm that the information is true.")))
    return missing
