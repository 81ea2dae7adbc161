"""The wall between agencies: the police never reach family-planning records, the health commission never reaches
certificates or hukou moves, through any admin path, download or message (docs/architecture.md#security-and-privacy).

Every registered ModelAdmin of the services and of the shared documents is checked for a supervisor of each agency,
with the other agency's objects as the target; each path is also opened by the owning agency's supervisor, so that
a 404 or an empty list means the wall, not a broken URL.
"""

import datetime

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db.models import ForeignKey
from django.urls import reverse
from django.utils import timezone

from accounts.models import Office, Role
from accounts.notify import office_recipients
from accounts.scoping import OfficeScopedAdminMixin, scoped_office_ids
from certificates.models import Application
from familyplanning.models import FamilyPlanningApplication, PolicyArticle
from familyplanning.models import Status as FpStatus
from hukou.constants import Status as HukouStatus
from hukou.models import MigrationApplication
from portal import registry
from portal.cases.admin import CaseReviewAdminMixin
from portal.cases.deadlines import clock_start, send_deadline_digests, sweep_deadlines
from portal.cases.models import DueState
from portal.cases.services import next_case_number
from portal.documents.models import Document, DocumentAccess
from portal.feedback.models import Feedback, FeedbackKind, Rating
from portal.notify.models import OutboxMessage
from portal.verify.issuing import issued_document_claim, issued_document_store
from portal.verify.models import IssuedDocument, IssuedDocumentAccess
from tests.factories import (
    ApplicationFactory,
    FamilyPlanningApplicationFactory,
    MigrationApplicationFactory,
    OfficeFactory,
    StaffFactory,
    UserFactory,
    attach_documents,
)

pytestmark = pytest.mark.django_db

POLICE, HEALTH = Office.Agency.PUBLIC_SECURITY, Office.Agency.HEALTH_COMMISSION
WALLED_APPS = {"certificates", "hukou", "familyplanning", "verify", "documents"}


def city(code, kind=Office.Kind.CITY):
    return Office.objects.get(division_code=code, kind=kind)


def issue(case, office, kind):
    document, _ = issued_document_claim(
        source=case,
        generation=1,
        kind=kind,
        title="证明",
        title_en="Certificate",
        holder=case.applicant,
        holder_name=case.applicant.real_name,
        issuing_office=office,
        valid_until=datetime.date(2030, 1, 1),
    )
    issued_document_store(document=document, pdf=b"%PDF-1.7\n%%EOF\n")
    return IssuedDocument.objects.get(pk=document.pk)


