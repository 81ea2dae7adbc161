from django.db import models

from portal.cases.models import Case
from portal.cases.progress import next_step
from portal.registry import CaseSummary


class SampleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    INFO_REQUESTED = "info_requested", "More information requested"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"


class SampleCase(Case):
    CASE_PREFIX = "TST"
    OPEN_STATUSES = (SampleStatus.SUBMITTED,)

    status = models.CharField(max_length=32, choices=SampleStatus.choices, default=SampleStatus.DRAFT, db_index=True)
    reason = models.CharField(max_length=200, blank=True)

    def summary(self):
        return CaseSummary(
            service="testapp",
            case_number=self.case_number,
            title="Sample",
            status_label=self.get_status_display(),
            updated_at=self.updated_at,
            due_date=self.due_date,
            timeline=tuple((t.at, t.to_status) for t in self.timeline()),
            next_step=next_step(self, finished=(SampleStatus.APPROVED, SampleStatus.REFUSED)),
        )
