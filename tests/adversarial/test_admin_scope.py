"""IDOR and scope escapes through every admin path: an officer of another station reaches nothing of station A's.

Out of scope looks exactly like "does not exist" (404), never a 403 that confirms the object is there.
"""

import datetime

import pytest
from django.urls import reverse

from accounts.models import Office
from certificates.models import Status
from portal.documents.models import Document
from portal.verify.issuing import issued_document_claim, issued_document_store
from portal.verify.models import IssuedDocument
from tests.factories import (
    ApplicationFactory,
    FamilyPlanningApplicationFactory,
    MigrationApplicationFactory,
    OfficeFactory,
    StaffFactory,
    attach_documents,
)

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"admin:certificates_application_{name}", args=args)


@pytest.fixture
def theirs(station_a, no_tasks):
    """Station A's issued application with documents and a certificate: what the officer of station B goes after."""
    application = ApplicationFactory(
        office=station_a, issued=True, certificate_generation=1, delivery="collect", collection_office=station_a
    )
    attach_documents(application)
    document, _ = issued_document_claim(
        source=application,
        generation=1,
        kind="ncr_certificate",
        title="无犯罪记录证明",
        title_en="Certificate",
        holder=application.applicant,
        holder_name=application.holder_name,
        issuing_office=station_a,
        valid_until=datetime.date(2030, 1, 1),
    )
    issued_document_store(document=document, pdf=b"%PDF-1.7\n%%EOF\n")
    return application


@pytest.fixture
def intruder(staff_client, officer_b):
    return staff_client(officer_b)


def test_own_officer_does_reach_it(staff_client, officer_a, theirs):
    # The control: every path below works for the right station, so a 404 there means scope, not a broken URL.
    client = staff_client(officer_a)
    assert client.get(url("change", theirs.pk)).status_code == 200
    assert client.get(url("history", theirs.pk)).status_code == 200
    assert theirs.case_number in client.get(url("changelist"), {"inbox": "all"}).content.decode()


@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_object_page_is_404_like_a_missing_one(intruder, theirs, view):
    assert intruder.get(url(view, theirs.pk)).status_code == 404
    assert intruder.get(url(view, 99999999)).status_code == 404
    assert intruder.post(url(view, theirs.pk), {"post": "yes"}).status_code in (404, 405)
    theirs.refresh_from_db()
    assert theirs.status == Status.ISSUED


@pytest.mark.parametrize(
    "action", ["accept", "request_info", "approve", "refuse", "revoke", "reissue", "paper_printed", "paper_collected"]
)
def test_review_action_is_404_and_changes_nothing(intruder, theirs, action, no_tasks):
    response = intruder.post(url("act", theirs.pk, action), {"text": "pwned", "seen_status": theirs.status})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.status, theirs.paper_printed_at, theirs.certificate_generation) == (Status.ISSUED, None, 1)
    assert IssuedDocument.objects.get().status == "valid" and no_tasks == []


def test_action_url_with_a_traversing_object_id_is_404(intruder, officer_b, theirs):
    mine = ApplicationFactory(office=officer_b.office, submitted=True)
    response = intruder.post(f"/admin/certificates/application/{mine.pk}/../{theirs.pk}/act/revoke/", {"text": "x"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert IssuedDocument.objects.get().status == "valid"


def test_raw_id_popup_lists_only_own_station(intruder, officer_b, theirs):
    mine = ApplicationFactory(office=officer_b.office)
    html = intruder.get(url("changelist"), {"_popup": "1", "_to_field": "id"}).content.decode()
    assert mine.case_number in html and theirs.case_number not in html


def test_to_field_cannot_turn_the_change_page_into_a_lookup_by_id_number(intruder, theirs):
    response = intruder.get(url("change", theirs.holder_id_number), {"_to_field": "holder_id_number"})
    assert response.status_code in (400, 404)
    assert theirs.holder_name not in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"q": "CASE"},
        {"q": "HOLDER_ID"},
        {"office__id__exact": "OFFICE"},
        {"status": "issued"},
        {"_popup": "1", "_to_field": "id", "q": "CASE"},
    ],
    ids=["search_case_number", "search_id_number", "filter_office", "filter_status", "popup_search"],
)
def test_changelist_search_and_filters_stay_in_scope(intruder, theirs, query):
    values = {"CASE": theirs.case_number, "HOLDER_ID": theirs.holder_id_number, "OFFICE": str(theirs.office_id)}
    response = intruder.get(url("changelist"), {k: values.get(v, v) for k, v in query.items()})
    assert response.status_code == 200
    assert theirs.pk not in {row.pk for row in response.context["cl"].result_list}
    assert f"/{theirs.pk}/change/" not in response.content.decode()


@pytest.mark.parametrize(
    "lookup", ["applicant__password__startswith", "applicant__id_number__startswith", "decided_by__password__regex"]
)
def test_changelist_refuses_filters_that_would_leak_related_secrets(staff_client, officer_a, theirs, lookup):
    # Even in scope: filtering on a related user's password hash or ID number would be an oracle.
    response = staff_client(officer_a).get(url("changelist"), {lookup: "m"})
    assert response.status_code == 400 or "e=1" in response.get("Location", "")


@pytest.mark.parametrize("select_across", [False, True], ids=["selected_ids", "select_across"])
def test_export_never_reaches_another_station(intruder, officer_b, theirs, select_across):
    mine = ApplicationFactory(office=officer_b.office)
    data = {"action": "export_csv", "_selected_action": [mine.pk, theirs.pk]}
    if select_across:
        data["select_across"] = "1"
    response = intruder.post(url("changelist"), data)
    body = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert mine.case_number in body and theirs.case_number not in body


