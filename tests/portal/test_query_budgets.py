"""Query budgets: every citizen list page and every admin changelist costs the same number of queries with 3 rows as
with 30 (no N+1), and no more than its pinned budget.

A budget is the count measured when it was pinned. A change that adds a query per page must raise it here, on
purpose; a change that adds a query per row fails the 3-versus-30 comparison whatever the budget.
"""

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import MisuseReport, Office, Role
from certificates.models import Application, CriminalRecord, RegisterImport
from certificates.models import Status as NcrStatus
from familyplanning.models import PolicyArticle
from hukou.constants import Status as HukouStatus
from portal.cases.deadlines import clock_start
from portal.cases.models import Transition
from portal.cases.services import next_case_number
from portal.documents.models import Document, DocumentAccess
from portal.feedback.models import Feedback, FeedbackKind, Rating
from portal.notify.models import Channel, OutboxMessage
from portal.verify.codes import new_code
from portal.verify.models import (
    DocumentStatus,
    IssuedDocument,
    IssuedDocumentAccess,
    ShareCode,
    ShareCodeUse,
    VerificationLog,
)
from portal.workdays.models import CalendarDay, CalendarYear, DayKind, MissingYearNotice
from tests.factories import (
    ApplicationFactory,
    FamilyPlanningApplicationFactory,
    MigrationApplicationFactory,
    OfficeFactory,
    StaffFactory,
    UserFactory,
    make_id_number,
)
from tests.portal.visits import make_visit_stations, make_visits

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    """Offices of every kind under Zhengzhou's police bureau and health commission (and Luoyang for the hukou
    move-out side), a citizen, and a staff member of each role; a supervisor of each agency."""
    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    luoyang = Office.objects.get(division_code="410300", kind=Office.Kind.CITY)
    health_commission = Office.objects.get(division_code="410100", kind=Office.Kind.CITY_HEALTH_COMMISSION)
    station = OfficeFactory(name="金水路派出所", parent=zhengzhou)
    offices = {
        "station": station,
        "move_in": station,
        "municipal": OfficeFactory(
            name="郑州市公安局户政管理处", kind=Office.Kind.HOUSEHOLD_ADMIN, division_code="410100", parent=zhengzhou
        ),
        "move_out": OfficeFactory(name="老城派出所", division_code="410302", parent=luoyang),
        "fp": OfficeFactory(name="金水区卫生健康委员会", kind=Office.Kind.FAMILY_PLANNING, parent=health_commission),
        "zhengzhou": zhengzhou,
        "health_commission": health_commission,
    }
    superuser = StaffFactory(office=None, is_superuser=True, role=Role.ADMINISTRATOR)
    users = {
        "superuser": superuser,
        "administrator": StaffFactory(office=zhengzhou, role=Role.ADMINISTRATOR),
        "police_officer": StaffFactory(office=station),
        "supervisor": StaffFactory(office=zhengzhou, role=Role.SUPERVISOR),
        "health_supervisor": StaffFactory(office=health_commission, role=Role.SUPERVISOR),
        "household_admin": StaffFactory(office=offices["municipal"], role=Role.HOUSEHOLD_ADMIN),
        "family_planning_officer": StaffFactory(office=offices["fp"], role=Role.FAMILY_PLANNING_OFFICER),
        "citizen": UserFactory(),
    }
    return {"offices": offices, "users": users}


# --- row makers: n rows of a model that the role's staff member sees in its changelist ----------------------------


def _unique():
    return uuid.uuid4().hex[:10]


def make_groups(world, n):
    for _ in range(n):
        Group.objects.create(name=f"group {_unique()}")


def make_access_attempts(world, n):
    from axes.models import AccessAttempt

    for i in range(n):
        AccessAttempt.objects.create(
            username=f"user{_unique()}", ip_address=f"198.51.100.{i % 250}", user_agent="Mozilla/5.0",
            http_accept="*/*", path_info="/accounts/login/", get_data="", post_data="username=x",
            failures_since_start=2,
        )  # fmt: skip


