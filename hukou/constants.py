"""Statuses, categories and the step table of one-stop hukou migration (docs/services.md#one-stop-hukou-migration)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

ADULT_AGE = 16  # the head of household, a new head, a mover without a guardian: 16 or over on the day


class Status(models.TextChoices):
    """Every state of a migration case; the label says who must act next."""

    DRAFT = "draft", _("Draft: not yet submitted")
    SUBMITTED = "submitted", _("Submitted: awaiting acceptance by the move-in police station")
    ACCEPTED = (
        "accepted",
        _(
            "Accepted by the move-in police station: being checked before it goes to the municipal household "
            "administration (20-working-day clock running)"
        ),
    )
    INFO_REQUESTED = "info_requested", _("More information requested from the applicant (clock paused)")
    FORWARDED = (
        "forwarded",
        _(
            "With the municipal household administration for approval of the Permit to Move In (within 20 working days "
            "of acceptance)"
        ),
    )
    APPROVED = (
        "approved",
        _("Permit to Move In issued: awaiting emigration registration by the move-out police station (5 working days)"),
    )
    RETURNED = (
        "returned",
        _("Sent back by the move-out police station with a problem: with the move-in police station to resolve"),
    )
    EMIGRATED = (
        "emigrated",
        _(
            "Emigration registered by the move-out police station: awaiting settlement by the move-in police station "
            "(5 working days)"
        ),
    )
    PAPER = (
        "paper",
        _("Continued on the paper procedure: the paper Permit to Move In and Hukou Migration Certificate apply"),
    )
    SETTLED = (
        "settled",
        _("Settled: come to the move-in police station to print the Permanent Resident Registration Form"),
    )
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn by the applicant")


# States in which a working-day clock may run: what the deadline sweep reads and its partial index covers.
OPEN_STATUSES = (
    Status.SUBMITTED,
    Status.ACCEPTED,
    Status.FORWARDED,
    Status.APPROVED,
    Status.RETURNED,
    Status.EMIGRATED,
)
DRAFT_STATUSES = (Status.DRAFT,)
FINAL_STATUSES = (Status.SETTLED, Status.REFUSED, Status.WITHDRAWN)

# Working days of the clock started on entering a state. FORWARDED has none of its own: the 20 working days of
# approval count from acceptance (accepted 2026-09-25 -> due 2026-10-29; docs/architecture.md#the-working-day-clock),
# so forwarding keeps the clock that acceptance started. RETURNED is the portal's own limit, not a statutory one: a
# case sent back must not sit unnoticed, so the move-in station gets the same 5 days as for the other station steps.
CLOCK_LIMITS = {
    Status.ACCEPTED: 20,
    Status.APPROVED: 5,
    Status.RETURNED: 5,
    Status.EMIGRATED: 5,
}


class Actor(models.TextChoices):
    """Who must act in a state."""

    APPLICANT = "applicant", _("The applicant")
    MOVE_IN_STATION = "move_in_station", _("Move-in police station")
    MUNICIPAL_ADMIN = "municipal_admin", _("Municipal household administration")
    MOVE_OUT_STATION = "move_out_station", _("Move-out police station")


ACTOR_BY_STATUS = {
    Status.DRAFT: Actor.APPLICANT,
    Status.INFO_REQUESTED: Actor.APPLICANT,
    Status.SUBMITTED: Actor.MOVE_IN_STATION,
    Status.ACCEPTED: Actor.MOVE_IN_STATION,
    Status.FORWARDED: Actor.MUNICIPAL_ADMIN,
    Status.APPROVED: Actor.MOVE_OUT_STATION,
    Status.RETURNED: Actor.MOVE_IN_STATION,
    Status.EMIGRATED: Actor.MOVE_IN_STATION,
    # On paper the move-in station records the outcome (settlement with the paper numbers).
    Status.PAPER: Actor.MOVE_IN_STATION,
}


class Category(models.TextChoices):
    """Who moves: the first of the two questions about the move (the second is its Grounds)."""

    WHOLE_HOUSEHOLD = "whole_household", _("Whole household moves")
    PART_HOUSEHOLD = "part_household", _("Part of a household moves")
    COLLECTIVE = "collective", _("Into a collective household")


class Grounds(models.TextChoices):
    """On what grounds the people settle at the destination: the second question about the move."""

    PURCHASED_HOME = "purchased_home", _("Settlement in a purchased home")
    EMPLOYMENT = "employment", _("Settlement for employment")
    STUDY = "study", _("Settlement for study")
    JOIN_RELATIVES = "join_relatives", _("Joining relatives")
    OTHER = "other", _("Other settlement grounds (explain)")


# The grounds each kind of move may rest on: a collective household takes people in for work or study (or other
# grounds explained), never to join relatives or in a home of one's own.
GROUNDS_FOR_CATEGORY = {
    Category.WHOLE_HOUSEHOLD: tuple(Grounds),
    Category.PART_HOUSEHOLD: tuple(Grounds),
    Category.COLLECTIVE: (Grounds.EMPLOYMENT, Grounds.STUDY, Grounds.OTHER),
}

# What the move-in station asks for, besides the ID cards and the Household Register Booklet: for who moves, then for
# the grounds.
CATEGORY_MATERIALS = {
    Category.WHOLE_HOUSEHOLD: (
        _("Proof of the lawful residence at the destination (property certificate or similar)."),
    ),
    Category.PART_HOUSEHOLD: (
        _("Proof of the lawful residence at the destination (property certificate or similar)."),
    ),
    Category.COLLECTIVE: (_("The collective household's consent to take you in (from the employer, school or unit)."),),
}
GROUNDS_MATERIALS = {
    Grounds.JOIN_RELATIVES: (
        _("Proof of the family relationship (marriage certificate, birth medical certificate or similar)."),
        _("The receiving head of household's Household Register Booklet."),
    ),
    Grounds.PURCHASED_HOME: (_("The property ownership certificate of the purchased home."),),
    Grounds.EMPLOYMENT: (_("The labour contract and proof of social insurance at the destination."),),
    Grounds.STUDY: (_("The admission notice of the school."),),
    Grounds.OTHER: (_("The evidence for the grounds you explain."),),
}


def move_materials(category: str, grounds: str) -> tuple:
    """The materials for a move: those for who moves, then those for its grounds (without repeating one)."""
    materials = list(CATEGORY_MATERIALS.get(category, ()))
    if grounds in (Grounds.PURCHASED_HOME, Grounds.JOIN_RELATIVES):
        # The property certificate or the receiving household's booklet is the proof of the residence.
        materials = [m for m in materials if m not in CATEGORY_MATERIALS[Category.WHOLE_HOUSEHOLD]]
    return tuple(materials) + tuple(GROUNDS_MATERIALS.get(grounds, ()))


def all_materials() -> list:
    """(label, materials) for each answer of both questions, as the guide lists them."""
    return [(Category(c).label, m) for c, m in CATEGORY_MATERIALS.items()] + [
        (Grounds(g).label, m) for g, m in GROUNDS_MATERIALS.items()
    ]


class Relation(models.TextChoices):
    """Relation to the head of household, as written in the Household Register Booklet."""

    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    GRANDPARENT = "grandparent", _("Grandparent")
    SIBLING = "sibling", _("Brother or sister")
    CHILD_IN_LAW = "child_in_law", _("Son- or daughter-in-law")
    OTHER = "other", _("Other relative or person")


# Immediate family (近亲属 of the receiving householder) who may apply for them with their consent.
IMMEDIATE_FAMILY = (Relation.SPOUSE, Relation.CHILD, Relation.PARENT)


class ReceivingParty(models.TextChoices):
    """Who applies for the receiving household when joining relatives."""

    HOUSEHOLDER = "householder", _("The receiving head of household")
    FAMILY_MEMBER = "family_member", _("An immediate family member of the receiving head of household, with consent")


class MaritalStatus(models.TextChoices):
    UNMARRIED = "unmarried", _("Unmarried")
    MARRIED = "married", _("Married")
    DIVORCED = "divorced", _("Divorced")
    WIDOWED = "widowed", _("Widowed")


class Education(models.TextChoices):
    NONE = "none", _("No schooling")
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior secondary school")
    SENIOR = "senior", _("Senior secondary or vocational school")
    COLLEGE = "college", _("Junior college")
    BACHELOR = "bachelor", _("Bachelor's degree")
    POSTGRADUATE = "postgraduate", _("Postgraduate degree")


class DocumentKind(models.TextChoices):
    """What each upload of a migration application is (portal.documents.Document.kind)."""

    ID_CARD = "id_card", _("ID cards of the people moving (front and back)")
    BOOKLET = "booklet", _("Household Register Booklet pages")
    EVIDENCE = "evidence", _("Materials for the category of move")
    POWER_OF_ATTORNEY = "power_of_attorney", _("Power of attorney")
    HOUSEHOLDER_CONSENT = "householder_consent", _("Written consent of the receiving head of household")


# Uploaded in the documents section; at least one file of each is needed before submission.
UPLOAD_KINDS = (DocumentKind.ID_CARD, DocumentKind.BOOKLET, DocumentKind.EVIDENCE)
MAX_FILES_PER_KIND = 10
MAX_PEOPLE = 20  # people moving, or staying, in one application

# The stage of the move a state belongs to, as the citizen's status page counts them (1 to 4, then settled).
STAGES = {
    Status.SUBMITTED: 1,
    Status.ACCEPTED: 1,
    Status.FORWARDED: 2,
    Status.APPROVED: 3,
    Status.RETURNED: 3,
    Status.EMIGRATED: 4,
}
STAGE_TITLES = {
    1: _("Acceptance by the move-in police station"),
    2: _("Approval of the Permit to Move In by the municipal household administration"),
    3: _("Registration of the move-out by the move-out police station"),
    4: _("Settlement by the move-in police station"),
}
