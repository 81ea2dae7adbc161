"""The test app's case (tests.testapp.models.SampleCase): the shared case fields without a service around them."""

import factory

from tests.testapp.models import SampleCase, SampleStatus

from .cases import CaseFactory
from .people import UserFactory


class SampleCaseFactory(CaseFactory):
    """A submitted sample case of `office` (required) with a new applicant unless one is given; `status=` and any
    clock field (`due_date=`, `paused_at=`, `frozen_at=`) may be set directly, as the portal/cases tests need."""

    class Meta:
        model = SampleCase
        skip_postgeneration_save = True

    class Params:
        case_prefix = SampleCase.CASE_PREFIX

    applicant = factory.SubFactory(UserFactory)
    status = SampleStatus.SUBMITTED