def make_access_logs(world, n):
    from axes.models import AccessLog

    for i in range(n):
        AccessLog.objects.create(
            username=f"user{_unique()}", ip_address=f"198.51.100.{i % 250}", user_agent="Mozilla/5.0",
            http_accept="*/*", path_info="/accounts/login/",
        )  # fmt: skip


def make_access_failure_logs(world, n):
    from axes.models import AccessFailureLog

    for i in range(n):
        AccessFailureLog.objects.create(
            username=f"user{_unique()}", ip_address=f"198.51.100.{i % 250}", user_agent="Mozilla/5.0",
            http_accept="*/*", path_info="/accounts/login/", locked_out=i % 2 == 0,
        )  # fmt: skip


def make_totp_devices(world, n):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for _ in range(n):
        TOTPDevice.objects.create(user=StaffFactory(office=world["offices"]["station"]), name="phone", confirmed=True)


def make_calendar_days(world, n):
    start = datetime.date(2031, 1, 1) + datetime.timedelta(days=CalendarDay.objects.count())
    for i in range(n):
        CalendarDay.objects.create(date=start + datetime.timedelta(days=i), kind=DayKind.HOLIDAY, name="假日")


def make_calendar_years(world, n):
    start = 2200 + CalendarYear.objects.count()
    for i in range(n):
        CalendarYear.objects.create(year=start + i, complete=True)


def make_missing_year_notices(world, n):
    start = 2300 + MissingYearNotice.objects.count()
    for i in range(n):
        MissingYearNotice.objects.create(year=start + i, recipients=2)


def _attached_documents(world, n):
    office = world["offices"]["station"]
    application = ApplicationFactory(office=office, applicant=world["users"]["citizen"])
    content_type = ContentType.objects.get_for_model(Application)
    return [
        Document.objects.create(
            owner=application.applicant,
            kind="photo",
            original_name="photo.png",
            file=f"documents/x/{_unique()}.png",
            mime_type="image/png",
            size=1234,
            sha256="0" * 64,
            case_type=content_type,
            case_id=application.pk,
            office=office,
            attached_at=timezone.now(),
        )  # fmt: skip
        for _ in range(n)
    ]


def make_documents(world, n):
    _attached_documents(world, n)


def make_document_accesses(world, n):
    for document in _attached_documents(world, n):
        DocumentAccess.objects.create(document=document, user=world["users"]["police_officer"], ip="10.1.2.3")


def make_outbox_messages(world, n):
    for i in range(n):
        OutboxMessage.objects.create(
            channel=Channel.SMS if i % 2 else Channel.EMAIL,
            to=f"+8613800{i:06d}" if i % 2 else f"user{i}@example.test",
            user=world["users"]["citizen"],
            template="cases/deadline_digest",
            body="Your application was received.",
        )


def _issued_documents(world, n, *, holder=None):
    office = world["offices"]["station"]
    application = ApplicationFactory(office=office, applicant=holder or world["users"]["citizen"], issued=True)
    content_type = ContentType.objects.get_for_model(Application)
    start = IssuedDocument.objects.filter(source_type=content_type, source_id=application.pk).count()
    return [
        IssuedDocument.objects.create(
            code=new_code(),
            kind="ncr_certificate",
            title="无犯罪记录证明",
            title_en="Certificate of No Criminal Record",
            source_type=content_type,
            source_id=application.pk,
            generation=start + i + 1,
            holder=application.applicant,
            holder_name=application.holder_name,
            issuing_office=office,
            issued_at=timezone.now(),
            valid_until=timezone.localdate() + datetime.timedelta(days=90),
            status=DocumentStatus.VALID,
            file=f"issued/{_unique()}.pdf",
            sha256="1" * 64,
            size=2048,
        )  # fmt: skip
        for i in range(n)
    ]


def make_issued_documents(world, n):
    _issued_documents(world, n)