@pytest.fixture
def world(db, no_tasks):
    """Zhengzhou's two trees as they are: a police station under the Jinshui branch under the city bureau, and the
    Jinshui district health commission under the city's health commission; a case of every kind in each."""
    zhengzhou, luoyang = city("410100"), city("410300")
    commission = city("410100", Office.Kind.CITY_HEALTH_COMMISSION)
    branch = OfficeFactory(name="郑州市公安局金水分局", kind=Office.Kind.COUNTY, parent=zhengzhou)
    station = OfficeFactory(name="经八路派出所", parent=branch)
    municipal = OfficeFactory(kind=Office.Kind.HOUSEHOLD_ADMIN, division_code="410100", parent=zhengzhou)
    move_out = OfficeFactory(name="西关派出所", division_code="410302", parent=luoyang)
    fp_office = OfficeFactory(name="金水区卫生健康委员会", kind=Office.Kind.FAMILY_PLANNING, parent=commission)

    ncr = ApplicationFactory(office=station, issued=True, certificate_generation=1)
    attach_documents(ncr)
    move = MigrationApplicationFactory(
        offices={"move_in": station, "municipal": municipal, "move_out": move_out}, submitted=True, complete=True
    )
    attach_documents(move, kinds=("id_front",))
    fp = FamilyPlanningApplicationFactory(office=fp_office, issued=True)
    attach_documents(fp, kinds=("id_front",))
    citizen = fp.applicant
    objects = {
        POLICE: [ncr, move, issue(ncr, station, "ncr_certificate")],
        HEALTH: [
            fp,
            issue(fp, fp_office, "birth_service_certificate"),
            Rating.objects.create(
                citizen=citizen,
                office=fp_office,
                service="familyplanning",
                case_number=fp.case_number,
                level=1,
                reasons=["slow"],
            ),
            Feedback.objects.create(
                case_number=next_case_number(Feedback.CASE_PREFIX),
                applicant=citizen,
                office=fp_office,
                kind=FeedbackKind.COMPLAINT,
                subject="太慢",
                body="等了很久。",
                submitted_at=timezone.now(),
                **clock_start(15),
            ),  # fmt: skip
            PolicyArticle.objects.create(
                kind="notice",
                title_zh="通知",
                title_en="Notice",
                body_zh="正文",
                body_en="Text",
                office=fp_office,
                published=True,
                published_on=datetime.date(2026, 1, 1),
            ),  # fmt: skip
        ],
    }
    for agency, cases in list(objects.items()):
        case_types = {ContentType.objects.get_for_model(type(case)): case.pk for case in cases[:2]}
        for content_type, pk in case_types.items():
            objects[agency] += list(Document.objects.filter(case_type=content_type, case_id=pk))
    supervisors = {
        POLICE: StaffFactory(office=zhengzhou, role=Role.SUPERVISOR),
        HEALTH: StaffFactory(office=commission, role=Role.SUPERVISOR),
    }
    return {
        "objects": objects,
        "supervisors": supervisors,
        "offices": {"station": station, "municipal": municipal, "fp": fp_office, "commission": commission},
    }


