"""Citizen forms of one-stop hukou migration, one module per group: the eligibility pre-check (precheck), the
application's own answers (application), the people moving and staying (people), the uploads (uploads), and the
declaration at submission and the answer to a request for information (declaration); shared fields in fields."""

from .application import DestinationForm, OriginForm, StartForm
from .declaration import DECLARATION, ReplyForm, SubmitForm
from .fields import RECEIVING_RELATION_CHOICES, RELATION_CHOICES, police_stations
from .people import MoverForm, MoverFormSet, StayingForm, StayingFormSet, people_formset, people_initial
from .precheck import EDIT, Precheck
from .uploads import AuthorisationsForm, DocumentsForm

__all__ = [
    "DECLARATION",
    "RECEIVING_RELATION_CHOICES",
    "RELATION_CHOICES",
    "AuthorisationsForm",
    "DestinationForm",
    "DocumentsForm",
    "MoverForm",
    "MoverFormSet",
    "OriginForm",
    "EDIT",
    "Precheck",
    "ReplyForm",
    "StartForm",
    "StayingForm",
    "StayingFormSet",
    "SubmitForm",
    "people_formset",
    "people_initial",
    "police_stations",
]
