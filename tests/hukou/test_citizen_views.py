"""The citizen's pages of /hukou/: apply, the five sections, check and submit, status, reply, withdraw, delete.

Everything goes through the real views, forms, services and rules with the test client; staff steps are taken with
the hukou services, as the admin's review page does.
"""

import datetime
import io
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from hukou import drafts, services
from hukou.constants import Category, Grounds, Relation, Status
from hukou.models import MigrationApplication, Mover, OriginMember
from portal.documents.services import documents_for_case
from portal.notify.models import Channel, OutboxMessage
from tests.factories import OfficeFactory, UserFactory
from tests.hukou.pages import (
    address_data,
    assert_no_inline_code,
    born,
    citizen_offices,
    codes,
    destination,
    django_capture_on_commit,
    errors_of,
    fill_eligible,
    id_of,
    mover,
    origin,
    people,
    post,
    start,
    stayer,
    submit,
    upload,
    url,
)

pytestmark = pytest.mark.django_db
SECTIONS = ("destination", "movers", "origin", "authorisations", "documents")
TZ = timezone.get_default_timezone()


# --- people, offices and files ---------------------------------------------------------------------------


@pytest.fixture
def offices(db):
    return citizen_offices()


# --- posting the pages -----------------------------------------------------------------------------------


# --- the whole flow --------------------------------------------------------------------------------------


def test_the_whole_flow_from_the_guide_to_the_status_page(client, offices, applicant):
    client.force_login(applicant)
    guide = client.get(url("index"))
    assert f'href="{url("apply")}"' in guide.content.decode()
    page = client.get(url("apply"))
    assert page.status_code == 200
    assert_no_inline_code(page)

    application = start(client, offices)
    assert application.status == Status.DRAFT and application.applicant == applicant
    assert re.fullmatch(r"HK-\d{8}-[0-9A-Z]{4}-[0-9A-Z]{4}", application.case_number)
    # The municipal administration comes with the station: its city's.
    assert application.municipal_office == offices["municipal"]

    # Each section page, then each save moves on to the next.
    for section in SECTIONS:
        response = client.get(url("", application, section))
        assert response.status_code == 200, section
        assert_no_inline_code(response)
    movers_page = client.get(url("", application, "movers")).content.decode()
    assert applicant.real_name in movers_page and applicant.id_number in movers_page  # pre-filled from the account

    response = post(client, url("", application, "destination"), destination(offices))
    assert response.url == url("", application, "movers")
    response = post(client, url("", application, "movers"), people("movers", [mover("王芳", applicant.id_number)]))
    assert response.url == url("", application, "origin")
    # The head who moves is the head of the household left: not asked for again.
    origin_page = client.get(url("", application, "origin"))
    assert 'data-testid="head-moves"' in origin_page.content.decode()
    assert "origin_head_id_number" not in origin_page.context["form"].fields
    spouse = id_of(36, sex="M")
    response = post(
        client,
        url("", application, "origin"),
        origin(offices, "王芳", applicant.id_number, [stayer("李强", spouse, new_head=True)]),
    )
    assert response.url == url("", application, "authorisations")
    nothing = client.get(url("", application, "authorisations"))
    assert 'data-testid="nothing-needed"' in nothing.content.decode()
    response = post(client, url("", application, "authorisations"))
    assert response.url == url("", application, "documents")
    response = post(
        client,
        url("", application, "documents"),
        {
            "id_card": upload("id.jpg"),
            "booklet": upload("booklet.pdf", pdf(), "application/pdf"),
            "evidence": upload("deed.jpg"),
        },
    )
    assert response.url == url("check", application)

    check = client.get(url("check", application))
    assert check.status_code == 200 and check.context["problems"] == []
    html = check.content.decode()
    assert 'data-testid="no-problems"' in html
    for expected in ("郑州市金水区金水路2号", "李强", "洛阳市老城区西大街1号", "id.jpg", "booklet.pdf", "deed.jpg"):
        assert expected in html, expected
    assert applicant.id_number not in html and spouse not in html  # masked on the page
    assert_no_inline_code(check)

    response = submit(client, application)
    assert response.status_code == 302 and response.url == url("submitted", application)
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED and application.declaration_at and application.submitted_at
    assert application.municipal_office == offices["municipal"] and application.origin_office == offices["move_out"]
    mover_row = application.movers.get()
    assert (mover_row.relation, mover_row.is_applicant, mover_row.sex) == (Relation.HEAD, True, "F")
    assert application.staying_members.get().is_new_head
    assert {d.kind for d in documents_for_case(application)} == {"id_card", "booklet", "evidence"}
    assert {d.office_id for d in documents_for_case(application)} == {offices["move_in"].pk}
    sent = OutboxMessage.objects.filter(user=applicant, template="hukou/submitted")
    assert {m.channel for m in sent} == {Channel.SMS, Channel.EMAIL}
    assert f"/hukou/{application.case_number}/" in sent.get(channel=Channel.EMAIL).body

    confirmation = client.get(url("submitted", application))
    assert application.case_number in confirmation.content.decode()
    detail = client.get(url("detail", application))
    assert detail.status_code == 200
    assert detail.context["acting_office"] == offices["move_in"] and detail.context["stage"] == 1
    assert 'data-testid="withdraw"' in detail.content.decode()
    assert_no_inline_code(detail)
    # /me/ lists it with a link to its status page.
    assert url("detail", application) in client.get(reverse("me")).content.decode()