def walled_admins():
    return sorted(
        (model._meta.label, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in WALLED_APPS
    )


def scoped_labels():
    return [label for label, model_admin in walled_admins() if isinstance(model_admin, OfficeScopedAdminMixin)]


def url(label, view, *args):
    app_label, model_name = label.lower().split(".")
    return reverse(f"admin:{app_label}_{model_name}_{view}", args=args)


def of_model(world, agency, label):
    return [obj for obj in world["objects"][agency] if obj._meta.label == label]


def other(agency):
    return HEALTH if agency == POLICE else POLICE


DIRECTIONS = [pytest.param(POLICE, id="police_supervisor"), pytest.param(HEALTH, id="health_supervisor")]


def test_every_walled_admin_has_objects_of_an_agency_to_test(world):
    # The parametrised tests below are only as good as the world: every office-scoped admin has a target.
    for label in scoped_labels():
        assert of_model(world, POLICE, label) or of_model(world, HEALTH, label), label


def all_rows(changelist_url):
    """A case queue opens on the cases needing the office's action; the walls are about every row."""
    from portal.cases.queues import InboxFilter

    for model, model_admin in admin.site._registry.items():
        if InboxFilter in model_admin.list_filter and changelist_url.endswith(f"/{model._meta.model_name}/"):
            return changelist_url + "?inbox=all"
    return changelist_url


@pytest.mark.parametrize("label", scoped_labels())
def test_the_owning_agency_reaches_its_own(world, staff_client, label):
    # The control for every path below.
    for agency in (POLICE, HEALTH):
        mine = of_model(world, agency, label)
        if not mine:
            continue
        client = staff_client(world["supervisors"][agency])
        listed = {row.pk for row in client.get(all_rows(url(label, "changelist"))).context["cl"].result_list}
        assert {obj.pk for obj in mine} <= listed
        for obj in mine:
            assert client.get(url(label, "change", obj.pk)).status_code == 200
            assert client.get(url(label, "history", obj.pk)).status_code == 200


@pytest.mark.parametrize("agency", DIRECTIONS)
@pytest.mark.parametrize("label", scoped_labels())
def test_changelist_and_raw_id_popup_are_empty_of_the_other_agency(world, staff_client, label, agency):
    theirs = of_model(world, other(agency), label)
    client = staff_client(world["supervisors"][agency])
    for query in (
        {},
        {"_popup": "1", "_to_field": "id"},
        {"q": getattr(theirs[0], "case_number", "x")} if theirs else {},
    ):
        response = client.get(url(label, "changelist"), query)
        assert response.status_code == 200
        assert not {obj.pk for obj in theirs} & {row.pk for row in response.context["cl"].result_list}
        html = response.content.decode()
        for obj in theirs:
            assert f"/{obj.pk}/change/" not in html
            if getattr(obj, "case_number", "") and "q" not in query:  # a search echoes its term
                assert obj.case_number not in html


@pytest.mark.parametrize("view", ["change", "history", "delete"])
@pytest.mark.parametrize("agency", DIRECTIONS)
@pytest.mark.parametrize("label", scoped_labels())
def test_object_pages_of_the_other_agency_are_404(world, staff_client, label, agency, view):
    client = staff_client(world["supervisors"][agency])
    for obj in of_model(world, other(agency), label):
        response = client.get(url(label, view, obj.pk))
        assert response.status_code == 404, (label, view, response.status_code)
        assert client.post(url(label, view, obj.pk), {"post": "yes"}).status_code in (404, 405)
        assert type(obj).objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("agency", DIRECTIONS)
@pytest.mark.parametrize(
    "label", [label for label, model_admin in walled_admins() if isinstance(model_admin, CaseReviewAdminMixin)]
)
def test_review_actions_on_the_other_agencys_cases_are_404(world, staff_client, label, agency):
    model_admin = admin.site._registry[next(m for m in admin.site._registry if m._meta.label == label)]
    client = staff_client(world["supervisors"][agency])
    for obj in of_model(world, other(agency), label):
        for action in model_admin.review_action_labels:
            response = client.post(url(label, "act", obj.pk, action), {"text": "x", "seen_status": obj.status})
            assert response.status_code == 404, (label, action)
        before = obj.status
        obj.refresh_from_db()
        assert obj.status == before


@pytest.mark.parametrize("agency", DIRECTIONS)
@pytest.mark.parametrize(
    "label",
    [label for label, model_admin in walled_admins() if "export_csv" in (model_admin.actions or ())],
)
def test_csv_export_never_reaches_the_other_agency(world, staff_client, label, agency):
    theirs = of_model(world, other(agency), label)
    client = staff_client(world["supervisors"][agency])
    for select_across in ("0", "1"):
        data = {"action": "export_csv", "_selected_action": [obj.pk for obj in theirs] or ["1"]}
        data["select_across"] = select_across
        response = client.post(url(label, "changelist"), data)
        assert response.status_code in (200, 302)
        body = response.content.decode("utf-8-sig", errors="replace")
        for obj in theirs:
            for value in (getattr(obj, "case_number", ""), getattr(obj, "code", "")):
                assert not value or value not in body


def autocomplete_sources():
    """Every foreign key of every model that points at a model of the walled admins: Django's autocomplete view
    serves any of them from the target's ModelAdmin."""
    from django.apps import apps

    targets = {model for model in admin.site._registry if model._meta.app_label in WALLED_APPS}
    targets.add(Office)
    sources = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, ForeignKey) and field.related_model in targets:
                sources.append(f"{model._meta.app_label}.{model._meta.model_name}.{field.name}")
    return sorted(sources)


@pytest.mark.parametrize("agency", DIRECTIONS)
@pytest.mark.parametrize("source", autocomplete_sources())
def test_autocomplete_never_lists_the_other_agencys_objects(world, staff_client, source, agency):
    app_label, model_name, field_name = source.split(".")
    client = staff_client(world["supervisors"][agency])
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": ""},
    )
    assert response.status_code in (200, 403, 404)
    if response.status_code != 200:
        return
    ids = {result["id"] for result in response.json()["results"]}
    from django.apps import apps

    target = apps.get_model(app_label, model_name)._meta.get_field(field_name).related_model
    theirs = [obj for obj in world["objects"][other(agency)] if isinstance(obj, target)]
    if target is Office:
        theirs = list(Office.objects.exclude(agency=agency))
    assert not ids & {str(obj.pk) for obj in theirs}, source


