"""Uploads of a migration application: the documents and authorisations sections, and who among staff may open them.

The move-in station sees the files from submission, the municipal household administration from forwarding, the
move-out station (in another city) from the Permit to Move In; every view is logged, and no other office sees them.
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hukou import drafts, services
from hukou.constants import MAX_FILES_PER_KIND, Relation
from portal.documents.models import DocumentAccess
from portal.documents.services import documents_for_case
from portal.documents.storage import private_storage
from tests.factories import OfficeFactory, StaffFactory
from tests.hukou.pages import (
    citizen_offices,
    django_capture_on_commit,
    errors_of,
    fill_eligible,
    id_of,
    mover,
    people,
    post,
    start,
    submit,
    upload,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def offices(db):
    """The citizen pages' offices: three in two cities, Luoyang's administration, a city without online moves."""
    return citizen_offices()


def test_a_refused_file_is_explained_and_the_accepted_ones_are_kept(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    files = {
        "id_card": upload("id.jpg"),
        "booklet": upload("notes.jpg", b"just some text, not an image", "image/jpeg"),
        "evidence": upload("deed.jpg"),
    }
    response = post(client, url("", application, "documents"), files)
    assert response.status_code == 400
    summary = errors_of(response)
    assert "Add booklet pages:" in summary and "This file is a text file" in summary
    html = response.content.decode()
    assert "Already uploaded: id.jpg" in html and "Already uploaded: deed.jpg" in html
    assert not documents_for_case(application).exists()  # nothing attached until the whole form is right

    # Sent again with the kept tokens and the booklet page: all three are attached.
    form = response.context["form"]
    data = {f"{kind}__kept": form[kind].value()[0].token for kind in ("id_card", "evidence")}
    data["booklet"] = upload("booklet.jpg")
    response = post(client, url("", application, "documents"), data)
    assert response.status_code == 302
    assert sorted(documents_for_case(application).values_list("original_name", flat=True)) == [
        "booklet.jpg",
        "deed.jpg",
        "id.jpg",
    ]


def test_each_kind_is_needed_and_more_files_can_be_added_and_removed_in_a_draft(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    response = post(client, url("", application, "documents"), {"id_card": upload("front.jpg")})
    summary = errors_of(response)
    assert "Upload the pages of the Household Register Booklet." in summary
    assert "Upload the materials for your category of move." in summary
    # As a draft, what was uploaded is kept.
    assert (
        post(client, url("", application, "documents"), {"id_card": upload("front.jpg")}, action="leave").status_code
        == 302
    )
    response = post(client, url("", application, "documents"), {"id_card": upload("back.jpg")}, action="add")
    assert response.url == url("", application, "documents")
    front, back = documents_for_case(application).order_by("created_at", "pk")
    page = client.get(url("", application, "documents"))
    assert [name for _, name in page.context["form"].fields["remove"].choices] == ["front.jpg", "back.jpg"]

    with django_capture_on_commit():
        response = post(client, url("", application, "documents"), {"remove": [str(front.public_id)]}, action="leave")
    assert response.status_code == 302
    assert not private_storage.exists(front.file.name) and private_storage.exists(back.file.name)
    assert list(documents_for_case(application)) == [back]
    assert not type(front).objects.filter(pk=front.pk).exists()


def test_at_most_ten_files_of_a_kind(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    for n in range(MAX_FILES_PER_KIND):
        assert (
            post(
                client, url("", application, "documents"), {"booklet": upload(f"p{n}.jpg")}, action="leave"
            ).status_code
            == 302
        )
    response = post(client, url("", application, "documents"), {"booklet": upload("extra.jpg")}, action="leave")
    # The draft is saved, the eleventh file is not added, and what to fix is said when the page is opened again.
    assert response.status_code == 302
    assert documents_for_case(application).filter(kind="booklet").count() == MAX_FILES_PER_KIND
    resumed = client.get(url("", application, "documents")).content.decode()
    assert "At most 10 files of this kind; remove one first." in resumed


def test_several_files_of_a_kind_are_uploaded_at_once_and_one_by_one_still_works(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    page = client.get(url("", application, "documents")).content.decode()
    assert re.search(r'<input type="file" name="id_card"[^>]*multiple', page)
    data = {"id_card": [upload("front.jpg"), upload("back.jpg")], "booklet": upload("first.jpg")}
    assert post(client, url("", application, "documents"), data, action="leave").status_code == 302
    names = sorted(documents_for_case(application).values_list("original_name", flat=True))
    assert names == ["back.jpg", "first.jpg", "front.jpg"]
    # A refused file among several: the good ones are kept (by token) and the refusal names its file.
    data = {"evidence": [upload("deed.jpg"), SimpleUploadedFile("notes.txt", b"plain text", "text/plain")]}
    response = post(client, url("", application, "documents"), data)
    assert response.status_code == 400
    assert "notes.txt" in errors_of(response)
    assert "deed.jpg" in response.content.decode()


def test_an_absent_mover_needs_a_power_of_attorney(client, offices, applicant):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    son = id_of(30, sex="M")
    rows = [mover(applicant.real_name, applicant.id_number), mover("李明", son, Relation.CHILD, present=False)]
    assert post(client, url("", application, "movers"), people("movers", rows)).status_code == 302
    absent = application.movers.get(id_number=son)
    page = client.get(url("", application, "authorisations"))
    assert list(page.context["form"].fields) == [f"mover_{absent.pk}"]
    response = post(client, url("", application, "authorisations"))
    assert response.status_code == 400
    assert "Upload the power of attorney of 李明, who does not come in person." in errors_of(response)
    check = client.get(url("check", application))
    assert [p["code"] for p in check.context["problems"]] == ["absent_without_power_of_attorney"]

    response = post(client, url("", application, "authorisations"), {f"mover_{absent.pk}": upload("poa.jpg")})
    assert response.status_code == 302
    absent.refresh_from_db()
    assert absent.power_of_attorney.kind == "power_of_attorney"
    assert absent.power_of_attorney.case_id == application.pk
    assert client.get(url("check", application)).context["problems"] == []
    # Saving the people again keeps the power of attorney with the same person.
    assert post(client, url("", application, "movers"), people("movers", rows, initial=2)).status_code == 302
    absent.refresh_from_db()
    assert absent.power_of_attorney is not None
    # And the form shows it as uploaded: nothing has to be chosen again.
    response = post(client, url("", application, "authorisations"))
    assert response.status_code == 302


def test_an_upload_for_another_applications_person_is_refused(client, offices, applicant):
    client.force_login(applicant)
    first = fill_eligible(client, offices, applicant)
    second = fill_eligible(client, offices, applicant)
    with pytest.raises(services.TransitionNotAllowed):
        drafts.hukou_save_authorisations(
            application=second,
            by=applicant,
            movers={first.movers.get().pk: documents_for_case(second).first()},
        )


# --- staff -------------------------------------------------------------------------------------------------


@pytest.fixture
def desks(no_mfa, staff, offices):
    """A logged-in browser for each office's officer, plus one for an office that never handles the case."""
    other = StaffFactory(
        office=OfficeFactory(name="西关派出所", division_code="410302", parent=offices["move_out"].parent)
    )
    clients = {}
    for name, user in {**staff, "other": other}.items():
        clients[name] = Client()
        clients[name].force_login(user)
    return clients


