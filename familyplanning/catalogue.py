"""The family-planning service catalogue: each service's guide, application form and issued document, as data."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from .fields import FieldDef, FormDef, Kind, Section

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


# --- Reusable field groups ------------------------------------------------------------------------------------

MARITAL_STATUS = (
    ("first_marriage", _("First marriage")),
    ("remarried", _("Remarried")),
)
CHILD_ORDER = (
    ("first", _("First child")),
    ("second", _("Second child")),
    ("third_or_later", _("Third or later child")),
)
# Services a technical-service institution or a member of its staff may provide (Regulations on the
# Administration of Family-Planning Technical Services, Articles 8 and 9).
TECHNICAL_SERVICES = (
    ("counselling", _("Counselling and education on contraception and reproductive health")),
    ("contraceptives", _("Provision of contraceptives and guidance on their use")),
    ("medical_checks", _("Medical examinations related to contraception and birth control")),
    ("iud", _("Insertion and removal of intrauterine devices")),
    ("sterilisation", _("Vasectomy and tubal ligation, and their reversal")),
    ("abortion", _("Termination of pregnancy")),
    ("complications", _("Diagnosis and treatment of complications of family-planning operations")),
    ("infertility", _("Diagnosis and treatment of infertility")),
)
INSTITUTION_TYPES = (
    ("service_station", _("Family-planning technical service station (province, city or county)")),
    ("township_station", _("Township or sub-district family-planning service station")),
    ("medical_institution", _("Medical institution providing family-planning technical services")),
)
PROFESSIONS = (
    ("doctor", _("Doctor")),
    ("nurse", _("Nurse")),
    ("pharmacist", _("Pharmacist")),
    ("technician", _("Medical technician")),
    ("counsellor", _("Family-planning counsellor")),
)


def spouse_section(prefix: str, title) -> Section:
    """One spouse's data, as the birth registration and Certificate of Honour forms ask it."""
    return Section(
        title,
        (
            FieldDef(prefix, title, Kind.PERSON),
            FieldDef(f"{prefix}_marital_status", _("Marital status"), Kind.CHOICE, choices=MARITAL_STATUS),
            FieldDef(f"{prefix}_hukou_address", _("Place of household registration (hukou)"), max_length=200),
            FieldDef(f"{prefix}_residence_address", _("Current address"), max_length=200),
            FieldDef(f"{prefix}_employer", _("Employer"), required=False, max_length=200),
            FieldDef(f"{prefix}_mobile", _("Mobile phone"), Kind.MOBILE),
        ),
    )


def marriage_section() -> Section:
    return Section(
        _("Marriage"),
        (
            FieldDef("marriage_date", _("Date of marriage registration"), Kind.DATE, not_future=True),
            FieldDef("marriage_certificate_number", _("Marriage certificate number"), max_length=40),
        ),
    )


def children_section() -> Section:
    return Section(
        _("Children already born"),
        (
            FieldDef(
                "children_count",
                _("Number of children already born to or adopted by the couple"),
                Kind.INTEGER,
                max_value=20,
            ),
            FieldDef("child_1", _("First child"), Kind.PERSON, required=False),
            FieldDef(
                "child_1_birth_date", _("First child's date of birth"), Kind.DATE, required=False, not_future=True
            ),
            FieldDef("child_2", _("Second child"), Kind.PERSON, required=False),
            FieldDef(
                "child_2_birth_date", _("Second child's date of birth"), Kind.DATE, required=False, not_future=True
            ),
            FieldDef(
                "other_children",
                _("Other children"),
                Kind.TEXTAREA,
                required=False,
                max_length=1000,
                lines=2,
                help_text=_("For each further child: name, date of birth, ID number, and which spouse is the parent."),
            ),
        ),
    )