def make_issued_document_accesses(world, n):
    for document in _issued_documents(world, n):
        IssuedDocumentAccess.objects.create(document=document, user=world["users"]["police_officer"], ip="10.1.2.3")


def make_verification_logs(world, n):
    for document in _issued_documents(world, n):
        VerificationLog.objects.create(
            document=document, channel=VerificationLog.Channel.PAGE, result="valid", client_ip="203.0.113.9"
        )


def make_share_codes(world, n):
    for document in _issued_documents(world, n):
        share = ShareCode.objects.create(
            document=document,
            holder=world["users"]["citizen"],
            code_hash=uuid.uuid4().hex,
            code_hint="ABCD",
            organisation="某公司",
            purpose="入职",
            expires_at=timezone.now() + datetime.timedelta(days=30),
        )
        ShareCodeUse.objects.create(share=share, organisation="某公司", matched=True)


def make_share_code_uses(world, n):
    make_share_codes(world, n)


def make_users(world, n):
    for _ in range(n):
        UserFactory()


def make_offices(world, n):
    for _ in range(n):
        OfficeFactory(parent=world["offices"]["zhengzhou"])


def make_misuse_reports(world, n):
    for i in range(n):
        MisuseReport.objects.create(
            user=UserFactory(),
            description="Someone else logged in with my account.",
            handled_by=world["users"]["administrator"] if i % 2 else None,
            handled_at=timezone.now() if i % 2 else None,
        )


def make_ncr_applications(world, n):
    for i in range(n):
        status = (NcrStatus.SUBMITTED, NcrStatus.ACCEPTED, NcrStatus.INFO_REQUESTED)[i % 3]
        clock = clock_start(3) if status == NcrStatus.ACCEPTED else {}
        ApplicationFactory(office=world["offices"]["station"], status=status, **clock)


def make_criminal_records(world, n):
    for i in range(n):
        CriminalRecord.objects.create(
            id_number=make_id_number(), name="赵某", offence="盗窃罪", court="郑州市金水区人民法院",
            judgment_date=datetime.date(2015, 3, 1), sentence="有期徒刑一年", sentence_months=12,
            age_at_offence=17 + i % 10, import_batch=f"batch-{i % 3}",
        )  # fmt: skip


def make_register_imports(world, n):
    for i in range(n):
        RegisterImport.objects.create(
            kind=("full", "delta")[i % 2], file=f"register/2026/11/{i}.csv", sha256=f"{i:064x}",
            started_by=world["users"]["administrator"], phase="done", outcome="imported", rows_read=10, rows_imported=10,
        )  # fmt: skip


def make_fp_applications(world, n):
    for i in range(n):
        FamilyPlanningApplicationFactory(
            office=world["offices"]["fp"], service=("birth_registration", "only_child_certificate")[i % 2]
        )


def make_ratings(world, n):
    for i in range(n):
        Rating.objects.create(citizen=UserFactory(), office=world["offices"]["fp"], level=1 + i % 5, reasons=[])


def make_feedback(world, n):
    for i in range(n):
        Feedback.objects.create(
            case_number=next_case_number(Feedback.CASE_PREFIX), applicant=UserFactory(), office=world["offices"]["fp"],
            kind=(FeedbackKind.COMPLAINT, FeedbackKind.SUGGESTION, FeedbackKind.CONSULTATION)[i % 3],
            subject="办理太慢", body="等了很久。", submitted_at=timezone.now(), **clock_start(5),
        )  # fmt: skip


def make_policy_articles(world, n):
    for i in range(n):
        PolicyArticle.objects.create(
            kind="policy", title_zh=f"政策{i}", title_en=f"Policy {i}", body_zh="正文", body_en="Text",
            office=world["offices"]["fp"], published=True, published_on=datetime.date(2026, 1, 1),
            created_by=world["users"]["family_planning_officer"],
        )  # fmt: skip


