"""The catalogue's vocabulary: groups, documents, effects, the guide and service records, and the one helper that
builds a service from its guide and form; what several services share (the contact field, the reason section,
the incidents fields, the conditional-detail rule)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..fields import FieldDef, FormDef, Kind, Section

FORM_VERSION = "2026.1"
FORM_DATE = datetime.date(2026, 11, 1)
STANDARD_TIME_LIMIT = 20  # working days, unless a service has a shorter standard one

# The one-child period ended when the amended Population and Family Planning Law took effect (Article 27 of the
# law: the Certificate of Honour is for couples who chose to have one child while the state advocated it).
ONE_CHILD_PERIOD_END = datetime.date(2016, 1, 1)


class ServiceGroup(models.TextChoices):
    FAMILIES = "families", _("Services for families")
    INSTITUTIONS = "institutions", _("Technical-service institutions")
    PERSONNEL = "personnel", _("Technical-service personnel")


class DocumentKind(models.TextChoices):
    BIRTH_SERVICE_CERTIFICATE = "birth_service_certificate", _("Birth Service Certificate")
    ONLY_CHILD_CERTIFICATE = "only_child_certificate", _("Certificate of Honour for Parents of an Only Child")
    FLOATING_POPULATION_CERTIFICATE = (
        "floating_population_certificate",
        _("Marriage and Childbearing Certificate for the Floating Population"),
    )
    PRACTICE_LICENCE = "practice_licence", _("Practice Licence for Family-Planning Technical Service Institutions")
    QUALIFICATION_CERTIFICATE = (
        "qualification_certificate",
        _("Qualification Certificate for Family-Planning Technical Service Personnel"),
    )


class Effect(models.TextChoices):
    """What approving the service does to a document issued earlier."""

    NONE = "", _("None")
    REVOKES = "revokes", _("Revokes the earlier document")
    EXTENDS = "extends", _("Extends the validity of the earlier document")


POPULATION_LAW = _("Population and Family Planning Law of the People's Republic of China")
HENAN_REGULATIONS = _("Regulations of Henan Province on Population and Family Planning")
TECHNICAL_SERVICE_REGULATIONS = _("Regulations on the Administration of Family-Planning Technical Services")
FLOATING_POPULATION_REGULATIONS = _("Regulations on Family-Planning Work for the Floating Population")


@dataclass(frozen=True)
class Guide:
    conditions: tuple
    materials: tuple
    time_limit: int  # working days from acceptance (docs/architecture.md#the-working-day-clock)
    legal_basis: tuple


@dataclass(frozen=True)
class ServiceDef:
    key: str
    title: str
    summary: str
    group: str  # ServiceGroup
    guide: Guide
    form: FormDef
    issues: str = ""  # DocumentKind, or "" when approval issues no document
    effect: str = Effect.NONE
    affects: str = ""  # the DocumentKind revoked or extended

    def __post_init__(self):
        if (self.effect == Effect.NONE) != (not self.affects):
            raise ValueError(f"{self.key}: an effect needs the document it affects, and only then")


def service(
    key: str,
    title,
    summary,
    group: str,
    *,
    sections,
    conditions,
    materials,
    legal_basis,
    checks=(),
    time_limit: int = STANDARD_TIME_LIMIT,
    issues: str = "",
    effect: str = Effect.NONE,
    affects: str = "",
) -> ServiceDef:
    """A service of the catalogue: its guide and its form (of the current version) from one declaration."""
    form = FormDef(
        service_key=key,
        title=title,
        version=FORM_VERSION,
        date=FORM_DATE,
        sections=tuple(sections),
        checks=tuple(checks),
    )
    guide = Guide(
        conditions=tuple(conditions), materials=tuple(materials), time_limit=time_limit, legal_basis=tuple(legal_basis)
    )
    return ServiceDef(
        key=key,
        title=title,
        summary=summary,
        group=group,
        guide=guide,
        form=form,
        issues=issues,
        effect=effect,
        affects=affects,
    )


def contact_mobile() -> FieldDef:
    return FieldDef("contact_mobile", _("Mobile phone of the contact person"), Kind.MOBILE)


def check_detail_when(choice_field: str, value: str | bool, detail_field: str, message):
    """A rule: when `choice_field` is `value` (or includes it), `detail_field` must be filled in."""

    def check(cleaned: dict) -> dict:
        chosen = cleaned.get(choice_field)
        # `is` for True: a yes/no answer is a bool, and 1 == True must not count as "yes".
        hit = chosen is True if value is True else (value in chosen if isinstance(chosen, list) else chosen == value)
        if hit and not cleaned.get(detail_field):
            return {detail_field: message}
        return {}

    return check


def reason_section(reasons, *more: FieldDef) -> Section:
    """Why a document is to be cancelled: a reason from `reasons` (with details for "other"), then `more`."""
    return Section(
        _("Reason"),
        (
            FieldDef("reason", _("Reason for cancellation"), Kind.CHOICE, choices=reasons),
            FieldDef("reason_detail", _("Details"), Kind.TEXTAREA, required=False, max_length=1000),
            *more,
            contact_mobile(),
        ),
    )


def check_reason_detail(cleaned: dict) -> dict:
    """The details of a reason given as "other" (the cancellations' reason_section)."""
    return check_detail_when("reason", "other", "reason_detail", _("Explain the reason."))(cleaned)


def incidents_fields() -> tuple[FieldDef, FieldDef]:
    """Whether there were medical incidents or complaints since the last validation, and the account of them."""
    return (
        FieldDef("incidents", _("Were there medical incidents or complaints?"), Kind.YES_NO),
        FieldDef(
            "incidents_detail",
            _("Incidents and complaints, and how they were handled"),
            Kind.TEXTAREA,
            required=False,
            max_length=2000,
        ),
    )


def check_incidents_detail(cleaned: dict) -> dict:
    """The account of the incidents a validation reports (incidents_fields)."""
    return check_detail_when("incidents", True, "incidents_detail", _("Describe the incidents and complaints."))(
        cleaned
    )


def cancellation(
    key: str,
    title,
    summary,
    group: str,
    *,
    revokes: str,
    document: Section,
    holders: Section,
    reasons,
    more: tuple[FieldDef, ...] = (),
    **guide,
) -> ServiceDef:
    """A service that cancels a document issued earlier: the `document`, its `holders`, and why (a reason from
    `reasons`, details for "other", then `more`). Approving it revokes the document (`revokes`, a DocumentKind)."""
    return service(
        key,
        title,
        summary,
        group,
        sections=[document, holders, reason_section(reasons, *more)],
        checks=(check_reason_detail,),
        effect=Effect.REVOKES,
        affects=revokes,
        **guide,
    )


def validation(
    key: str,
    title,
    summary,
    group: str,
    *,
    extends: str,
    document: Section,
    since: tuple[FieldDef, ...],
    checks=(),
    **guide,
) -> ServiceDef:
    """The periodic validation that keeps a document in force: the `document`, and what happened since the last
    validation (`since`, which includes the incidents_fields, whose account check_incidents_detail requires).
    Approving it extends the document (`extends`, a DocumentKind)."""
    if "incidents" not in {field.name for field in since}:
        raise ValueError(f"{key}: a validation asks about incidents and complaints (incidents_fields)")
    return service(
        key,
        title,
        summary,
        group,
        sections=[document, Section(_("Since the last validation"), since)],
        checks=(*checks, check_incidents_detail),
        effect=Effect.EXTENDS,
        affects=extends,
        **guide,
    )