def check_children(cleaned: dict) -> dict:
    """The children listed must match the number given: one named child per child, up to two."""
    errors = {}
    count = cleaned.get("children_count") or 0
    for n in (1, 2):
        named = bool(cleaned.get(f"child_{n}_name"))
        if n <= count and not named:
            errors[f"child_{n}_name"] = _(
                "Enter this child's name and ID number: you said the couple has %(count)d."
            ) % {"count": count}
        if named and n > count:
            errors["children_count"] = _("This number does not match the children listed below.")
        if named and not cleaned.get(f"child_{n}_birth_date"):
            errors[f"child_{n}_birth_date"] = _("Enter this child's date of birth.")
    if count > 2 and not cleaned.get("other_children"):
        errors["other_children"] = _("List the other children here.")
    return errors


def check_child_order(cleaned: dict) -> dict:
    """The child registered must follow the children already born (first: none yet; second: one)."""
    order, count = cleaned.get("child_order"), cleaned.get("children_count") or 0
    expected = {"first": lambda c: c == 0, "second": lambda c: c == 1, "third_or_later": lambda c: c >= 2}
    if order in expected and not expected[order](count):
        return {"child_order": _("This does not match the number of children already born.")}
    return {}


def check_due_date(cleaned: dict) -> dict:
    if cleaned.get("pregnant") and not cleaned.get("expected_birth_date"):
        return {"expected_birth_date": _("Enter the expected date of birth.")}
    return {}


def registration_section() -> Section:
    return Section(
        _("This registration"),
        (
            FieldDef("child_order", _("The child to be registered"), Kind.CHOICE, choices=CHILD_ORDER),
            FieldDef("pregnant", _("Is the wife pregnant now?"), Kind.YES_NO),
            FieldDef(
                "expected_birth_date",
                _("Expected date of birth"),
                Kind.DATE,
                required=False,
                help_text=_("If the wife is pregnant, as the antenatal record states."),
            ),
        ),
    )


def contact_mobile() -> FieldDef:
    return FieldDef("contact_mobile", _("Mobile phone of the contact person"), Kind.MOBILE)


def check_detail_when(choice_field: str, value: str, detail_field: str, message):
    """A rule: when `choice_field` is `value` (or includes it), `detail_field` must be filled in."""

    def check(cleaned: dict) -> dict:
        chosen = cleaned.get(choice_field)
        # `is` for True: a yes/no answer is a bool, and 1 == True must not count as "yes".
        hit = chosen is True if value is True else (value in chosen if isinstance(chosen, list) else chosen == value)
        if hit and not cleaned.get(detail_field):
            return {detail_field: message}
        return {}

    return check


# --- The services ------------------------------------------------------------------------------------------------

REGISTRATION_TIME_LIMIT = 1  # birth registration is done at once when the materials are complete


def _form(key, title, sections, checks=()) -> FormDef:
    return FormDef(
        service_key=key,
        title=title,
        version=FORM_VERSION,
        date=FORM_DATE,
        sections=tuple(sections),
        checks=tuple(checks),
    )


def _birth_registration(floating: bool) -> ServiceDef:
    key = "birth_registration_floating" if floating else "birth_registration"
    title = _("Birth Registration for the Floating Population") if floating else _("Birth Registration")
    sections = [spouse_section("wife", _("Wife")), spouse_section("husband", _("Husband")), marriage_section()]
    if floating:
        sections.append(
            Section(
                _("Residence"),
                (
                    FieldDef("residence_permit_number", _("Residence permit number"), max_length=40),
                    FieldDef("resident_since", _("Living at the current address since"), Kind.DATE, not_future=True),
                ),
            )
        )
    sections += [children_section(), registration_section()]
    conditions = [
        _("The couple are married and register a first, second or third child."),
        _(
            "Either spouse may register, at the family-planning office of the place of either spouse's household "
            "registration or of their residence."
        ),
    ]
    materials = [
        _("The resident ID cards of both spouses"),
        _("The marriage certificate"),
        _("The Household Register Booklets of both spouses"),
    ]
    if floating:
        conditions.append(
            _(
                "For the floating population: the couple live in Henan with a residence permit, and register where "
                "they live rather than where their hukou is."
            )
        )
        materials.append(_("The residence permit"))
    return ServiceDef(
        key=key,
        title=title,
        summary=(
            _("Register a first or later child where you live, although your hukou is elsewhere.")
            if floating
            else _("Register a first or later child, with both spouses' data.")
        ),
        group=ServiceGroup.FAMILIES,
        guide=Guide(
            conditions=tuple(conditions),
            materials=tuple(materials),
            time_limit=REGISTRATION_TIME_LIMIT,
            legal_basis=(POPULATION_LAW, HENAN_REGULATIONS) + ((FLOATING_POPULATION_REGULATIONS,) if floating else ()),
        ),
        form=_form(key, title, sections, checks=(check_children, check_child_order, check_due_date)),
        issues=DocumentKind.BIRTH_SERVICE_CERTIFICATE,
    )