def make_hukou_applications(world, n):
    offices = world["offices"]
    for i in range(n):
        status = (HukouStatus.SUBMITTED, HukouStatus.FORWARDED)[i % 2]
        extra = {"forwarded_at": timezone.now(), **clock_start(20)} if status == HukouStatus.FORWARDED else {}
        MigrationApplicationFactory(offices=offices, status=status, complete=True, **extra)


@dataclass(frozen=True)
class Changelist:
    role: str
    make: Callable
    budget: int
    # Rows of the model that exist before the test (data migrations), or that the role may also see.
    preexisting: bool = False


# Model label -> who opens its changelist, how its rows are made, and the pinned budget. Every model registered in
# the admin site must be here (test_every_registered_model_has_a_budget).
CHANGELISTS = {
    "auth.Group": Changelist("administrator", make_groups, 8, preexisting=True),
    "axes.AccessAttempt": Changelist("superuser", make_access_attempts, 8),
    "axes.AccessLog": Changelist("superuser", make_access_logs, 8, preexisting=True),  # the login itself
    "axes.AccessFailureLog": Changelist("superuser", make_access_failure_logs, 8),
    "otp_totp.TOTPDevice": Changelist("administrator", make_totp_devices, 8),
    "workdays.CalendarDay": Changelist("administrator", make_calendar_days, 11, preexisting=True),
    "workdays.CalendarYear": Changelist("administrator", make_calendar_years, 8, preexisting=True),
    "workdays.MissingYearNotice": Changelist("administrator", make_missing_year_notices, 8, preexisting=True),
    "documents.Document": Changelist("superuser", make_documents, 6),
    "documents.DocumentAccess": Changelist("superuser", make_document_accesses, 6),
    "notify.OutboxMessage": Changelist("superuser", make_outbox_messages, 4),
    # 5, and one query naming the document types of the type filter (portal.verify.admin.IssuedKindFilter).
    "verify.IssuedDocument": Changelist("superuser", make_issued_documents, 6),
    "verify.IssuedDocumentAccess": Changelist("superuser", make_issued_document_accesses, 4),
    "verify.VerificationLog": Changelist("superuser", make_verification_logs, 5),
    "verify.ShareCode": Changelist("superuser", make_share_codes, 5),
    "verify.ShareCodeUse": Changelist("superuser", make_share_code_uses, 5),
    "accounts.User": Changelist("administrator", make_users, 8, preexisting=True),
    "accounts.Office": Changelist("administrator", make_offices, 8, preexisting=True),
    "accounts.MisuseReport": Changelist("administrator", make_misuse_reports, 8),
    "certificates.Application": Changelist("police_officer", make_ncr_applications, 8),
    "certificates.CriminalRecord": Changelist("administrator", make_criminal_records, 8),
    "certificates.RegisterImport": Changelist("administrator", make_register_imports, 8),
    "familyplanning.FamilyPlanningApplication": Changelist("family_planning_officer", make_fp_applications, 8),
    # 11: the "service" filter lists the services rated (one DISTINCT query).
    "feedback.Rating": Changelist("family_planning_officer", make_ratings, 11),
    "feedback.Feedback": Changelist("family_planning_officer", make_feedback, 8),
    "familyplanning.PolicyArticle": Changelist("family_planning_officer", make_policy_articles, 10),
    "hukou.MigrationApplication": Changelist("police_officer", make_hukou_applications, 8),
    "visits.VisitStation": Changelist("supervisor", make_visit_stations, 10),  # a supervisor: the subtree too
    "visits.Visit": Changelist("police_officer", make_visits, 8),
}
# The service queues again for the other roles that work them: a supervisor of the agency that handles the service
# (an office subtree) and the municipal household administration (a case reaches it from forwarding).
EXTRA_ROLES = [
    ("certificates.Application", "supervisor", 10),
    ("familyplanning.FamilyPlanningApplication", "health_supervisor", 10),
    ("hukou.MigrationApplication", "household_admin", 8),  # half the rows made are forwarded: 1, then 14
    ("hukou.MigrationApplication", "supervisor", 10),
]