def test_drafts_of_the_own_station_are_the_citizens_business(staff_client, officer_a, station_a):
    draft = ApplicationFactory(office=station_a, draft=True)
    client = staff_client(officer_a)
    assert client.get(url("change", draft.pk)).status_code == 404
    assert client.post(url("act", draft.pk, "accept")).status_code == 404


def test_supervisor_of_another_city_reaches_nothing(staff_client, theirs):
    luoyang = Office.objects.get(division_code="410300", kind=Office.Kind.CITY)
    supervisor = StaffFactory(office=luoyang, role="supervisor")
    client = staff_client(supervisor)
    assert client.get(url("change", theirs.pk)).status_code == 404
    assert theirs.case_number not in client.get(url("changelist")).content.decode()


# --- the shared admins: documents and issued documents -----------------------------------------------


@pytest.mark.parametrize(
    "source", ["documents.documentaccess.document", "verify.issueddocumentaccess.document"], ids=["documents", "issued"]
)
def test_autocomplete_through_any_foreign_key_stays_in_scope(intruder, officer_b, theirs, source):
    app_label, model_name, field_name = source.split(".")
    response = intruder.get(
        reverse("admin:autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": ""},
    )
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        texts = " ".join(r["text"] for r in response.json()["results"])
        ids = {r["id"] for r in response.json()["results"]}
        assert IssuedDocument.objects.get().code not in texts
        assert not ids & {str(pk) for pk in Document.objects.values_list("pk", flat=True)}


def test_autocomplete_of_citizen_accounts_is_refused(intruder, theirs):
    response = intruder.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "certificates",
            "model_name": "application",
            "field_name": "applicant",
            "term": theirs.applicant.username,
        },
    )
    assert response.status_code == 403


def test_autocomplete_of_offices_for_a_supervisor_stays_in_the_subtree(staff_client, station_a, station_b):
    luoyang = Office.objects.get(division_code="410300", kind=Office.Kind.CITY)
    luoyang_station = OfficeFactory(name="西关派出所", parent=luoyang, division_code="410302")
    supervisor = StaffFactory(office=station_a.parent, role="supervisor")
    response = staff_client(supervisor).get(
        reverse("admin:autocomplete"),
        {"app_label": "certificates", "model_name": "application", "field_name": "office", "term": ""},
    )
    ids = {int(r["id"]) for r in response.json()["results"]}
    assert station_a.pk in ids and luoyang_station.pk not in ids and luoyang.pk not in ids


@pytest.mark.parametrize("view", ["change", "history"])
def test_document_and_issued_document_pages_are_404(intruder, theirs, view):
    document = Document.objects.filter(case_id=theirs.pk).first()
    issued = IssuedDocument.objects.get()
    assert intruder.get(reverse(f"admin:documents_document_{view}", args=[document.pk])).status_code == 404
    assert intruder.get(reverse(f"admin:verify_issueddocument_{view}", args=[issued.pk])).status_code == 404


def test_citizen_files_and_certificate_downloads_are_404(intruder, theirs):
    for document in Document.objects.filter(case_id=theirs.pk):
        assert intruder.get(document.get_absolute_url()).status_code == 404
        assert intruder.get(document.inline_url).status_code == 404
    assert intruder.get(reverse("verify:download", args=[IssuedDocument.objects.get().code])).status_code == 404
    from portal.documents.models import DocumentAccess
    from portal.verify.models import IssuedDocumentAccess

    assert not DocumentAccess.objects.exists() and not IssuedDocumentAccess.objects.exists()


def test_the_criminal_record_register_is_for_administrators_only(intruder, officer_b):
    assert intruder.get(reverse("admin:certificates_criminalrecord_changelist")).status_code == 403
    assert intruder.get(reverse("admin:certificates_criminalrecord_import")).status_code == 403


# --- the other services' queues ------------------------------------------------------------------------


def test_hukou_queue_and_pages_stay_in_scope(staff_client):

    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    luoyang = Office.objects.get(division_code="410300", kind=Office.Kind.CITY)
    offices = {
        "move_in": OfficeFactory(parent=zhengzhou),
        "municipal": OfficeFactory(kind=Office.Kind.HOUSEHOLD_ADMIN, division_code="410100", parent=zhengzhou),
        "move_out": OfficeFactory(division_code="410302", parent=luoyang),
    }
    move = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
    stranger = staff_client(StaffFactory(office=OfficeFactory(division_code="410302", parent=luoyang)))
    base = "admin:hukou_migrationapplication_"
    assert move.case_number not in stranger.get(reverse(base + "changelist")).content.decode()
    for view in ("change", "history"):
        assert stranger.get(reverse(base + view, args=[move.pk])).status_code == 404
    export = stranger.post(reverse(base + "changelist"), {"action": "export_csv", "_selected_action": [move.pk]})
    assert move.case_number not in export.content.decode("utf-8-sig", errors="replace")


def test_family_planning_queue_and_pages_stay_in_scope(staff_client):

    office = OfficeFactory(kind="family_planning")
    stranger = staff_client(StaffFactory(office=OfficeFactory(kind="family_planning"), role="family_planning_officer"))
    application = FamilyPlanningApplicationFactory(office=office)
    base = "admin:familyplanning_familyplanningapplication_"
    assert application.case_number not in stranger.get(reverse(base + "changelist")).content.decode()
    for view in ("change", "history"):
        assert stranger.get(reverse(base + view, args=[application.pk])).status_code == 404
    assert stranger.post(reverse(base + "act", args=[application.pk, "accept"])).status_code == 404