def statuses(desks, documents):
    return {name: {c.get(d.get_absolute_url()).status_code for d in documents} for name, c in desks.items()}


def test_each_office_opens_the_documents_once_the_case_has_reached_it(client, offices, applicant, staff, desks):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    documents = list(documents_for_case(application))
    assert len(documents) == 3
    # A draft is the citizen's own.
    assert statuses(desks, documents) == {name: {404} for name in desks}

    submit(client, application)
    assert statuses(desks, documents) == {"move_in": {200}, "municipal": {404}, "move_out": {404}, "other": {404}}
    services.hukou_accept(application=application, by=staff["move_in"])
    services.hukou_forward(application=application, by=staff["move_in"], originals_seen_at_counter=True)
    assert statuses(desks, documents) == {"move_in": {200}, "municipal": {200}, "move_out": {404}, "other": {404}}
    services.hukou_approve(application=application, by=staff["municipal"])
    assert statuses(desks, documents) == {"move_in": {200}, "municipal": {200}, "move_out": {200}, "other": {404}}

    # Every view by staff is logged with who looked; the citizen's own views are not.
    assert client.get(documents[0].get_absolute_url()).status_code == 200
    viewers = set(DocumentAccess.objects.values_list("user", flat=True))
    assert viewers == {staff["move_in"].pk, staff["municipal"].pk, staff["move_out"].pk}
    assert DocumentAccess.objects.filter(user=staff["move_out"]).count() == 3


def test_the_review_page_lists_the_documents_for_the_office_acting(client, offices, applicant, staff, desks):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    submit(client, application)
    services.hukou_accept(application=application, by=staff["move_in"])
    services.hukou_forward(application=application, by=staff["move_in"], originals_seen_at_counter=True)
    page = desks["municipal"].get(reverse("admin:hukou_migrationapplication_change", args=[application.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="hk-document"') == 3
    for document in documents_for_case(application):
        assert document.get_absolute_url() in html
    assert "ID cards of the people moving (front and back)" in html
    # The review page itself opens no file: only following a link is a logged view.
    assert not DocumentAccess.objects.exists()
