"""Services for technical-service institutions (establishment, change of details, practice licence and its
validation) and their personnel (Qualification Certificate and its validation)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ..fields import FieldDef, Kind, Section
from .base import (
    HENAN_REGULATIONS,
    POPULATION_LAW,
    TECHNICAL_SERVICE_REGULATIONS,
    DocumentKind,
    ServiceDef,
    ServiceGroup,
    contact_mobile,
    incidents_fields,
    service,
    validation,
)
from .choices import (
    CHANGEABLE,
    EDUCATION,
    INSTITUTION_TYPES,
    PROFESSIONS,
    TECHNICAL_SERVICES,
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
            FieldDef("address", _("Address of the premises"), Kind.ADDRESS),
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

PERSONNEL_LEGAL_BASIS = (TECHNICAL_SERVICE_REGULATIONS, HENAN_REGULATIONS)


def _institution_establishment() -> ServiceDef:
    return service(
        "institution_establishment",
        _("Establishment of a Family-Planning Technical Service Institution"),
        _("Approval to set up an institution that provides family-planning technical services."),
        ServiceGroup.INSTITUTIONS,
        sections=[institution_section(), capacity_section()],
        checks=(check_qualified_staff,),
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
        legal_basis=INSTITUTION_LEGAL_BASIS,
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
    return service(
        "institution_change",
        _("Change of the Registered Details of a Technical Service Institution"),
        _("Change the name, address, legal representative or scope of services of an institution."),
        ServiceGroup.INSTITUTIONS,
        sections=[
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
                    FieldDef("new_address", _("New address"), Kind.ADDRESS, required=False),
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
        conditions=(_("The institution holds a practice licence and one of its registered details changes."),),
        materials=(
            _("The application form signed by the legal representative"),
            _("The practice licence"),
            _(
                "Proof of the change (the decision of the institution's governing body, the new premises, or the "
                "new legal representative's resident ID card)"
            ),
        ),
        legal_basis=INSTITUTION_LEGAL_BASIS,
    )


def _practice_licence() -> ServiceDef:
    institution = institution_section()
    institution = Section(
        institution.title,
        (
            *institution.fields,
            FieldDef("approval_number", _("Number of the establishment approval"), max_length=40),
        ),
    )
    return service(
        "practice_licence",
        _("Practice Licence for Family-Planning Technical Service Institutions"),
        _("The licence an approved institution needs before it provides family-planning technical services."),
        ServiceGroup.INSTITUTIONS,
        sections=[institution, capacity_section()],
        checks=(check_qualified_staff,),
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
        legal_basis=INSTITUTION_LEGAL_BASIS,
        issues=DocumentKind.PRACTICE_LICENCE,
    )


def _practice_licence_validation() -> ServiceDef:
    return validation(
        "practice_licence_validation",
        _("Periodic Validation of a Practice Licence"),
        _("The periodic validation that keeps a practice licence in force."),
        ServiceGroup.INSTITUTIONS,
        extends=DocumentKind.PRACTICE_LICENCE,
        document=Section(
            _("The licence"),
            (
                FieldDef("licence_number", _("Practice licence number"), max_length=40),
                FieldDef("institution_name", _("Name of the institution"), max_length=200),
                FieldDef("valid_until", _("Licence valid until"), Kind.DATE),
                contact_mobile(),
            ),
        ),
        since=(
            FieldDef("technical_staff", _("Number of technical staff"), Kind.INTEGER, min_value=1),
            FieldDef("qualified_staff", _("Of whom hold a Qualification Certificate"), Kind.INTEGER),
            FieldDef("operations", _("Family-planning operations performed"), Kind.INTEGER),
            *incidents_fields(),
            FieldDef(
                "self_assessment", _("Summary of the institution's work"), Kind.TEXTAREA, max_length=4000, lines=4
            ),
        ),
        checks=(check_qualified_staff,),
        conditions=(_("The institution holds a practice licence that is still in force."),),
        materials=(
            _("The practice licence"),
            _("The work report since the last validation"),
            _("The list of technical staff with their Qualification Certificates"),
        ),
        legal_basis=INSTITUTION_LEGAL_BASIS,
    )


def _qualification_certificate() -> ServiceDef:
    return service(
        "qualification_certificate",
        _("Qualification Certificate for Family-Planning Technical Service Personnel"),
        _("The certificate a member of staff needs to provide family-planning technical services."),
        ServiceGroup.PERSONNEL,
        sections=[
            Section(
                _("Applicant"),
                (
                    FieldDef("applicant", _("Applicant"), Kind.PERSON),
                    FieldDef("mobile", _("Mobile phone"), Kind.MOBILE),
                    FieldDef("education", _("Highest education"), Kind.CHOICE, choices=EDUCATION),
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
        legal_basis=PERSONNEL_LEGAL_BASIS,
        issues=DocumentKind.QUALIFICATION_CERTIFICATE,
    )


def _qualification_certificate_validation() -> ServiceDef:
    return validation(
        "qualification_certificate_validation",
        _("Validation of a Qualification Certificate"),
        _("The periodic validation that keeps a Qualification Certificate in force."),
        ServiceGroup.PERSONNEL,
        extends=DocumentKind.QUALIFICATION_CERTIFICATE,
        document=Section(
            _("The certificate"),
            (
                FieldDef("certificate_number", _("Qualification Certificate number"), max_length=40),
                FieldDef("holder", _("Holder"), Kind.PERSON),
                FieldDef("valid_until", _("Certificate valid until"), Kind.DATE),
                FieldDef("mobile", _("Mobile phone"), Kind.MOBILE),
            ),
        ),
        since=(
            FieldDef("employer", _("Institution employing you"), max_length=200),
            FieldDef("training_hours", _("Hours of continuing training"), Kind.INTEGER, max_value=2000),
            *incidents_fields(),
        ),
        conditions=(_("You hold a Qualification Certificate that is still in force."),),
        materials=(
            _("The Qualification Certificate"),
            _("The record of continuing training"),
            _("Your employer's assessment of your work"),
        ),
        legal_basis=PERSONNEL_LEGAL_BASIS,
    )


SERVICES = (
    _institution_establishment(),
    _institution_change(),
    _practice_licence(),
    _practice_licence_validation(),
    _qualification_certificate(),
    _qualification_certificate_validation(),
)