# Tables that grow with the province's population (cases, uploads, messages, issued documents, logs, users).
BIG_TABLES = {
    "documents.Document",
    "documents.DocumentAccess",
    "notify.OutboxMessage",
    "verify.IssuedDocument",
    "verify.IssuedDocumentAccess",
    "verify.VerificationLog",
    "accounts.User",
    "certificates.Application",
    "certificates.CriminalRecord",
    "familyplanning.FamilyPlanningApplication",
    "feedback.Rating",
    "feedback.Feedback",
    "hukou.MigrationApplication",
    "visits.Visit",
}


def test_every_registered_model_has_a_budget():
    registered = {model._meta.label for model in admin.site._registry if model._meta.app_label != "testapp"}
    assert registered == set(CHANGELISTS)


def changelist_url(label):
    from django.apps import apps
    from django.contrib import admin

    from portal.cases.queues import InboxFilter

    app_label, model_name = label.lower().split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    # A case queue opens on the cases needing the office's action: every row the role sees is behind "all".
    model_admin = admin.site._registry.get(apps.get_model(label))
    return url + "?inbox=all" if model_admin and InboxFilter in model_admin.list_filter else url


def count_queries(client, url, method="get", data=None):
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data or {})
    assert response.status_code == 200, (url, response.status_code)
    return len(captured), response


def assert_flat(client, url, grow, budget, django_assert_max_num_queries, method="get", data=None):
    """The page's queries with the first rows equal those after `grow` made many more, and stay within budget."""
    count_queries(client, url, method, data)  # warm: content types and other per-process caches
    small, _ = count_queries(client, url, method, data)
    grow()
    with django_assert_max_num_queries(budget):
        response = getattr(client, method)(url, data or {})
    assert response.status_code == 200
    large, response = count_queries(client, url, method, data)
    assert large == small, f"{url}: {small} queries with few rows, {large} with many (a query per row?)"
    return response


def changelist_cases():
    cases = [pytest.param(label, spec.role, spec.budget, id=label) for label, spec in CHANGELISTS.items()]
    cases += [pytest.param(label, role, budget, id=f"{label}-{role}") for label, role, budget in EXTRA_ROLES]
    return cases


@pytest.mark.parametrize(("label", "role", "budget"), changelist_cases())
def test_admin_changelist_queries_do_not_grow_with_rows(
    label, role, budget, world, staff_client, django_assert_max_num_queries
):
    spec = CHANGELISTS[label]
    client = staff_client(world["users"][role])
    url = changelist_url(label)
    spec.make(world, 3)
    response = assert_flat(client, url, lambda: spec.make(world, 27), budget, django_assert_max_num_queries)
    shown = len(response.context["cl"].result_list)
    # The rows were really listed (so a query per row would have shown): all 30, or as many as the role sees.
    expected = 14 if role == "household_admin" else min(30, response.context["cl"].list_per_page)
    assert shown >= expected if spec.preexisting else shown == expected, shown
    if label in BIG_TABLES:
        # No second, unfiltered COUNT over a table of millions (show_full_result_count = False, portal/bigtables.py).
        assert response.context["cl"].show_full_result_count is False


# --- citizen pages ------------------------------------------------------------------------------------------------

CITIZEN_BUDGETS = {
    # 8, plus the holder's share codes (their uses are prefetched only when there are codes) and, in one query for
    # all issued applications, whether their certificate was revoked since: constant, never per row. Every signed-in
    # page adds one: the unread messages counted for the header (portal.notify.inbox.unread_count). And one for the
    # wallet: the issued documents of others' cases that name the citizen as a holder (registry.documents_naming).
    # +5: the decided cases still to rate (一事一评), one query per case model and one for the ratings given.
    "me": 17,
    "certificates_index": 4,
    "certificates_detail": 7,
    "track": 2,
    "verify": 5,
}