@pytest.mark.parametrize("agency", DIRECTIONS)
def test_downloads_of_the_other_agencys_documents_are_404(world, staff_client, agency):
    mine = world["objects"][agency]
    theirs = world["objects"][other(agency)]
    client = staff_client(world["supervisors"][agency])
    # The control: the supervisor downloads their own agency's uploads and issued documents.
    for obj in mine:
        if isinstance(obj, Document):
            assert client.get(obj.get_absolute_url()).status_code == 200
        if isinstance(obj, IssuedDocument):
            assert client.get(reverse("verify:download", args=[obj.code])).status_code == 200
    seen = DocumentAccess.objects.count(), IssuedDocumentAccess.objects.count()
    for obj in theirs:
        if isinstance(obj, Document):
            assert client.get(obj.get_absolute_url()).status_code == 404
            assert client.get(obj.inline_url).status_code == 404
        if isinstance(obj, IssuedDocument):
            assert client.get(reverse("verify:download", args=[obj.code])).status_code == 404
    assert (DocumentAccess.objects.count(), IssuedDocumentAccess.objects.count()) == seen


@pytest.mark.parametrize("agency", DIRECTIONS)
@pytest.mark.parametrize(
    "label", [label for label, model_admin in walled_admins() if not isinstance(model_admin, OfficeScopedAdminMixin)]
)
def test_admins_of_no_office_are_for_administrators_only(world, staff_client, label, agency):
    # Access logs, the verification log, the criminal-record register: nothing for any supervisor.
    assert staff_client(world["supervisors"][agency]).get(url(label, "changelist")).status_code == 403


# --- digests and escalations ---------------------------------------------------------------------------------------


@pytest.fixture
def everyone(world):
    """The staff of both trees from the district up to the province."""
    offices = world["offices"]
    return {
        "station": StaffFactory(office=offices["station"]),
        "police_city": world["supervisors"][POLICE],
        "police_branch": StaffFactory(office=offices["station"].parent, role=Role.SUPERVISOR),
        "police_province": StaffFactory(office=offices["station"].parent.parent.parent, role=Role.SUPERVISOR),
        "fp_officer": StaffFactory(office=offices["fp"], role=Role.FAMILY_PLANNING_OFFICER),
        "health_city": world["supervisors"][HEALTH],
        "health_province": StaffFactory(office=offices["commission"].parent, role=Role.SUPERVISOR),
    }


def told(everyone, case_number):
    return {
        key
        for key, user in everyone.items()
        if OutboxMessage.objects.filter(user=user, body__contains=case_number).exists()
    }


POLICE_STAFF = {"station", "police_city", "police_branch", "police_province"}
HEALTH_STAFF = {"fp_officer", "health_city", "health_province"}


def test_overdue_family_planning_cases_escalate_only_inside_the_health_commission(world, everyone):
    fp_office = world["offices"]["fp"]
    overdue = FamilyPlanningApplicationFactory(office=fp_office, status=FpStatus.ACCEPTED, **clock_start(1))
    complaint = Feedback.objects.create(
        case_number=next_case_number(Feedback.CASE_PREFIX), applicant=UserFactory(), office=fp_office,
        kind=FeedbackKind.COMPLAINT, subject="太慢", body="等了很久。", submitted_at=timezone.now(), **clock_start(1),
    )  # fmt: skip
    FamilyPlanningApplication.objects.filter(pk=overdue.pk).update(due_date=datetime.date(2026, 11, 20))
    Feedback.objects.filter(pk=complaint.pk).update(due_date=datetime.date(2026, 11, 20))
    counts = sweep_deadlines(registry.case_models(), today=datetime.date(2026, 11, 24))
    assert counts["overdue"] == 2
    send_deadline_digests()  # the notify task the sweep publishes
    for case_number in (overdue.case_number, complaint.case_number):
        assert told(everyone, case_number) == {"fp_officer", "health_city", "health_province"}


