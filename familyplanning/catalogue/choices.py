"""The answers the catalogue's choice fields offer: (stored code, label) pairs, one tuple per field."""

from django.utils.translation import gettext_lazy as _

MARITAL_STATUS = (
    ("first_marriage", _("First marriage")),
    ("remarried", _("Remarried")),
)

CHILD_ORDER = (
    ("first", _("First child")),
    ("second", _("Second child")),
    ("third_or_later", _("Third or later child")),
)

BIRTH_REGISTRATION_CANCELLATION_REASONS = (
    ("pregnancy_ended", _("The pregnancy has ended")),
    ("registered_elsewhere", _("The couple have registered elsewhere")),
    ("marriage_ended", _("The marriage has ended")),
    ("error", _("The registration was made in error")),
    ("other", _("Other reason")),
)

CHILD_RELATIONSHIPS = (("born", _("Born to the couple")), ("adopted", _("Legally adopted")))

ONLY_CHILD_CANCELLATION_REASONS = (
    ("another_child", _("The couple have had or adopted another child")),
    ("error", _("The certificate was issued in error")),
    ("other", _("Other reason")),
)

FLOATING_MARITAL_STATUSES = (
    ("unmarried", _("Unmarried")),
    ("married", _("Married (first marriage)")),
    ("remarried", _("Remarried")),
    ("divorced", _("Divorced")),
    ("widowed", _("Widowed")),
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

CHANGEABLE = (
    ("name", _("Name of the institution")),
    ("address", _("Address of the premises")),
    ("legal_representative", _("Legal representative")),
    ("scope", _("Scope of services")),
)

EDUCATION = (
    ("secondary", _("Secondary vocational school")),
    ("college", _("Junior college")),
    ("bachelor", _("Bachelor's degree")),
    ("postgraduate", _("Postgraduate degree")),
)
