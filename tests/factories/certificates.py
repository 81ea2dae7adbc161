"""No-criminal-record applications in each state, with complete answers, the holder being the applicant."""

import datetime

import factory
from django.utils import timezone

from certificates import services
from certificates.models import CLOCK_WORKING_DAYS, Application, Delivery, Reason, Status
from portal.verify.issuing import issued_document_claim, issued_document_store

from .cases import CaseFactory
from .documents import attach_documents
from .people import OfficeFactory, UserFactory

REFUSAL_REASON = "The register holds a record for this ID number."
INFO_REQUEST = "Please upload a clearer copy of the back of your ID card."


def store_certificate(application, generation=None):
    """A stored certificate for the application's current generation, as the worker leaves it (test PDF bytes)."""
    document, _ = issued_document_claim(
        source=application,
        generation=generation or application.certificate_generation,
        kind=services.KIND_CERTIFICATE,
        title="无犯罪记录证明",
        title_en="Certificate of No Criminal Record",
        holder=application.applicant,
        holder_name=application.holder_name,
        issuing_office=application.office,
        valid_until=datetime.date(2027, 1, 1),
    )
    return issued_document_store(document=document, pdf=b"%PDF-1.7\n% test bytes\n%%EOF\n")


class ApplicationFactory(CaseFactory):
    """A submitted application (by default) of an applicant who reads English, at a new police station.

    One trait per status sets what the service steps up to it write: `draft`, `submitted`, `accepted` (accepted today,
    3-working-day clock running), `info_requested` (that clock paused), `approved` (register checked, decided,
    certificate generation 1), `issued`, `refused`, `withdrawn`. A bare `status=` sets the status alone.
    `documents=True` attaches the two sides of the ID card and a photo, as the applicant uploads them;
    `certificate=True` stores the certificate of the current generation as the worker does (store_certificate;
    certificates.services.current_certificate finds it).
    """

    class Meta:
        model = Application

    class Params:
        case_prefix = Application.CASE_PREFIX
        draft_statuses = Application.DRAFT_STATUSES
        draft = factory.Trait(status=Status.DRAFT)
        submitted = factory.Trait(status=Status.SUBMITTED)
        accepted = factory.Trait(
            status=Status.ACCEPTED, accepted_at=factory.LazyFunction(timezone.now), clock=CLOCK_WORKING_DAYS
        )
        info_requested = factory.Trait(
            accepted=True, status=Status.INFO_REQUESTED, info_request=INFO_REQUEST, paused=True
        )
        approved = factory.Trait(
            status=Status.APPROVED,
            accepted_at=factory.LazyFunction(timezone.now),
            register_checked_at=factory.LazyFunction(timezone.now),
            decided_at=factory.LazyFunction(timezone.now),
            certificate_generation=1,
        )
        issued = factory.Trait(approved=True, status=Status.ISSUED)
        refused = factory.Trait(
            status=Status.REFUSED,
            accepted_at=factory.LazyFunction(timezone.now),
            decided_at=factory.LazyFunction(timezone.now),
            refusal_reason=REFUSAL_REASON,
        )
        withdrawn = factory.Trait(status=Status.WITHDRAWN)

    applicant = factory.SubFactory(UserFactory, language="en")  # messages to them render in English for the asserts
    office = factory.SubFactory(OfficeFactory)
    status = Status.SUBMITTED
    holder_name = factory.LazyAttribute(lambda o: o.applicant.real_name)
    holder_id_number = factory.LazyAttribute(lambda o: o.applicant.id_number or "")
    holder_sex = factory.LazyAttribute(lambda o: o.applicant.sex or "")
    holder_birth_date = factory.LazyAttribute(lambda o: o.applicant.birth_date)
    reason = Reason.EMPLOYMENT
    receiving_organisation = "郑州某某科技有限公司"
    delivery = Delivery.ELECTRONIC
    declaration_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def documents(application, create, extracted, **kwargs):
        if create and extracted:
            attach_documents(application)

    @factory.post_generation
    def certificate(application, create, extracted, **kwargs):
        if create and extracted:
            store_certificate(application)