def _birth_registration_cancellation() -> ServiceDef:
    key, title = "birth_registration_cancellation", _("Cancellation of a Birth Registration")
    reasons = (
        ("pregnancy_ended", _("The pregnancy has ended")),
        ("registered_elsewhere", _("The couple have registered elsewhere")),
        ("marriage_ended", _("The marriage has ended")),
        ("error", _("The registration was made in error")),
        ("other", _("Other reason")),
    )
    form = _form(
        key,
        title,
        [
            Section(
                _("The registration"),
                (
                    FieldDef("certificate_number", _("Number of the Birth Service Certificate"), max_length=40),
                    FieldDef("registered_on", _("Date of registration"), Kind.DATE, not_future=True),
                ),
            ),
            Section(
                _("The couple"),
                (FieldDef("wife", _("Wife"), Kind.PERSON), FieldDef("husband", _("Husband"), Kind.PERSON)),
            ),
            Section(
                _("Reason"),
                (
                    FieldDef("reason", _("Reason for cancellation"), Kind.CHOICE, choices=reasons),
                    FieldDef("reason_detail", _("Details"), Kind.TEXTAREA, required=False, max_length=1000),
                    FieldDef(
                        "certificate_returned",
                        _("Is the paper certificate returned with this application?"),
                        Kind.YES_NO,
                    ),
                    contact_mobile(),
                ),
            ),
        ],
        checks=(check_detail_when("reason", "other", "reason_detail", _("Explain the reason.")),),
    )
    return ServiceDef(
        key=key,
        title=title,
        summary=_("Cancel a birth registration that no longer applies."),
        group=ServiceGroup.FAMILIES,
        guide=Guide(
            conditions=(_("The couple hold a Birth Service Certificate that no longer applies."),),
            materials=(
                _("The resident ID cards of both spouses"),
                _("The Birth Service Certificate, if issued on paper"),
            ),
            time_limit=REGISTRATION_TIME_LIMIT,
            legal_basis=(POPULATION_LAW, HENAN_REGULATIONS),
        ),
        form=form,
        effect=Effect.REVOKES,
        affects=DocumentKind.BIRTH_SERVICE_CERTIFICATE,
    )


def check_one_child_period(cleaned: dict) -> dict:
    born = cleaned.get("child_birth_date")
    if born and born >= ONE_CHILD_PERIOD_END:
        return {
            "child_birth_date": _(
                "The certificate is only for parents of a child born before 1 January 2016, while the state "
                "advocated one child per couple."
            )
        }
    return {}


def _only_child_certificate() -> ServiceDef:
    key, title = "only_child_certificate", _("Certificate of Honour for Parents of an Only Child")
    relationships = (("born", _("Born to the couple")), ("adopted", _("Legally adopted")))
    form = _form(
        key,
        title,
        [
            spouse_section("mother", _("Mother")),
            spouse_section("father", _("Father")),
            marriage_section(),
            Section(
                _("The only child"),
                (
                    FieldDef("child", _("The child"), Kind.PERSON),
                    FieldDef("child_birth_date", _("Child's date of birth"), Kind.DATE, not_future=True),
                    FieldDef("child_relationship", _("Relationship to the couple"), Kind.CHOICE, choices=relationships),
                    FieldDef(
                        "no_other_child",
                        _("Do we declare that we have no other child, born or adopted?"),
                        Kind.YES_NO,
                    ),
                ),
            ),
        ],
        checks=(
            check_one_child_period,
            lambda cleaned: (
                {"no_other_child": _("The certificate is only for parents who have no other child.")}
                if cleaned.get("no_other_child") is False
                else {}
            ),
        ),
    )
    return ServiceDef(
        key=key,
        title=title,
        summary=_("Apply for the certificate if you chose to have only one child during the one-child period."),
        group=ServiceGroup.FAMILIES,
        guide=Guide(
            conditions=(
                _(
                    "The couple chose to have only one child while the state advocated one child per couple, and the "
                    "child was born or adopted before 1 January 2016."
                ),
                _("The couple have no other child."),
            ),
            materials=(
                _("The resident ID cards of both parents"),
                _("The marriage certificate"),
                _("The Household Register Booklet showing the child"),
                _("The child's birth medical certificate or the adoption certificate"),
            ),
            time_limit=STANDARD_TIME_LIMIT,
            legal_basis=(POPULATION_LAW, HENAN_REGULATIONS),
        ),
        form=form,
        issues=DocumentKind.ONLY_CHILD_CERTIFICATE,
    )


