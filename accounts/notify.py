"""Messages to staff through the portal's outbox: an office's staff (with its supervisors on request) and the
administrators. Lives in accounts because only accounts knows offices, roles and who holds them; portal.notify
addresses a user or a number and knows nothing of either (docs/architecture.md#layers)."""

from typing import Any

from django.db.models import Model, Q, QuerySet

from portal.notify.models import OutboxMessage
from portal.notify.services import notify_user

from .models import Office, Role, User
from .scoping import is_shared, service_agency


def office_recipients(
    office: Office | None, *, include_supervisors: bool = False, service: type[Model] | Model | str | None = None
) -> QuerySet[User]:
    """Active staff of `office`; with include_supervisors, also the supervisors of it and the offices above.

    Only staff of the agency that handles `service` (without one, the office's own agency): a message about a
    service's cases reaches that agency and no other, even where the tree above an office holds another agency's
    supervisors (the rule of accounts.scoping; docs/architecture.md#security-and-privacy). Never citizens
    (is_staff), never the staff of a neighbouring office; no office reaches nobody.
    """
    if office is None:
        return User.objects.none()
    agency = office.agency if service is None or is_shared(service) else service_agency(service)
    if not agency:
        return User.objects.none()
    q = Q(office=office) if office.agency == agency else Q(pk__in=[])
    if include_supervisors:
        above = [int(p) for p in office.path.strip("/").split("/") if p]
        q |= Q(office_id__in=above, office__agency=agency, groups__name=Role.SUPERVISOR)
    return User.objects.filter(q, is_active=True, is_staff=True).distinct()


def notify_office(
    office: Office | None,
    *,
    template: str,
    context: dict[str, Any] | None = None,
    include_supervisors: bool = False,
    service: type[Model] | Model | str | None = None,
) -> list[OutboxMessage]:
    """E-mail every active staff member of an office (and, when asked, its supervisors) of the agency handling
    `service` (office_recipients)."""
    queued: list[OutboxMessage] = []
    recipients = office_recipients(office, include_supervisors=include_supervisors, service=service)
    for user in recipients:
        queued.extend(notify_user(user, template=template, context={"office": office, **(context or {})}, sms=False))
    return queued


def notify_administrators(*, template: str, context: dict[str, Any] | None = None) -> list[OutboxMessage]:
    """E-mail the portal's administrators (superusers and the administrator role)."""
    queued: list[OutboxMessage] = []
    admins = User.objects.filter(Q(is_superuser=True) | Q(groups__name=Role.ADMINISTRATOR), is_active=True).distinct()
    for user in admins:
        queued.extend(notify_user(user, template=template, context=context or {}, sms=False))
    return queued
