"""What the citizen pages share: the sections, the own-application lookup, the answers as the check and status
pages show them."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.cases.views import CitizenPages
from portal.documents.services import documents_for_case

from .. import drafts
from ..constants import UPLOAD_KINDS, DocumentKind, Grounds, ReceivingParty
from ..models import MigrationApplication
from ..workflow import EDITABLE, WITHDRAWABLE

SECTIONS = ("destination", "movers", "origin", "authorisations", "documents")
SECTION_TITLES = {
    "destination": gettext_lazy("The move and its destination"),
    "movers": gettext_lazy("The people moving"),
    "origin": gettext_lazy("The household you leave"),
    "authorisations": gettext_lazy("Powers of attorney and consent"),
    "documents": gettext_lazy("Documents"),
    "declaration": gettext_lazy("Declaration"),
}


PAGES = CitizenPages(
    "hukou",
    cases=MigrationApplication.objects.select_related("office", "municipal_office", "origin_office"),
    editable=EDITABLE,
    withdrawable=WITHDRAWABLE,
)


def current_documents(application) -> dict:
    """Each kind's attached documents, oldest first (the order they were uploaded in)."""
    current = {}
    for document in documents_for_case(application).order_by("created_at", "pk"):
        current.setdefault(document.kind, []).append(document)
    return current


def answers_context(application):
    """The answers as the check page and the status page show them (ages on the day of application)."""
    a = application
    movers = list(a.movers.select_related("power_of_attorney"))
    day = drafts.application_day(a)
    documents = current_documents(a)
    authorisations = [
        (_("Power of attorney of %(name)s") % {"name": m.name}, m.power_of_attorney) for m in movers if not m.present
    ]
    if a.grounds == Grounds.JOIN_RELATIVES and a.receiving_party and not a.receiving_present:
        authorisations.append(
            (_("Power of attorney of the person applying for the household you join"), a.receiving_power_of_attorney)
        )
    if a.grounds == Grounds.JOIN_RELATIVES and a.receiving_party == ReceivingParty.FAMILY_MEMBER:
        authorisations.append((DocumentKind.HOUSEHOLDER_CONSENT.label, a.householder_consent))
    return {
        "movers": [(m, m.age_on(day)) for m in movers],
        "staying": [(p, p.age_on(day)) for p in a.staying_members.all()],
        "application_day": day,
        "authorisations": authorisations,
        "upload_rows": [(DocumentKind(kind).label, documents.get(kind, [])) for kind in UPLOAD_KINDS],
    }