def pdf():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_anonymous_visitors_are_sent_to_login(client, offices, applicant):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant, documents=False)
    client.logout()
    for address in [url("apply"), url("detail", application), url("check", application)] + [
        url("", application, s) for s in SECTIONS
    ]:
        response = client.get(address)
        assert response.status_code == 302 and "/accounts/login/" in response.url, address


# --- the start page --------------------------------------------------------------------------------------


def test_start_errors_are_specific_and_keep_the_choice(client, offices, applicant):
    client.force_login(applicant)
    response = client.post(url("apply"), {"category": Category.COLLECTIVE})
    assert response.status_code == 400
    assert "Choose the police station of the place you move to." in errors_of(response)
    assert re.search(r'<input[^>]*value="collective"[^>]*checked', response.content.decode())
    response = client.post(url("apply"), {"office": offices["move_in"].pk})
    assert "Choose who moves." in errors_of(response)
    response = client.post(url("apply"), {"category": Category.COLLECTIVE, "office": offices["kaifeng"].pk})
    assert response.status_code == 400
    assert "cannot be applied for online yet" in errors_of(response)
    response = client.post(url("apply"), {"category": Category.COLLECTIVE, "office": offices["municipal"].pk})
    assert "This police station cannot be chosen" in errors_of(response)
    assert not MigrationApplication.objects.exists()


def test_an_account_without_an_id_number_cannot_start(client, offices):
    user = UserFactory(id_number=None)
    client.force_login(user)
    response = client.post(url("apply"), {"category": Category.COLLECTIVE, "office": offices["move_in"].pk})
    assert response.status_code == 400
    assert "no resident ID number" in errors_of(response)
    assert not MigrationApplication.objects.exists()


def test_the_precheck_leads_to_the_start_page_with_its_answers(client, offices, applicant):
    client.force_login(applicant)
    answers = {
        "category": Category.PART_HOUSEHOLD,
        "grounds": Grounds.JOIN_RELATIVES,
        "receiving_party": "householder",
        "head_moves": "no",
        "mover_count": "1",
        "mover_age_1": "19",
        "staying_count": "1",
        "staying_age_1": "50",
        "movers_apply": "yes",
        "everyone_in_person": "yes",
    }
    html = client.get(url("precheck"), answers).content.decode()
    start_url = f"{url('apply')}?category=part_household&amp;grounds=join_relatives&amp;receiving_party=householder"
    assert f'href="{start_url}"' in html
    page = client.get(
        url("apply"), {"category": "part_household", "grounds": "join_relatives", "receiving_party": "householder"}
    )
    form = page.context["form"]
    assert form["category"].value() == "part_household" and form["grounds"].value() == "join_relatives"
    response = client.post(
        url("apply"),
        {
            "category": "part_household",
            "grounds": "join_relatives",
            "receiving_party": "householder",
            "office": offices["move_in"].pk,
        },
    )
    assert response.status_code == 302
    application = MigrationApplication.objects.latest("pk")
    assert (application.category, application.grounds, application.receiving_party) == (
        "part_household",
        "join_relatives",
        "householder",
    )


# --- the sections: errors keep what was typed --------------------------------------------------------------


