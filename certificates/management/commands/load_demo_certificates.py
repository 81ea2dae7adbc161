"""Demo certificates for `make run` (called by `manage.py load_demo`): one valid, one revoked and one expired
Certificate of No Criminal Record for the demo citizen, rendered and signed here through the issuing task itself.

With TSA_URL set (`make run`) they are PAdES B-LTA: when the test PKI's animator does not answer yet (load_demo runs
before `make run` starts it), this command starts one of its own for the signing and stops it afterwards.
"""

import contextlib
import datetime

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.demo import DemoCommand
from accounts.models import Office, User
from certificates import documents, services, tasks
from certificates.models import Application, Delivery, Reason, Status
from portal.cases.services import next_case_number
from portal.verify.issuing import issued_document_claim, issued_document_revoke, issued_documents_for_source
from portal.verify.models import DocumentStatus, IssuedDocument

DEMO_CITIZEN = "citizen"
DEMO_STATION = "经八路派出所"
# Which demo certificate an application is, by its receiving organisation (the field the citizen fills in freely).
KINDS = {
    "valid": "郑州演示科技有限公司（演示：有效证明）",
    "revoked": "郑州演示科技有限公司（演示：已撤销证明）",
    "expired": "郑州演示科技有限公司（演示：已过期证明）",
}


class Command(DemoCommand):
    help = "Issue the demo citizen's valid, revoked and expired certificates (idempotent)."
    print_only_help = "Only print the demo certificates' codes."

    def load_demo(self, *, print_only):
        citizen = User.objects.filter(username=DEMO_CITIZEN).first()
        station = Office.objects.filter(name=DEMO_STATION).first()
        if citizen is None or station is None:
            return  # load_demo creates them first
        if not print_only:
            missing = [kind for kind in KINDS if self._document(citizen, kind) is None]
            if missing:
                with self._pki():
                    for kind in missing:
                        self._issue(citizen, station, kind)
        self.stdout.write("\nDemo certificates of the citizen (verify at /verify/):")
        for kind in KINDS:
            document = self._document(citizen, kind)
            self.stdout.write(f"{kind} certificate: {document.code if document else '(not issued)'}")

    @contextlib.contextmanager
    def _pki(self):
        """The test PKI's animator for the signing, unless one answers already (or signing is B-B)."""
        if not settings.TSA_URL:
            self.stdout.write("TSA_URL is empty: the demo certificates are signed PAdES B-B.")
            yield
            return
        from portal.testpki import default_pki

        pki = default_pki()
        if pki.answers():
            yield
            return
        pki.start()
        try:
            yield
        finally:
            pki.stop()

    def _document(self, citizen: User, kind: str) -> IssuedDocument | None:
        application = Application.objects.filter(applicant=citizen, receiving_organisation=KINDS[kind]).first()
        if application is None:
            return None
        return issued_documents_for_source(application).exclude(status=DocumentStatus.GENERATING).first()

    def _issue(self, citizen: User, station: Office, kind: str) -> None:
        now = timezone.now()
        application = Application.objects.filter(applicant=citizen, receiving_organisation=KINDS[kind]).first()
        if application is None:
            application = Application.objects.create(
                case_number=next_case_number("NCR"),
                applicant=citizen,
                office=station,
                status=Status.APPROVED,
                holder_name=citizen.real_name,
                holder_id_number=citizen.id_number,
                holder_sex=citizen.sex or "",
                holder_birth_date=citizen.birth_date,
                reason=Reason.EMPLOYMENT,
                receiving_organisation=KINDS[kind],
                delivery=Delivery.ELECTRONIC,
                declaration_at=now,
                submitted_at=now,
                decided_at=now,
                register_checked_at=now,
                certificate_generation=1,
            )
        if kind == "expired":
            # Claimed a year and a half ago, so the printed dates and the database agree that it has expired.
            issued_at = now - datetime.timedelta(days=548)
            document, _ = issued_document_claim(
                source=application,
                generation=1,
                kind=services.KIND_CERTIFICATE,
                title=documents.CERTIFICATE_TITLE,
                title_en=documents.CERTIFICATE_TITLE_EN,
                holder=citizen,
                holder_name=application.holder_name,
                issuing_office=station,
                valid_until=services.certificate_valid_until(timezone.localdate(issued_at)),
            )
            IssuedDocument.objects.filter(pk=document.pk).update(issued_at=issued_at)
        tasks.generate_certificate(application.pk, 1)
        document = self._document(citizen, kind)
        if document is None:
            raise CommandError(f"the demo {kind} certificate was not issued")
        if kind == "revoked":
            officer = User.objects.filter(office=station, is_staff=True).first()
            issued_document_revoke(document=document, by=officer, reason="演示：证明已撤销 (demo: revoked)")
        self.stdout.write(f"Issued the demo {kind} certificate {document.code}.")