def test_my_applications_across_every_service(world, client, django_assert_max_num_queries):
    citizen = world["users"]["citizen"]
    offices = world["offices"]

    def grow(n):
        for _ in range(n):
            ApplicationFactory(office=offices["station"], applicant=citizen)
            FamilyPlanningApplicationFactory(office=offices["fp"], applicant=citizen)
            MigrationApplicationFactory(offices=offices, submitted=True, applicant=citizen, complete=True)
        _issued_documents(world, n, holder=citizen)

    grow(1)
    client.force_login(citizen)
    response = assert_flat(client, reverse("me"), lambda: grow(9), CITIZEN_BUDGETS["me"], django_assert_max_num_queries)
    html = response.content.decode()
    assert html.count("NCR-") >= 10 and html.count("FP-") >= 10 and html.count("HK-") >= 10


def test_certificates_index_with_many_applications(world, client, django_assert_max_num_queries):
    citizen = world["users"]["citizen"]

    def grow(n):
        for i in range(n):
            ApplicationFactory(
                office=world["offices"]["station"],
                applicant=citizen,
                status=(NcrStatus.DRAFT, NcrStatus.SUBMITTED)[i % 2],
            )

    grow(3)
    client.force_login(citizen)
    budget = CITIZEN_BUDGETS["certificates_index"]
    response = assert_flat(
        client, reverse("certificates:index"), lambda: grow(27), budget, django_assert_max_num_queries
    )
    assert response.content.decode().count("NCR-") >= 30


def _timeline(application, n, actor):
    Transition.objects.bulk_create(
        Transition(
            content_type=ContentType.objects.get_for_model(type(application)),
            object_id=application.pk,
            from_status="submitted",
            to_status="accepted",
            actor=actor,
            office=application.office,
            note=f"step {i}",
        )
        for i in range(n)
    )


def test_certificate_status_page_with_a_long_timeline(world, client, django_assert_max_num_queries):
    citizen = world["users"]["citizen"]
    application = ApplicationFactory(
        office=world["offices"]["station"], applicant=citizen, accepted=True, documents=True
    )
    officer = world["users"]["police_officer"]
    _timeline(application, 3, officer)
    client.force_login(citizen)
    url = reverse("certificates:detail", kwargs={"case_number": application.case_number})
    budget = CITIZEN_BUDGETS["certificates_detail"]
    response = assert_flat(
        client, url, lambda: _timeline(application, 27, officer), budget, django_assert_max_num_queries
    )
    assert response.content.decode().count("step ") >= 30


def test_public_progress_enquiry_with_a_long_timeline(world, client, django_assert_max_num_queries):
    citizen = world["users"]["citizen"]
    application = ApplicationFactory(office=world["offices"]["station"], applicant=citizen, accepted=True)
    officer = world["users"]["police_officer"]
    _timeline(application, 3, officer)
    data = {"case_number": application.case_number, "second_factor": citizen.real_name}
    response = assert_flat(
        client,
        reverse("track"),
        lambda: _timeline(application, 27, officer),
        CITIZEN_BUDGETS["track"],
        django_assert_max_num_queries,
        method="post",
        data=data,
    )
    assert application.case_number in response.content.decode()


def test_public_verification_page_does_not_depend_on_the_table_size(world, client, django_assert_max_num_queries):
    document = _issued_documents(world, 1)[0]
    _issued_documents(world, 3)
    url = reverse("verify:detail", kwargs={"code": document.code})
    budget = CITIZEN_BUDGETS["verify"]

    def grow():
        for other in _issued_documents(world, 27):
            VerificationLog.objects.create(document=other, channel="page", result="valid")
        VerificationLog.objects.bulk_create(
            VerificationLog(document=document, channel="page", result="valid") for _ in range(30)
        )

    response = assert_flat(client, url, grow, budget, django_assert_max_num_queries)
    assert document.code in response.content.decode()