def test_destination_errors_are_specific_and_keep_what_was_typed(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    data = destination(
        offices,
        category=Category.COLLECTIVE,
        grounds=Grounds.OTHER,
        destination_address="郑州市金水区花园路 9 号",
    )
    response = post(client, url("", application, "destination"), data)
    assert response.status_code == 400
    summary = errors_of(response)
    assert "Explain the grounds on which you settle at the destination." in summary
    assert "Enter the name of the collective household you move into." in summary
    html = response.content.decode()
    assert "郑州市金水区花园路 9 号" in html
    application.refresh_from_db()
    assert application.destination_address == "" and application.category == Category.PART_HOUSEHOLD


def test_joining_relatives_asks_for_the_receiving_side(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices, grounds=Grounds.JOIN_RELATIVES)
    response = post(client, url("", application, "destination"), destination(offices, grounds=Grounds.JOIN_RELATIVES))
    summary = errors_of(response)
    assert "give the name of the head of the household you join" in summary
    assert "Give how the people moving are related to the head of the household you join." in summary
    assert "Choose who applies for the household you join." in summary

    householder = id_of(60, sex="M")
    data = destination(
        offices,
        grounds=Grounds.JOIN_RELATIVES,
        receiving_householder_name="王建国",
        receiving_householder_id_number=householder,
        receiving_relation=Relation.CHILD,
        receiving_party="family_member",
    )
    summary = errors_of(post(client, url("", application, "destination"), data))
    assert "Enter the name of the family member who applies." in summary
    assert "Enter the ID number of the family member who applies." in summary

    data.update(
        receiving_family_member_name="刘梅",
        receiving_family_member_id_number=id_of(58, sex="F"),
        receiving_family_member_relation=Relation.SPOUSE,
    )
    data.pop("receiving_present")  # she sends a power of attorney
    assert post(client, url("", application, "destination"), data).status_code == 302
    application.refresh_from_db()
    assert (application.receiving_householder_id_number, application.receiving_party) == (householder, "family_member")
    assert application.receiving_present is False
    # The consent and her power of attorney are now asked for.
    page = client.get(url("", application, "authorisations"))
    assert set(page.context["form"].fields) == {"receiving_power_of_attorney", "householder_consent"}
    check = client.get(url("check", application))
    assert {"join_relatives_consent_missing", "receiving_absent_without_power_of_attorney"} <= set(codes(check))
    # Switching away from joining relatives drops the receiving side's answers.
    assert post(client, url("", application, "destination"), destination(offices)).status_code == 302
    application.refresh_from_db()
    assert (application.receiving_party, application.receiving_family_member_name) == ("", "")


def test_movers_errors_are_specific(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    twin = id_of(20)
    rows = [
        mover("王芳", applicant.id_number),
        mover("", twin, Relation.CHILD),
        mover("王二", twin, Relation.HEAD),
        mover("王三", "41010519900101123", Relation.CHILD),
        mover("王四", id_of(10), Relation.CHILD, guardian=None),
        {"name": "", "id_number": "", "present": True},  # a blank row is ignored
    ]
    rows[4]["guardian_present"] = True
    response = post(client, url("", application, "movers"), people("movers", rows))
    assert response.status_code == 400
    summary = errors_of(response)
    assert "Person 2 · Name: Enter the name as written in the household booklet" in summary
    assert "Person 4 · Resident ID number: A resident ID number has 18 characters; you entered 17." in summary
    assert "Person 5 · Guardian's name: Enter the name of the guardian who applies with them." in summary
    assert "41010519900101123" in response.content.decode()  # kept as typed
    assert not Mover.objects.exists()

    rows = [mover("王芳", applicant.id_number), mover("王二", twin, Relation.HEAD), mover("王五", twin, Relation.CHILD)]
    summary = errors_of(post(client, url("", application, "movers"), people("movers", rows)))
    assert "Only one person is the head of household; 王芳 is already." in summary
    assert "This ID number is already given for 王二." in summary

    response = post(client, url("", application, "movers"), people("movers", []))
    assert "Add the people who are moving, as written in the household booklet." in errors_of(response)


def test_movers_are_replaced_and_the_age_is_read_from_the_id(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    child = id_of(8, sex="M")
    rows = [mover("王芳", applicant.id_number), mover("王小明", child, Relation.CHILD, applies=False, guardian="王芳")]
    assert post(client, url("", application, "movers"), people("movers", rows), action="add").status_code == 302
    page = client.get(url("", application, "movers"))
    derived = re.findall(r'data-testid="derived" data-age="(\d+)">(.*?)</p>', page.content.decode(), re.S)
    assert [age for age, _ in derived] == ["34", "8"]
    assert "8 years old today" in re.sub(r"<[^>]+>|\s+", " ", derived[1][1])
    kid = application.movers.get(id_number=child)
    assert (kid.birth_date, kid.sex, kid.guardian_name) == (born(8), "M", "王芳")
    # Removing a row deletes that person; the other keeps its record.
    first = application.movers.get(id_number=applicant.id_number).pk
    rows[1]["DELETE"] = True
    assert post(client, url("", application, "movers"), people("movers", rows, initial=2)).status_code == 302
    assert list(application.movers.values_list("pk", flat=True)) == [first]


def test_a_guardian_is_not_kept_for_someone_of_16(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    rows = [mover("王芳", applicant.id_number), mover("王大", id_of(16), Relation.CHILD, guardian="王芳")]
    assert post(client, url("", application, "movers"), people("movers", rows)).status_code == 302
    assert application.movers.get(name="王大").guardian_present is False


def test_origin_errors_are_specific(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    post(client, url("", application, "movers"), people("movers", [mover("王芳", applicant.id_number)]))
    spouse = id_of(36, sex="M")
    staying = [
        stayer("李强", spouse, new_head=True),
        stayer("李小", relation=Relation.CHILD),  # neither ID number nor date of birth
        stayer("李中", id_of(12), Relation.CHILD, birth_date=datetime.date(2001, 1, 1)),
        stayer("王芳", applicant.id_number, Relation.HEAD),  # she moves
        stayer("李大", id_of(40), Relation.SIBLING, new_head=True),
    ]
    data = origin(offices, "李强", spouse, staying, origin_address="")
    response = post(client, url("", application, "origin"), data)
    assert response.status_code == 400
    summary = errors_of(response)
    assert "Enter the address of the household you leave." in summary
    assert "Person 2 · Date of birth: Give the ID number or, for a child without one, the date of birth." in summary
    assert "Person 3 · Date of birth: The ID number gives" in summary
    assert "Person 4 · Resident ID number: This person is among the people moving" in summary
    assert "Person 5 · Becomes the new head of household: Name only one new head of household." in summary
    assert "李小" in response.content.decode()  # kept as typed
    assert not OriginMember.objects.exists()


def test_a_new_head_only_when_the_head_moves_out(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    post(client, url("", application, "movers"), people("movers", [mover("王芳", applicant.id_number, Relation.CHILD)]))
    head = id_of(62, sex="M")
    data = origin(offices, "王建国", head, [stayer("王建国", head, Relation.HEAD, new_head=True)])
    summary = errors_of(post(client, url("", application, "origin"), data))
    assert "A new head of household is named only when the head of household moves out." in summary
    # A child without an ID number is given by date of birth.
    data = origin(
        offices,
        "王建国",
        head,
        [stayer("王建国", head, Relation.HEAD), stayer("王宝", relation=Relation.GRANDCHILD, birth_date=born(3))],
    )
    assert post(client, url("", application, "origin"), data).status_code == 302
    baby = application.staying_members.get(name="王宝")
    assert (baby.id_number, baby.birth_date) == ("", born(3))


# --- drafts ---------------------------------------------------------------------------------------------


def test_save_as_draft_keeps_an_incomplete_section_and_the_guide_lists_the_draft(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    # The address without its district yet: a draft keeps the parts typed, composed in the one-line address.
    data = {
        "category": Category.PART_HOUSEHOLD,
        "office": offices["move_in"].pk,
        **address_data("destination_address", "二七路8号", ("410000", "410100", "")),
    }
    response = post(client, url("", application, "destination"), data, action="leave")
    assert response.status_code == 302 and response.url == url("index")
    application.refresh_from_db()
    assert application.destination_address == "河南省郑州市二七路8号"
    assert (application.destination_city, application.destination_district) == ("410100", "")
    assert "二七路8号" in client.get(url("", application, "destination")).content.decode()
    guide = client.get(url("index")).content.decode()
    assert application.case_number in guide and url("check", application) in guide
    # A wrong answer is kept in the draft as typed, listed as still to fix, and shown again with its message.
    data.update(grounds=Grounds.JOIN_RELATIVES, receiving_householder_id_number="12345")
    response = post(client, url("", application, "destination"), data, action="leave")
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.kept_inputs["destination"]["data"]["receiving_householder_id_number"] == ["12345"]
    resumed = client.get(url("", application, "destination"))
    assert 'value="12345"' in resumed.content.decode() and "18 characters" in resumed.content.decode()
    assert any("18 characters" in p["message"] for p in client.get(url("check", application)).context["problems"])
    data.update(grounds=Grounds.EMPLOYMENT, receiving_householder_id_number="")
    assert post(client, url("", application, "destination"), data, action="leave").status_code == 302
    application.refresh_from_db()
    assert application.kept_inputs == {}
    # A draft of the people moving needs each row's name and number, not yet the relation.
    rows = [{"name": "王芳", "id_number": applicant.id_number, "present": True}]
    assert post(client, url("", application, "movers"), people("movers", rows), action="leave").status_code == 302
    assert application.movers.get().relation == ""
    check = client.get(url("check", application))
    assert "Give the relation of 王芳 to the head of household." in [p["message"] for p in check.context["problems"]]
    # Going back and forth never loses it.
    assert application.movers.get().name == "王芳"


def test_a_draft_can_change_its_station_and_its_uploads_follow(client, offices, applicant):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    luoyang_station = OfficeFactory(name="西关派出所", division_code="410302", parent=offices["move_out"].parent)
    data = destination(offices, office=str(luoyang_station.pk))
    assert post(client, url("", application, "destination"), data).status_code == 302
    application.refresh_from_db()
    assert (application.office, application.municipal_office) == (luoyang_station, offices["luoyang_admin"])
    assert {d.office_id for d in documents_for_case(application)} == {luoyang_station.pk}


# --- the check page and submission ---------------------------------------------------------------------


def test_every_rule_violation_is_listed_with_a_link_to_its_section(client, offices, applicant):
    client.force_login(applicant)
    application = start(client, offices)
    post(client, url("", application, "destination"), destination(offices))
    head = id_of(16, days=-1)  # turns 16 tomorrow: 15 today
    rows = [
        mover("王小", head, Relation.HEAD),
        mover("王芳", applicant.id_number, Relation.PARENT, present=False),
        mover("王宝", id_of(5), Relation.SIBLING, applies=False),
    ]
    assert post(client, url("", application, "movers"), people("movers", rows)).status_code == 302
    grandma = id_of(70, sex="F")
    data = origin(offices, "王小", head, [stayer("王奶奶", grandma, Relation.GRANDPARENT, new_head=True)])
    assert post(client, url("", application, "origin"), data).status_code == 302
    # The grandmother stays: the move was first answered as part of a household, then changed to a whole one.
    application.refresh_from_db()
    MigrationApplication.objects.filter(pk=application.pk).update(category=Category.WHOLE_HOUSEHOLD)
    response = client.get(url("check", application))
    found = {item["code"]: item for item in response.context["problems"]}
    assert {
        "whole_household_head_under_16",
        "minor_without_guardian",
        "whole_household_members_stay",
        "absent_without_power_of_attorney",
    } <= set(found)
    assert found["whole_household_head_under_16"]["section"] == "movers"
    assert found["whole_household_members_stay"]["section"] == "origin"
    assert found["absent_without_power_of_attorney"]["section"] == "authorisations"
    assert found["missing"]["section"] == "documents"
    html = response.content.decode()
    assert "For a whole-household move the head of household applies and must be 16 or over" in html
    assert "王小 is 15 that day." in html
    assert f"{url('', application, 'movers')}?return=check" in html
    assert f"{url('', application, 'authorisations')}?return=check" in html
    # The section itself lists what is to fix there before anything is typed.
    assert client.get(url("", application, "movers")).context["to_fix"] == []  # not on the way through
    movers_page = client.get(url("", application, "movers"), {"return": "check"})
    assert [p["code"] for p in movers_page.context["to_fix"]] == [
        "whole_household_head_under_16",
        "minor_without_guardian",  # 王小, 15
        "minor_without_guardian",  # 王宝, 5
    ]

    # Submission is refused while a rule is broken, and nothing changes.
    response = submit(client, application)
    assert response.status_code == 400
    assert "cannot be submitted yet" in errors_of(response)
    application.refresh_from_db()
    assert application.status == Status.DRAFT and application.declaration_at is None
    assert not OutboxMessage.objects.filter(template="hukou/submitted").exists()


def test_leaving_only_children_behind_and_a_missing_new_head_are_shown(client, offices, applicant):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    data = origin(
        offices,
        applicant.real_name,
        applicant.id_number,
        [stayer("李小", id_of(12), Relation.CHILD), stayer("李宝", relation=Relation.CHILD, birth_date=born(9))],
    )
    assert post(client, url("", application, "origin"), data).status_code == 302
    problems = codes(client.get(url("check", application)))
    assert problems == ["origin_left_with_minors", "new_head_missing"]
    assert submit(client, application).status_code == 400
    application.refresh_from_db()
    assert application.status == Status.DRAFT


def test_submit_needs_the_declaration_and_confirmed_contact_details(client, offices):
    applicant = UserFactory(unconfirmed=True, id_number=id_of(30))
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    check = client.get(url("check", application))
    assert 'data-testid="contact-warning"' in check.content.decode()
    response = client.post(url("check", application), {})
    assert "Tick the declaration to confirm that the information is true." in errors_of(response)
    response = submit(client, application)
    assert response.status_code == 400
    assert "Confirm your e-mail address and mobile number in your profile before you submit." in errors_of(response)
    application.refresh_from_db()
    assert application.status == Status.DRAFT and application.declaration_at is None


def test_the_change_link_returns_to_the_check_page(client, offices, applicant):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    data = {**destination(offices), "return": "check"}
    response = post(client, url("", application, "destination") + "?return=check", data)
    assert response.url == url("check", application)


def test_after_submission_the_sections_are_closed(client, offices, applicant):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    submit(client, application)
    for section in SECTIONS:
        response = client.get(url("", application, section))
        assert response.status_code == 302 and response.url == url("detail", application), section
    response = post(client, url("", application, "destination"), destination(offices, destination_address="x"))
    assert response.url == url("detail", application)
    application.refresh_from_db()
    assert application.destination_address == "河南省郑州市金水区金水路2号"
    assert client.get(url("check", application)).url == url("detail", application)
    assert client.get(url("delete", application)).url == url("detail", application)


def test_a_save_racing_an_officer_changes_nothing(client, offices, applicant, staff):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    stale = MigrationApplication.objects.get(pk=application.pk)
    submit(client, application)
    with pytest.raises(services.TransitionError):
        drafts.hukou_save_answers(application=stale, by=applicant, fields={"destination_address": "x"})
    stale.status = Status.DRAFT  # as read before the submission
    with pytest.raises(services.TransitionConflict):
        drafts.hukou_save_answers(application=stale, by=applicant, fields={"destination_address": "x"})
    application.refresh_from_db()
    assert application.destination_address == "河南省郑州市金水区金水路2号"


# --- ownership -----------------------------------------------------------------------------------------


def test_another_citizen_gets_404_for_every_url_and_upload(client, offices, applicant):
    client.force_login(applicant)
    draft = fill_eligible(client, offices, applicant)
    sent = fill_eligible(client, offices, applicant)
    submit(client, sent)
    documents = list(documents_for_case(draft))
    intruder = UserFactory(id_number=id_of(40))
    client.force_login(intruder)
    for application in (draft, sent):
        addresses = [url(name, application) for name in ("detail", "check", "submitted", "withdraw", "delete")]
        addresses += [url("", application, section) for section in SECTIONS]
        for address in addresses:
            assert client.get(address).status_code == 404, address
            assert client.post(address, {"action": "continue", "declaration": "on"}).status_code == 404, address
        assert client.post(url("reply", application), {"reply": "x", "declaration": "on"}).status_code == 404
    for document in documents:
        assert client.get(document.get_absolute_url()).status_code == 404
    draft.refresh_from_db()
    sent.refresh_from_db()
    assert (draft.status, sent.status) == (Status.DRAFT, Status.SUBMITTED)
    assert MigrationApplication.objects.filter(pk=draft.pk).exists()


def test_a_file_kept_for_another_application_cannot_be_moved_over(client, offices, applicant):
    from portal.documents.forms import TOKEN_SUFFIX
    from portal.documents.services import document_keep_token

    client.force_login(applicant)
    first = fill_eligible(client, offices, applicant)
    second = start(client, offices)
    taken = documents_for_case(first).get(kind="id_card")
    data = {f"id_card{TOKEN_SUFFIX}": document_keep_token(document=taken)}
    response = post(client, url("", second, "documents"), data, action="leave")
    assert response.status_code == 400
    assert "One of the files belongs to another application" in errors_of(response)
    assert not documents_for_case(second).exists()


# --- status, request for information, withdrawal, deletion ------------------------------------------


def at(day, hour=10):
    return datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=TZ)


def test_a_request_for_information_is_answered_and_the_clock_resumes(client, offices, applicant, staff):
    with time_machine.travel(at("2026-09-24"), tick=False):
        client.force_login(applicant)
        application = fill_eligible(client, offices, applicant)
        submit(client, application)
    with time_machine.travel(at("2026-09-25"), tick=False):
        services.hukou_accept(application=application, by=staff["move_in"])
        services.hukou_forward(application=application, by=staff["move_in"], originals_seen_at_counter=True)
    with time_machine.travel(at("2026-10-09"), tick=False):
        services.hukou_request_info(application=application, by=staff["municipal"], message="请上传结婚证。")
    application.refresh_from_db()
    assert application.workdays_left == 15

    with time_machine.travel(at("2026-10-12"), tick=False):
        client.force_login(applicant)  # sessions last 8 hours
        detail = client.get(url("detail", application))
        html = detail.content.decode()
        assert "请上传结婚证。" in html and 'data-testid="reply-form"' in html
        assert detail.context["requesting_office"] == offices["municipal"]
        assert detail.context["stage"] == 2 and detail.context["applicant_acts"]
        assert "15 working days will be left" in re.sub(r"\s+", " ", html)
        # The answers can be amended (the station is locked), and files added but not removed.
        page = client.get(url("", application, "destination"))
        assert page.context["form"].fields["office"].disabled
        response = post(client, url("", application, "documents"), {"evidence": upload("marriage.jpg")})
        assert response.status_code == 302
        assert "remove" not in client.get(url("", application, "documents")).context["form"].fields
        # An empty answer is refused with the reason, and nothing moves.
        response = client.post(url("reply", application), {"reply": " ", "declaration": "on"})
        assert response.status_code == 400
        assert "Answer the request: say what you changed or added." in errors_of(response)

    with time_machine.travel(at("2026-10-20"), tick=False):
        client.force_login(applicant)
        response = client.post(url("reply", application), {"reply": "已上传结婚证。", "declaration": "on"})
        assert response.status_code == 302 and response.url == url("detail", application)
    application.refresh_from_db()
    assert application.status == Status.FORWARDED and application.paused_at is None
    assert application.due_date == datetime.date(2026, 11, 10)  # the 15 working days left, from 2026-10-20
    assert application.citizen_reply == "已上传结婚证。"
    assert documents_for_case(application).filter(kind="evidence").count() == 2
    assert OutboxMessage.objects.filter(user=staff["municipal"], template="hukou/inbox").count() == 2


def test_a_reply_is_refused_while_a_rule_is_broken(client, offices, applicant, staff):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    submit(client, application)
    services.hukou_accept(application=application, by=staff["move_in"])
    services.hukou_request_info(application=application, by=staff["move_in"], message="新户主？")
    data = origin(offices, applicant.real_name, applicant.id_number, [stayer("李强", id_of(36))])
    assert post(client, url("", application, "origin"), data).status_code == 302
    response = client.post(url("reply", application), {"reply": "改了", "declaration": "on"})
    assert response.status_code == 400
    assert "name one of those staying, aged 16 or over, as the new head of household" in errors_of(response)
    application.refresh_from_db()
    assert application.status == Status.INFO_REQUESTED


def test_withdraw_asks_first_then_withdraws_and_stops_the_clock(client, offices, applicant, staff):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    submit(client, application)
    services.hukou_accept(application=application, by=staff["move_in"])
    page = client.get(url("withdraw", application))
    assert page.status_code == 200 and 'data-testid="confirm-withdraw"' in page.content.decode()
    response = client.post(url("withdraw", application))
    assert response.url == url("detail", application)
    application.refresh_from_db()
    assert application.status == Status.WITHDRAWN and application.due_date is None
    detail = client.get(url("detail", application))
    assert 'data-testid="withdraw"' not in detail.content.decode()
    assert detail.context["stage"] == 1
    assert client.get(url("withdraw", application)).url == url("detail", application)


def test_after_approval_the_move_can_no_longer_be_withdrawn(client, offices, applicant, staff):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    submit(client, application)
    services.hukou_accept(application=application, by=staff["move_in"])
    services.hukou_forward(application=application, by=staff["move_in"], originals_seen_at_counter=True)
    services.hukou_approve(application=application, by=staff["municipal"])
    detail = client.get(url("detail", application))
    assert detail.context["acting_office"] == offices["move_out"] and detail.context["stage"] == 3
    assert application.permit_number in detail.content.decode()
    response = client.post(url("withdraw", application))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.APPROVED


def test_after_settlement_the_citizen_is_asked_to_print_the_registration_form(client, offices, applicant, staff):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    submit(client, application)
    services.hukou_accept(application=application, by=staff["move_in"])
    services.hukou_forward(application=application, by=staff["move_in"], originals_seen_at_counter=True)
    services.hukou_approve(application=application, by=staff["municipal"])
    services.hukou_register_emigration(application=application, by=staff["move_out"])
    services.hukou_settle(application=application, by=staff["move_in"])
    detail = client.get(url("detail", application))
    html = detail.content.decode()
    assert 'data-testid="settled"' in html and "Permanent Resident Registration Form" in html
    assert "郑州市金水区金水路88号" in html and "0371-12345678" in html
    timeline = [entry["label"] for entry in detail.context["timeline"]]
    assert [str(label) for label in timeline] == [
        str(MigrationApplication(status=s).get_status_display())
        for s in (
            Status.SUBMITTED,
            Status.ACCEPTED,
            Status.FORWARDED,
            Status.APPROVED,
            Status.EMIGRATED,
            Status.SETTLED,
        )
    ]
    assert [e["office"] for e in detail.context["timeline"]][1:] == [
        offices["move_in"],
        offices["move_in"],
        offices["municipal"],
        offices["move_out"],
        offices["move_in"],
    ]
    assert 'data-testid="withdraw"' not in html and detail.context["acting_office"] is None


def test_a_provisional_due_date_is_marked(client, offices, applicant, staff):
    with time_machine.travel(at("2026-12-21"), tick=False):
        client.force_login(applicant)  # a session started then, not one that has expired by then
        application = fill_eligible(client, offices, applicant)
        submit(client, application)
        services.hukou_accept(application=application, by=staff["move_in"])
        html = client.get(url("detail", application)).content.decode()
    assert 'data-testid="provisional"' in html
    application.refresh_from_db()
    assert application.due_date.year == 2027 and application.deadline_provisional


def test_a_draft_is_deleted_with_its_people_and_files(client, offices, applicant):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    from portal.documents.storage import private_storage

    files = [d.file.name for d in documents_for_case(application)]
    assert len(files) == 3 and all(private_storage.exists(name) for name in files)
    page = client.get(url("delete", application))
    assert page.status_code == 200
    with django_capture_on_commit():
        response = client.post(url("delete", application))
    assert response.url == url("index")
    assert not MigrationApplication.objects.filter(pk=application.pk).exists()
    assert not Mover.objects.exists() and not OriginMember.objects.exists()
    assert not documents_for_case(application).exists()
    assert not any(private_storage.exists(name) for name in files)


def test_my_applications_and_the_guide_link_to_the_status_page(client, offices, applicant):
    from hukou.apps import cases_for_user

    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    submit(client, application)
    summary = cases_for_user(applicant)[0]
    assert summary.url == url("detail", application)
    assert url("detail", application) in client.get(url("index")).content.decode()


def test_pages_render_in_chinese_by_default(client, offices, applicant, settings):
    from django.utils import translation

    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(applicant)
    with translation.override("zh-hans"):
        application = fill_eligible(client, offices, applicant)
        html = client.get(url("check", application)).content.decode()
    assert 'lang="zh-hans"' in html


def test_the_check_and_status_pages_query_count_is_pinned(
    client, offices, applicant, staff, django_assert_max_num_queries
):
    client.force_login(applicant)
    application = fill_eligible(client, offices, applicant)
    with django_assert_max_num_queries(15):
        assert client.get(url("check", application)).status_code == 200
    submit(client, application)
    services.hukou_accept(application=application, by=staff["move_in"])
    with django_assert_max_num_queries(12):
        assert client.get(url("detail", application)).status_code == 200
