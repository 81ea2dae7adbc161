"""Services for families: birth registration (also for the floating population) and its cancellation, the
Certificate of Honour for Parents of an Only Child and its cancellation, and the floating population's Marriage
and Childbearing Certificate."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ..fields import FieldDef, Kind, Section
from .base import (
    FLOATING_POPULATION_REGULATIONS,
    HENAN_REGULATIONS,
    ONE_CHILD_PERIOD_END,
    POPULATION_LAW,
    DocumentKind,
    ServiceDef,
    ServiceGroup,
    cancellation,
    service,
)
from .choices import (
    BIRTH_REGISTRATION_CANCELLATION_REASONS,
    CHILD_ORDER,
    CHILD_RELATIONSHIPS,
    FLOATING_MARITAL_STATUSES,
    MARITAL_STATUS,
    ONLY_CHILD_CANCELLATION_REASONS,
)

# Services a technical-service institution or a member of its staff may provide (Regulations on the


def spouse_section(prefix: str, title) -> Section:
    """One spouse's data, as the birth registration and Certificate of Honour forms ask it."""
    return Section(
        title,
        (
            FieldDef(prefix, title, Kind.PERSON),
            FieldDef(f"{prefix}_marital_status", _("Marital status"), Kind.CHOICE, choices=MARITAL_STATUS),
            FieldDef(f"{prefix}_hukou_address", _("Place of household registration (hukou)"), Kind.ADDRESS),
            FieldDef(f"{prefix}_residence_address", _("Current address"), Kind.ADDRESS),
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


REGISTRATION_TIME_LIMIT = 1  # birth registration is done at once when the materials are complete


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
    return service(
        key,
        title,
        (
            _("Register a first or later child where you live, although your hukou is elsewhere.")
            if floating
            else _("Register a first or later child, with both spouses' data.")
        ),
        ServiceGroup.FAMILIES,
        sections=sections,
        checks=(check_children, check_child_order, check_due_date),
        conditions=conditions,
        materials=materials,
        time_limit=REGISTRATION_TIME_LIMIT,
        legal_basis=(POPULATION_LAW, HENAN_REGULATIONS) + ((FLOATING_POPULATION_REGULATIONS,) if floating else ()),
        issues=DocumentKind.BIRTH_SERVICE_CERTIFICATE,
    )


def _couple_section(title, first: tuple[str, str], second: tuple[str, str]) -> Section:
    """The two holders of a document to be cancelled, by name and ID number."""
    return Section(title, (FieldDef(first[0], first[1], Kind.PERSON), FieldDef(second[0], second[1], Kind.PERSON)))


def _birth_registration_cancellation() -> ServiceDef:
    returned = FieldDef(
        "certificate_returned", _("Is the paper certificate returned with this application?"), Kind.YES_NO
    )
    return cancellation(
        "birth_registration_cancellation",
        _("Cancellation of a Birth Registration"),
        _("Cancel a birth registration that no longer applies."),
        ServiceGroup.FAMILIES,
        revokes=DocumentKind.BIRTH_SERVICE_CERTIFICATE,
        document=Section(
            _("The registration"),
            (
                FieldDef("certificate_number", _("Number of the Birth Service Certificate"), max_length=40),
                FieldDef("registered_on", _("Date of registration"), Kind.DATE, not_future=True),
            ),
        ),
        holders=_couple_section(_("The couple"), ("wife", _("Wife")), ("husband", _("Husband"))),
        reasons=BIRTH_REGISTRATION_CANCELLATION_REASONS,
        more=(returned,),
        conditions=(_("The couple hold a Birth Service Certificate that no longer applies."),),
        materials=(_("The resident ID cards of both spouses"), _("The Birth Service Certificate, if issued on paper")),
        time_limit=REGISTRATION_TIME_LIMIT,
        legal_basis=(POPULATION_LAW, HENAN_REGULATIONS),
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


def check_no_other_child(cleaned: dict) -> dict:
    if cleaned.get("no_other_child") is False:
        return {"no_other_child": _("The certificate is only for parents who have no other child.")}
    return {}


def _only_child_certificate() -> ServiceDef:
    return service(
        "only_child_certificate",
        _("Certificate of Honour for Parents of an Only Child"),
        _("Apply for the certificate if you chose to have only one child during the one-child period."),
        ServiceGroup.FAMILIES,
        sections=[
            spouse_section("mother", _("Mother")),
            spouse_section("father", _("Father")),
            marriage_section(),
            Section(
                _("The only child"),
                (
                    FieldDef("child", _("The child"), Kind.PERSON),
                    FieldDef("child_birth_date", _("Child's date of birth"), Kind.DATE, not_future=True),
                    FieldDef(
                        "child_relationship", _("Relationship to the couple"), Kind.CHOICE, choices=CHILD_RELATIONSHIPS
                    ),
                    FieldDef(
                        "no_other_child",
                        _("Do we declare that we have no other child, born or adopted?"),
                        Kind.YES_NO,
                    ),
                ),
            ),
        ],
        checks=(check_one_child_period, check_no_other_child),
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
        legal_basis=(POPULATION_LAW, HENAN_REGULATIONS),
        issues=DocumentKind.ONLY_CHILD_CERTIFICATE,
    )


def _only_child_certificate_cancellation() -> ServiceDef:
    return cancellation(
        "only_child_certificate_cancellation",
        _("Cancellation of a Certificate of Honour for Parents of an Only Child"),
        _("Hand back the certificate when the conditions no longer apply."),
        ServiceGroup.FAMILIES,
        revokes=DocumentKind.ONLY_CHILD_CERTIFICATE,
        document=Section(
            _("The certificate"),
            (
                FieldDef("certificate_number", _("Certificate number"), max_length=40),
                FieldDef("issued_on", _("Date of issue"), Kind.DATE, not_future=True),
            ),
        ),
        holders=_couple_section(_("The parents"), ("mother", _("Mother")), ("father", _("Father"))),
        reasons=ONLY_CHILD_CANCELLATION_REASONS,
        conditions=(_("The holders of the certificate no longer meet its conditions, or it was issued in error."),),
        materials=(_("The resident ID cards of both parents"), _("The certificate, if issued on paper")),
        legal_basis=(POPULATION_LAW, HENAN_REGULATIONS),
    )


def check_married(cleaned: dict) -> dict:
    errors = {}
    if cleaned.get("marital_status") in ("married", "remarried"):
        if not cleaned.get("spouse_name"):
            errors["spouse_name"] = _("Enter your spouse's name and ID number.")
        if not cleaned.get("marriage_date"):
            errors["marriage_date"] = _("Enter the date of your marriage registration.")
    return errors


def check_youngest_child(cleaned: dict) -> dict:
    if (cleaned.get("children_count") or 0) > 0 and not cleaned.get("youngest_child_birth_date"):
        return {"youngest_child_birth_date": _("Enter the youngest child's date of birth.")}
    return {}


def _floating_population_certificate() -> ServiceDef:
    return service(
        "floating_population_certificate",
        _("Marriage and Childbearing Certificate for the Floating Population"),
        _("For people of childbearing age whose hukou is in Henan and who move to another province."),
        ServiceGroup.FAMILIES,
        sections=[
            Section(
                _("Applicant"),
                (
                    FieldDef("applicant", _("Applicant"), Kind.PERSON),
                    FieldDef("hukou_address", _("Place of household registration (hukou)"), Kind.ADDRESS),
                    FieldDef("mobile", _("Mobile phone"), Kind.MOBILE),
                ),
            ),
            Section(
                _("Where you are going"),
                (
                    FieldDef("destination_province", _("Province you are moving to"), max_length=40),
                    FieldDef("destination_address", _("Address at the destination"), Kind.ADDRESS),
                    FieldDef("destination_employer", _("Employer at the destination"), required=False, max_length=200),
                    FieldDef("departure_date", _("Date of leaving"), Kind.DATE),
                ),
            ),
            Section(
                _("Marriage and children"),
                (
                    FieldDef("marital_status", _("Marital status"), Kind.CHOICE, choices=FLOATING_MARITAL_STATUSES),
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
        checks=(check_married, check_youngest_child),
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
        legal_basis=(POPULATION_LAW, FLOATING_POPULATION_REGULATIONS, HENAN_REGULATIONS),
        issues=DocumentKind.FLOATING_POPULATION_CERTIFICATE,
    )


SERVICES = (
    _birth_registration(floating=False),
    _birth_registration(floating=True),
    _birth_registration_cancellation(),
    _only_child_certificate(),
    _only_child_certificate_cancellation(),
    _floating_population_certificate(),
)