def _only_child_certificate_cancellation() -> ServiceDef:
    key, title = (
        "only_child_certificate_cancellation",
        _("Cancellation of a Certificate of Honour for Parents of an Only Child"),
    )
    reasons = (
        ("another_child", _("The couple have had or adopted another child")),
        ("error", _("The certificate was issued in error")),
        ("other", _("Other reason")),
    )
    form = _form(
        key,
        title,
        [
            Section(
                _("The certificate"),
                (
                    FieldDef("certificate_number", _("Certificate number"), max_length=40),
                    FieldDef("issued_on", _("Date of issue"), Kind.DATE, not_future=True),
                ),
            ),
            Section(
                _("The parents"),
                (FieldDef("mother", _("Mother"), Kind.PERSON), FieldDef("father", _("Father"), Kind.PERSON)),
            ),
            Section(
                _("Reason"),
                (
                    FieldDef("reason", _("Reason for cancellation"), Kind.CHOICE, choices=reasons),
                    FieldDef("reason_detail", _("Details"), Kind.TEXTAREA, required=False, max_length=1000),
                    contact_mobile(),
                ),
            ),
        ],
        checks=(check_detail_when("reason", "other", "reason_detail", _("Explain the reason.")),),
    )
    return ServiceDef(
        key=key,
        title=title,
        summary=_("Hand back the certificate when the conditions no longer apply."),
        group=ServiceGroup.FAMILIES,
        guide=Guide(
            conditions=(_("The holders of the certificate no longer meet its conditions, or it was issued in error."),),
            materials=(_("The resident ID cards of both parents"), _("The certificate, if issued on paper")),
            time_limit=STANDARD_TIME_LIMIT,
            legal_basis=(POPULATION_LAW, HENAN_REGULATIONS),
        ),
        form=form,
        effect=Effect.REVOKES,
        affects=DocumentKind.ONLY_CHILD_CERTIFICATE,
    )


def check_married(cleaned: dict) -> dict:
    errors = {}
    if cleaned.get("marital_status") in ("married", "remarried"):
        if not cleaned.get("spouse_name"):
            errors["spouse_name"] = _("Enter your spouse's name and ID number.")
        if not cleaned.get("marriage_date"):
            errors["marriage_date"] = _("Enter the date of your marriage registration.")
    return errors


