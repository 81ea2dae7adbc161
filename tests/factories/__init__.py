"""Factories for tests: valid synthetic ID numbers, people and offices, and every service's cases in each state.

Case factories take a trait per status, set as the service steps up to it would (`ApplicationFactory(accepted=True)`),
or a bare `status=`; see each factory's docstring.
"""

from .certificates import ApplicationFactory, store_certificate
from .documents import attach_documents, png
from .familyplanning import FamilyPlanningApplicationFactory, FeedbackFactory, HealthOfficeFactory, sample_answers
from .hukou import MigrationApplicationFactory, MoverFactory, OriginMemberFactory, hukou_offices, hukou_staff
from .people import (
    OfficeFactory,
    StaffFactory,
    UserFactory,
    city_health_commission,
    identities,
    make_id_number,
)
from .sample import SampleCaseFactory

__all__ = [
    "ApplicationFactory",
    "FamilyPlanningApplicationFactory",
    "FeedbackFactory",
    "HealthOfficeFactory",
    "MigrationApplicationFactory",
    "MoverFactory",
    "OfficeFactory",
    "OriginMemberFactory",
    "SampleCaseFactory",
    "StaffFactory",
    "UserFactory",
    "attach_documents",
    "city_health_commission",
    "hukou_offices",
    "hukou_staff",
    "identities",
    "make_id_number",
    "png",
    "sample_answers",
    "store_certificate",
]
