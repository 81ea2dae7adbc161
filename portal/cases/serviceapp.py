"""The app config of a service: what the service tells the portal's registry, declared once per app.

Import the module, not the class, in an `apps.py` (`class XConfig(serviceapp.ServiceAppConfig)`): Django picks an app's
config automatically only when its `apps.py` holds one AppConfig subclass.

The app label is the service key, the app's verbose name its title and `<label>:index` its start page. The subclass
declares the rest as class attributes; the functions /me/ and /track/ call (`cases_for_user(user)`,
`actions_for_user(user)`, `documents_naming(user)` and
`find_for_track(case_number)`) are read from the module that defines the subclass, the app's `apps.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.apps import AppConfig

from portal import registry

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django_stubs_ext import StrOrPromise

    from .models import Case


class ServiceAppConfig(AppConfig):
    summary: StrOrPromise
    agency: str  # an accounts.models.Office.Agency value; ready() refuses any other
    order: int
    who: StrOrPromise  # the catalogue's short guide (registry.service_guide)
    what: StrOrPromise
    time_limit: StrOrPromise
    fee: StrOrPromise | None = None
    where: StrOrPromise | None = None  # where and when
    legal_basis: StrOrPromise | None = None
    case_model_names: tuple[str, ...]  # models of this app
    required_assurance = "declared"
    assurance_by_kind: tuple[tuple[str, str], ...] = ()

    # The time limit the portal promises, beside the statutory `time_limit`, with %(accept)s for the service's
    # acceptance limit in working days (settings.ACCEPTANCE_WORKING_DAYS); None: only the statutory one.
    promised_text: StrOrPromise | None = None

    def promised_values(self) -> dict[str, object]:
        """The values `promised_text` names. A method, since a service may read its models."""
        from django.conf import settings

        return {"accept": settings.ACCEPTANCE_WORKING_DAYS[self.label]}

    def promised(self) -> StrOrPromise | None:
        from portal.formmessages import lazy_interpolate

        return None if self.promised_text is None else lazy_interpolate(self.promised_text, self.promised_values())

    def ready(self) -> None:
        from accounts.models import Office

        module = sys.modules[type(self).__module__]
        registry.register(
            registry.Service(
                key=self.label,
                title=self.verbose_name,
                summary=self.summary,
                url_name=f"{self.label}:index",
                agency=Office.Agency(self.agency),
                order=self.order,
                guide=registry.service_guide(
                    who=self.who,
                    what=self.what,
                    time_limit=self.time_limit,
                    promised=self.promised(),
                    fee=self.fee,
                    where=self.where,
                    legal_basis=self.legal_basis,
                ),
                case_models=tuple(self.get_model(name) for name in self.case_model_names),
                cases_for_user=getattr(module, "cases_for_user", None),
                actions_for_user=getattr(module, "actions_for_user", None),
                documents_naming=getattr(module, "documents_naming", None),
                find_for_track=getattr(module, "find_for_track", None),
                required_assurance=self.required_assurance,
                assurance_by_kind=self.assurance_by_kind,
            )
        )


def case_summary(
    case: Case, *, title: StrOrPromise, url_name: str = "", next_step: registry.NextStep | None = None
) -> registry.CaseSummary:
    """A reviewed case as /me/ lists it (linking to its page `url_name`), or, without `url_name`, as /track/ shows it:
    no link, and its public timeline instead."""
    from django.urls import reverse

    return registry.CaseSummary(
        service=case._meta.app_label,
        case_number=case.case_number,
        title=str(title),
        status_label=str(case.get_status_display()),
        updated_at=case.updated_at,
        due_date=case.due_date,
        url=reverse(url_name, kwargs={"case_number": case.case_number}) if url_name else "",
        timeline=()
        if url_name
        else tuple((entry.at, str(case.status_label(entry.to_status))) for entry in case.public_timeline()),
        next_step=next_step or registry.NextStep(),
    )


def own_cases(
    user: Any,
    cases: QuerySet[Any],
    *,
    url_name: str,
    title: Callable[[Any], StrOrPromise],
    next_step: Callable[[Any], Any],
) -> list[registry.CaseSummary]:
    """/me/'s list of the citizen's `cases` (drafts included), the last changed first, each linking to its page
    `url_name`, with its `title` and `next_step` (functions of the case); none for an anonymous visitor."""
    if not user.is_authenticated:
        return []
    return [
        case_summary(case, title=title(case), url_name=url_name, next_step=next_step(case))
        for case in cases.filter(applicant=user).order_by("-updated_at")
    ]


def find_case(model: type[Case], case_number: str) -> Case | None:
    """The case of `model` that /track/ asks for, with its applicant in the same query; a draft is no case yet."""
    return (
        model.objects.filter(case_number=case_number)
        .exclude(status__in=model.DRAFT_STATUSES)
        .select_related("applicant")
        .first()
    )


def tracked_by_applicant(
    case: Case, *, title: StrOrPromise, next_step: registry.NextStep | None = None
) -> registry.TrackedCase:
    """The case as /track/ shows it when its applicant's ID number is the second factor (portal.cases.tracking), and
    the applicant its owner."""
    return registry.TrackedCase(
        summary=case_summary(case, title=title, next_step=next_step),
        id_numbers=(case.applicant.id_number or "",),
        owner_ids=(case.applicant_id,),
    )