def _floating_population_certificate() -> ServiceDef:
    key = "floating_population_certificate"
    title = _("Marriage and Childbearing Certificate for the Floating Population")
    statuses = (
        ("unmarried", _("Unmarried")),
        ("married", _("Married (first marriage)")),
        ("remarried", _("Remarried")),
        ("divorced", _("Divorced")),
        ("widowed", _("Widowed")),
    )
    form = _form(
        key,
        title,
        [
            Section(
                _("Applicant"),
                (
                    FieldDef("applicant", _("Applicant"), Kind.PERSON),
                    FieldDef("hukou_address", _("Place of household registration (hukou)"), max_length=200),
                    FieldDef("mobile", _("Mobile phone"), Kind.MOBILE),
                ),
            ),
            Section(
                _("Where you are going"),
                (
                    FieldDef("destination_province", _("Province you are moving to"), max_length=40),
                    FieldDef("destination_address", _("Address at the destination"), max_length=200),
                    FieldDef("destination_employer", _("Employer at the destination"), required=False, max_length=200),
                    FieldDef("departure_date", _("Date of leaving"), Kind.DATE),
                ),
            ),
            Section(
                _("Marriage and children"),
                (
                    FieldDef("marital_status", _("Marital status"), Kind.CHOICE, choices=statuses),
                    FieldDef("spouse", _("Spouse"), Kind.PERSON, required=False),
                    FieldDef(
                        "marriage_date", _("Date of marriage registration"), Kind.DATE, required=False, not_future=True
                    ),
                    FieldDef("children_count", _("Number of children"), Kind.INTEGER, max_value=20),
                    FieldDef(
                        "youngest_child_birth_date",
                        _("Youngest child's date of birth"),
                        Kind.DATE,
                        required=False,
                        not_future=True,
                    ),
                ),
            ),
        ],
        checks=(
            check_married,
            lambda cleaned: (
                {"youngest_child_birth_date": _("Enter the youngest child's date of birth.")}
                if (cleaned.get("children_count") or 0) > 0 and not cleaned.get("youngest_child_birth_date")
                else {}
            ),
        ),
    )
    return ServiceDef(
        key=key,
        title=title,
        summary=_("For people of childbearing age whose hukou is in Henan and who move to another province."),
        group=ServiceGroup.FAMILIES,
        guide=Guide(
            conditions=(
                _(
                    "You are of childbearing age, your hukou is in Henan, and you leave it to live or work in another "
                    "province."
                ),
            ),
            materials=(
                _("Your resident ID card"),
                _("The Household Register Booklet"),
                _("The marriage certificate, if married"),
            ),
            time_limit=STANDARD_TIME_LIMIT,
            legal_basis=(POPULATION_LAW, FLOATING_POPULATION_REGULATIONS, HENAN_REGULATIONS),
        ),
        form=form,
        issues=DocumentKind.FLOATING_POPULATION_CERTIFICATE,
    )


def institution_section() -> Section:
    return Section(
        _("The institution"),
        (
            FieldDef("institution_name", _("Name of the institution"), max_length=200),
            FieldDef(
                "credit_code",
                _("Unified social credit code"),
                max_length=18,
                required=False,
                help_text=_("18 characters, once the institution is registered."),
            ),
            FieldDef("institution_type", _("Type of institution"), Kind.CHOICE, choices=INSTITUTION_TYPES),
            FieldDef("address", _("Address of the premises"), max_length=200),
            FieldDef("legal_representative", _("Legal representative"), Kind.PERSON),
            contact_mobile(),
        ),
    )


def capacity_section() -> Section:
    return Section(
        _("Services and capacity"),
        (
            FieldDef("scope", _("Scope of services"), Kind.CHOICE, choices=TECHNICAL_SERVICES, multiple=True),
            FieldDef("floor_area", _("Floor area of the premises (square metres)"), Kind.INTEGER, min_value=1),
            FieldDef("technical_staff", _("Number of technical staff"), Kind.INTEGER, min_value=1),
            FieldDef(
                "qualified_staff",
                _("Of whom hold a Qualification Certificate"),
                Kind.INTEGER,
                help_text=_("Qualification Certificate for Family-Planning Technical Service Personnel"),
            ),
            FieldDef("equipment", _("Main equipment"), Kind.TEXTAREA, max_length=2000),
        ),
    )


def check_qualified_staff(cleaned: dict) -> dict:
    if (cleaned.get("qualified_staff") or 0) > (cleaned.get("technical_staff") or 0):
        return {"qualified_staff": _("This cannot be more than the number of technical staff.")}
    return {}


INSTITUTION_LEGAL_BASIS = (TECHNICAL_SERVICE_REGULATIONS, POPULATION_LAW, HENAN_REGULATIONS)