def test_overdue_police_cases_escalate_only_inside_public_security(world, everyone):
    station = world["offices"]["station"]
    overdue = ApplicationFactory(office=station, accepted=True, **clock_start(3))
    Application.objects.filter(pk=overdue.pk).update(due_date=datetime.date(2026, 11, 20))
    move = world["objects"][POLICE][1]
    clock = {**clock_start(5), "due_date": datetime.date(2026, 11, 20)}
    MigrationApplication.objects.filter(pk=move.pk).update(status=HukouStatus.ACCEPTED, **clock)
    sweep_deadlines(registry.case_models(), today=datetime.date(2026, 11, 24))
    send_deadline_digests()
    assert told(everyone, overdue.case_number) == POLICE_STAFF
    assert told(everyone, move.case_number) == POLICE_STAFF
    assert Application.objects.get(pk=overdue.pk).due_state == DueState.OVERDUE


def test_a_health_office_wrongly_hung_in_the_police_tree_stays_walled(world, everyone):
    """A tree from before the agencies (the health office under a police branch, as the old demo had it): written
    past Office.save(), which refuses it. The police above still see and hear nothing of its cases."""
    fp_office, branch = world["offices"]["fp"], world["offices"]["station"].parent
    Office.objects.filter(pk=fp_office.pk).update(parent=branch, path=f"{branch.path}{fp_office.pk}/")
    fp_office.refresh_from_db()
    police = everyone["police_city"]
    assert fp_office.pk not in scoped_office_ids(police, service=None)
    assert scoped_office_ids(police, service=FamilyPlanningApplication) == set()
    recipients = set(office_recipients(fp_office, include_supervisors=True, service=FamilyPlanningApplication))
    assert recipients == {everyone["fp_officer"]}
    # And a police case at a health office (a mistake of data) reaches none of the health staff.
    recipients = set(office_recipients(fp_office, include_supervisors=True, service=Application))
    assert everyone["fp_officer"] not in recipients
    assert all(user.office.agency == Office.Agency.PUBLIC_SECURITY for user in recipients)


def test_an_office_cannot_be_hung_below_another_agency(world):
    with pytest.raises(ValueError, match="another agency"):
        OfficeFactory(kind=Office.Kind.FAMILY_PLANNING, parent=city("410100"))
    with pytest.raises(ValueError, match="another agency"):
        OfficeFactory(kind=Office.Kind.POLICE_STATION, parent=world["offices"]["commission"])


def test_in_a_mixed_tree_the_agency_alone_keeps_the_police_out(world, staff_client):
    """The same paths over the tree of before (the district health commission under the police branch), written
    past Office.save(): the office tree would let the police supervisor in; the agency does not."""
    fp_office, branch = world["offices"]["fp"], world["offices"]["station"].parent
    Office.objects.filter(pk=fp_office.pk).update(parent=branch, path=f"{branch.path}{fp_office.pk}/")
    supervisor = StaffFactory(office=branch, role=Role.SUPERVISOR)
    client = staff_client(supervisor)
    theirs = world["objects"][HEALTH]
    for label in scoped_labels():
        objects = [obj for obj in theirs if obj._meta.label == label]
        listed = {row.pk for row in client.get(all_rows(url(label, "changelist"))).context["cl"].result_list}
        assert not listed & {obj.pk for obj in objects}, label
        for obj in objects:
            assert client.get(url(label, "change", obj.pk)).status_code == 404, label
    for obj in theirs:
        if isinstance(obj, Document):
            assert client.get(obj.get_absolute_url()).status_code == 404
        if isinstance(obj, IssuedDocument):
            assert client.get(reverse("verify:download", args=[obj.code])).status_code == 404
    # The police case in the same subtree stays visible: the wall is the agency, not a broken scope.
    ncr = world["objects"][POLICE][0]
    assert client.get(url("certificates.Application", "change", ncr.pk)).status_code == 200
