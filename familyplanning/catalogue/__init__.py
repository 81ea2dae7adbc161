"""The family-planning service catalogue: each service's guide, application form and issued document, as data.

base.py holds the vocabulary and the `service()` helper every declaration goes through; families.py and
institutions.py declare the services; this module puts them in one table, in the order the pages list them.
"""

from __future__ import annotations

from . import families, institutions
from .base import (
    FLOATING_POPULATION_REGULATIONS,
    FORM_DATE,
    FORM_VERSION,
    HENAN_REGULATIONS,
    ONE_CHILD_PERIOD_END,
    POPULATION_LAW,
    STANDARD_TIME_LIMIT,
    TECHNICAL_SERVICE_REGULATIONS,
    DocumentKind,
    Effect,
    Guide,
    ServiceDef,
    ServiceGroup,
)
from .choices import TECHNICAL_SERVICES

__all__ = [
    "FLOATING_POPULATION_REGULATIONS",
    "FORM_DATE",
    "FORM_VERSION",
    "HENAN_REGULATIONS",
    "ONE_CHILD_PERIOD_END",
    "POPULATION_LAW",
    "SERVICES",
    "STANDARD_TIME_LIMIT",
    "TECHNICAL_SERVICES",
    "TECHNICAL_SERVICE_REGULATIONS",
    "DocumentKind",
    "Effect",
    "Guide",
    "ServiceDef",
    "ServiceGroup",
    "get_service",
    "issuing_service",
    "service_choices",
    "services_in",
]

SERVICES: dict[str, ServiceDef] = {service.key: service for service in (*families.SERVICES, *institutions.SERVICES)}


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