def _institution_establishment() -> ServiceDef:
    key, title = "institution_establishment", _("Establishment of a Family-Planning Technical Service Institution")
    form = _form(
        key,
        title,
        [institution_section(), capacity_section()],
        checks=(check_qualified_staff,),
    )
    return ServiceDef(
        key=key,
        title=title,
        summary=_("Approval to set up an institution that provides family-planning technical services."),
        group=ServiceGroup.INSTITUTIONS,
        guide=Guide(
            conditions=(
                _("The institution fits the regional plan for family-planning technical services."),
                _("It has premises, equipment and qualified technical staff for the services it will provide."),
            ),
            materials=(
                _("The application form signed by the legal representative"),
                _("A feasibility study"),
                _("Proof of the right to use the premises"),
                _("The legal representative's resident ID card"),
            ),
            time_limit=STANDARD_TIME_LIMIT,
            legal_basis=INSTITUTION_LEGAL_BASIS,
        ),
        form=form,
    )


CHANGEABLE = (
    ("name", _("Name of the institution")),
    ("address", _("Address of the premises")),
    ("legal_representative", _("Legal representative")),
    ("scope", _("Scope of services")),
)


def check_changes(cleaned: dict) -> dict:
    """Each ticked item needs its new value; an unticked one must be left blank."""
    ticked = set(cleaned.get("changes") or [])
    new_value = {
        "name": "new_name",
        "address": "new_address",
        "legal_representative": "new_legal_representative_name",
        "scope": "new_scope",
    }
    errors = {}
    for item, field_name in new_value.items():
        given = bool(cleaned.get(field_name))
        if item in ticked and not given:
            errors[field_name] = _("Enter the new value of an item you ticked.")
        elif given and item not in ticked:
            errors["changes"] = _("Tick every item you change.")
    return errors


def _institution_change() -> ServiceDef:
    key, title = "institution_change", _("Change of the Registered Details of a Technical Service Institution")
    form = _form(
        key,
        title,
        [
            Section(
                _("The institution"),
                (
                    FieldDef("institution_name", _("Name of the institution"), max_length=200),
                    FieldDef("licence_number", _("Practice licence number"), max_length=40),
                    contact_mobile(),
                ),
            ),
            Section(
                _("The changes"),
                (
                    FieldDef("changes", _("Items to change"), Kind.CHOICE, choices=CHANGEABLE, multiple=True),
                    FieldDef("new_name", _("New name"), required=False, max_length=200),
                    FieldDef("new_address", _("New address"), required=False, max_length=200),
                    FieldDef("new_legal_representative", _("New legal representative"), Kind.PERSON, required=False),
                    FieldDef(
                        "new_scope",
                        _("New scope of services"),
                        Kind.CHOICE,
                        choices=TECHNICAL_SERVICES,
                        multiple=True,
                        required=False,
                    ),
                    FieldDef("reason", _("Reason for the change"), Kind.TEXTAREA, max_length=1000),
                ),
            ),
        ],
        checks=(check_changes,),
    )
    return ServiceDef(
        key=key,
        title=title,
        summary=_("Change the name, address, legal representative or scope of services of an institution."),
        group=ServiceGroup.INSTITUTIONS,
        guide=Guide(
            conditions=(_("The institution holds a practice licence and one of its registered details changes."),),
            materials=(
                _("The application form signed by the legal representative"),
                _("The practice licence"),
                _(
                    "Proof of the change (the decision of the institution's governing body, the new premises, or the "
                    "new legal representative's resident ID card)"
                ),
            ),
            time_limit=STANDARD_TIME_LIMIT,
            legal_basis=INSTITUTION_LEGAL_BASIS,
        ),
        form=form,
    )


def _practice_licence() -> ServiceDef:
    key, title = "practice_licence", _("Practice Licence for Family-Planning Technical Service Institutions")
    institution = institution_section()
    institution = Section(
        institution.title,
        (
            *institution.fields,
            FieldDef("approval_number", _("Number of the establishment approval"), max_length=40),
        ),
    )
    form = _form(key, title, [institution, capacity_section()], checks=(check_qualified_staff,))
    return ServiceDef(
        key=key,
        title=title,
        summary=_("The licence an approved institution needs before it provides family-planning technical services."),
        group=ServiceGroup.INSTITUTIONS,
        guide=Guide(
            conditions=(
                _("The establishment of the institution has been approved."),
                _("Its technical staff hold Qualification Certificates for the services they provide."),
            ),
            materials=(
                _("The application form signed by the legal representative"),
                _("The establishment approval"),
                _("The list of technical staff with their Qualification Certificates"),
                _("The list of the main equipment"),
                _("The institution's rules and quality-control system"),
            ),
            time_limit=STANDARD_TIME_LIMIT,
            legal_basis=INSTITUTION_LEGAL_BASIS,
        ),
        form=form,
        issues=DocumentKind.PRACTICE_LICENCE,
    )


def _practice_licence_validation() -> ServiceDef:
    key, title = "practice_licence_validation", _("Periodic Validation of a Practice Licence")
    form = _form(
        key,
        title,
        [
            Section(
                _("The licence"),
                (
                    FieldDef("licence_number", _("Practice licence number"), max_length=40),
                    FieldDef("institution_name", _("Name of the institution"), max_length=200),
                    FieldDef("valid_until", _("Licence valid until"), Kind.DATE),
                    contact_mobile(),
                ),
            ),
            Section(
                _("Since the last validation"),
                (
                    FieldDef("technical_staff", _("Number of technical staff"), Kind.INTEGER, min_value=1),
                    FieldDef("qualified_staff", _("Of whom hold a Qualification Certificate"), Kind.INTEGER),
                    FieldDef("operations", _("Family-planning operations performed"), Kind.INTEGER),
                    FieldDef("incidents", _("Were there medical incidents or complaints?"), Kind.YES_NO),
                    FieldDef(
                        "incidents_detail",
                        _("Incidents and complaints, and how they were handled"),
                        Kind.TEXTAREA,
                        required=False,
                        max_length=2000,
                    ),
                    FieldDef(
                        "self_assessment",
                        _("Summary of the institution's work"),
                        Kind.TEXTAREA,
                        max_length=4000,
                        lines=4,
                    ),
                ),
            ),
        ],
        checks=(
            check_qualified_staff,
            check_detail_when("incidents", True, "incidents_detail", _("Describe the incidents and complaints.")),
        ),
    )
    return ServiceDef(
        key=key,
        title=title,
        summary=_("The periodic validation that keeps a practice licence in force."),
        group=ServiceGroup.INSTITUTIONS,
        guide=Guide(
            conditions=(_("The institution holds a practice licence that is still in force."),),
            materials=(
                _("The practice licence"),
                _("The work report since the last validation"),
                _("The list of technical staff with their Qualification Certificates"),
            ),
            time_limit=STANDARD_TIME_LIMIT,
            legal_basis=INSTITUTION_LEGAL_BASIS,
        ),
        form=form,
        effect=Effect.EXTENDS,
        affects=DocumentKind.PRACTICE_LICENCE,
    )


def _qualification_certificate() -> ServiceDef:
    key, title = (
        "qualification_certificate",
        _("Qualification Certificate for Family-Planning Technical Service Personnel"),
    )
    education = (
        ("secondary", _("Secondary vocational school")),
        ("college", _("Junior college")),
        ("bachelor", _("Bachelor's degree")),
        ("postgraduate", _("Postgraduate degree")),
    )
    form = _form(
        key,
        title,
        [
            Section(
                _("Applicant"),
                (
                    FieldDef("applicant", _("Applicant"), Kind.PERSON),
                    FieldDef("mobile", _("Mobile phone"), Kind.MOBILE),
                    FieldDef("education", _("Highest education"), Kind.CHOICE, choices=education),
                    FieldDef("profession", _("Profession"), Kind.CHOICE, choices=PROFESSIONS),
                    FieldDef(
                        "professional_certificate", _("Professional qualification certificate number"), max_length=40
                    ),
                    FieldDef(
                        "practising_certificate", _("Practising certificate number"), required=False, max_length=40
                    ),
                    FieldDef("experience_years", _("Years of relevant work"), Kind.INTEGER, max_value=60),
                ),
            ),
            Section(
                _("Employer and services"),
                (
                    FieldDef("employer", _("Institution employing you"), max_length=200),
                    FieldDef("employer_licence_number", _("Its practice licence number"), max_length=40),
                    FieldDef(
                        "services",
                        _("Services you will provide"),
                        Kind.CHOICE,
                        choices=TECHNICAL_SERVICES,
                        multiple=True,
                    ),
                    FieldDef(
                        "assessment_date", _("Date you passed the qualification assessment"), Kind.DATE, not_future=True
                    ),
                ),
            ),
        ],
    )
    return ServiceDef(
        key=key,
        title=title,
        summary=_("The certificate a member of staff needs to provide family-planning technical services."),
        group=ServiceGroup.PERSONNEL,
        guide=Guide(
            conditions=(
                _("You hold the professional qualification for your profession and work at a licensed institution."),
                _("You have passed the qualification assessment for the services you will provide."),
            ),
            materials=(
                _("Your resident ID card"),
                _("Your diploma and professional qualification certificate"),
                _("The proof of passing the qualification assessment"),
                _("A recent bareheaded colour photo"),
            ),
            time_limit=STANDARD_TIME_LIMIT,
            legal_basis=(TECHNICAL_SERVICE_REGULATIONS, HENAN_REGULATIONS),
        ),
        form=form,
        issues=DocumentKind.QUALIFICATION_CERTIFICATE,
    )


def _qualification_certificate_validation() -> ServiceDef:
    key, title = "qualification_certificate_validation", _("Validation of a Qualification Certificate")
    form = _form(
        key,
        title,
        [
            Section(
                _("The certificate"),
                (
                    FieldDef("certificate_number", _("Qualification Certificate number"), max_length=40),
                    FieldDef("holder", _("Holder"), Kind.PERSON),
                    FieldDef("valid_until", _("Certificate valid until"), Kind.DATE),
                    FieldDef("mobile", _("Mobile phone"), Kind.MOBILE),
                ),
            ),
            Section(
                _("Since the last validation"),
                (
                    FieldDef("employer", _("Institution employing you"), max_length=200),
                    FieldDef("training_hours", _("Hours of continuing training"), Kind.INTEGER, max_value=2000),
                    FieldDef("incidents", _("Were there medical incidents or complaints?"), Kind.YES_NO),
                    FieldDef(
                        "incidents_detail",
                        _("Incidents and complaints, and how they were handled"),
                        Kind.TEXTAREA,
                        required=False,
                        max_length=2000,
                    ),
                ),
            ),
        ],
        checks=(check_detail_when("incidents", True, "incidents_detail", _("Describe the incidents and complaints.")),),
    )
    return ServiceDef(
        key=key,
        title=title,
        summary=_("The periodic validation that keeps a Qualification Certificate in force."),
        group=ServiceGroup.PERSONNEL,
        guide=Guide(
            conditions=(_("You hold a Qualification Certificate that is still in force."),),
            materials=(
                _("The Qualification Certificate"),
                _("The record of continuing training"),
                _("Your employer's assessment of your work"),
            ),
            time_limit=STANDARD_TIME_LIMIT,
            legal_basis=(TECHNICAL_SERVICE_REGULATIONS, HENAN_REGULATIONS),
        ),
        form=form,
        effect=Effect.EXTENDS,
        affects=DocumentKind.QUALIFICATION_CERTIFICATE,
    )


SERVICES: dict[str, ServiceDef] = {
    service.key: service
    for service in (
        _birth_registration(floating=False),
        _birth_registration(floating=True),
        _birth_registration_cancellation(),
        _only_child_certificate(),
        _only_child_certificate_cancellation(),
        _floating_population_certificate(),
        _institution_establishment(),
        _institution_change(),
        _practice_licence(),
        _practice_licence_validation(),
        _qualification_certificate(),
        _qualification_certificate_validation(),
    )
}


def get_service(key: str) -> ServiceDef:
    """The service with this key; KeyError for an unknown one."""
    return SERVICES[key]


def services_in(group: str) -> list[ServiceDef]:
    return [service for service in SERVICES.values() if service.group == group]


def service_choices() -> list[tuple[str, str]]:
    return [(service.key, service.title) for service in SERVICES.values()]


def issuing_service(kind: str) -> ServiceDef:
    """The service whose approval issues a document of this kind (the first, for birth registration)."""
    return next(service for service in SERVICES.values() if service.issues == kind)
