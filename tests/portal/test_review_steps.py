"""The review page's step checklists, the confirmation of irreversible steps and the next case of the queue
(portal.cases.review): a required item left unticked blocks the step and changes nothing; an irreversible step is
taken only from its confirmation page; the next case follows the queue the officer came from."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode

from accounts.models import Office, Role
from certificates.models import Status
from portal.cases.deadlines import clock_start
from portal.cases.models import Transition
from portal.notify.models import OutboxMessage
from portal.verify.issuing import issued_document_claim, issued_document_store
from tests.casework import required_checks, take_step
from tests.factories import (
    ApplicationFactory,
    FamilyPlanningApplicationFactory,
    MigrationApplicationFactory,
    OfficeFactory,
    StaffFactory,
)
from tests.factories.hukou import hukou_offices, hukou_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client, settings, monkeypatch):
    from certificates import tasks as ncr_tasks
    from familyplanning import tasks as fp_tasks

    for task in (ncr_tasks.generate_certificate, ncr_tasks.generate_refusal_notice, fp_tasks.generate_document):
        monkeypatch.setattr(task, "delay", lambda *a: None)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def ncr_url(name, *args):
    return reverse(f"admin:certificates_application_{name}", args=args)


def hk_url(name, *args):
    return reverse(f"admin:hukou_migrationapplication_{name}", args=args)


def fp_url(name, *args):
    return reverse(f"admin:familyplanning_familyplanningapplication_{name}", args=args)


def rows(case):
    return list(case.timeline().values_list("pk", flat=True))


def issued_certificate(application, office):
    from certificates.services import KIND_CERTIFICATE

    document, _ = issued_document_claim(
        source=application,
        generation=1,
        kind=KIND_CERTIFICATE,
        title="无犯罪记录证明",
        title_en="Certificate",
        holder=application.applicant,
        holder_name=application.holder_name,
        issuing_office=office,
        valid_until=datetime.date(2030, 1, 1),
    )
    issued_document_store(document=document, pdf=b"%PDF-1.7\n%%EOF\n")
    return document


# --- the checklist ---------------------------------------------------------------------------------------------


def test_a_required_item_unticked_blocks_the_step_names_it_and_keeps_what_was_typed(staff_client, station_a, officer_a):
    application = ApplicationFactory(office=station_a, accepted=True)
    client = staff_client(officer_a)
    before = rows(application)
    response = client.post(
        ncr_url("act", application.pk, "approve"),
        {"seen_status": "accepted", "check": ["register_checked"], "text": "祝顺利", "internal_note": "looked twice"},
    )
    assert response.status_code == 400
    assert response.context["errors"] == [
        "Tick “The photo matches the ID document” before you take this step: it is required."
    ]
    html = response.content.decode()
    # The form comes back with what was typed and ticked; nothing changed.
    assert "祝顺利" in html and "looked twice" in html
    assert 'value="register_checked" checked' in html and 'value="photo_matches" checked' not in html
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED and rows(application) == before
    assert not OutboxMessage.objects.filter(template__startswith="certificates/").exists()


def test_hukou_acceptance_needs_the_housing_proof_and_leaves_the_originals_to_forwarding(staff_client):
    # The originals are usually seen at the visit booked after acceptance; forwarding requires them
    # (tests/hukou/test_originals.py).
    offices = hukou_offices()
    staff = hukou_staff(offices)
    application = MigrationApplicationFactory(offices=offices, submitted=True, complete=True)
    client = staff_client(staff["move_in"])
    page = client.get(hk_url("change", application.pk)).content.decode()
    assert "Originals of the household register and the ID cards seen" in page
    response = client.post(hk_url("act", application.pk, "accept"), {"seen_status": "submitted", "check": []})
    assert response.status_code == 400
    assert [e.split("”")[0] for e in response.context["errors"]] == [
        "Tick “The housing proof matches the destination address",
    ]
    application.refresh_from_db()
    assert application.status == "submitted"


def test_the_ticked_items_are_recorded_on_the_steps_timeline_row_and_shown_to_staff(staff_client, station_a, officer_a):
    application = ApplicationFactory(office=station_a, submitted=True)
    client = staff_client(officer_a)
    take_step(
        client,
        ncr_url("act", application.pk, "accept"),
        {"seen_status": "submitted", "check": ["id_matches", "purpose_stated", "not-an-item"]},
    )
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED
    row = Transition.objects.get(object_id=application.pk, to_status="accepted")
    assert row.checklist == {"step": "accept", "checked": ["id_matches", "purpose_stated"]}
    html = client.get(ncr_url("change", application.pk)).content.decode()
    assert (
        "Checked: The ID document&#x27;s name, number and date of birth match the holder; "
        "The purpose and the receiving organisation are stated" in html
    )
    # The applicant's page never shows it.
    assert "Checked:" not in "".join(entry.note for entry in application.public_timeline())


# --- the confirmation -------------------------------------------------------------------------------------------


def test_the_confirmation_says_what_happens_who_is_told_and_how_and_carries_the_inputs(
    staff_client, station_a, officer_a, settings
):
    application = ApplicationFactory(office=station_a, accepted=True)
    applicant = application.applicant
    assert applicant.mobile and applicant.email
    client = staff_client(officer_a)
    data = {"seen_status": "accepted", "check": required_checks(ncr_url("act", application.pk, "approve"))}
    response = client.post(ncr_url("act", application.pk, "approve"), {**data, "text": "请按时领取"})
    assert response.status_code == 200 and response.context["confirming"]
    html = response.content.decode()
    assert f"You are about to approve {application.case_number}: the certificate will be issued and signed." in html
    assert "The applicant will get an SMS and an e-mail." in html
    assert "<li>Register checked: no record that is not sealed</li><li>The photo matches the ID document</li>" in html
    assert ("text", "请按时领取") in response.context["carried"]
    assert 'name="text" value="请按时领取"' in html
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED

    # Without a mobile number the page says only the e-mail; in Chinese it reads as the officer reads it.
    type(applicant).objects.filter(pk=applicant.pk).update(mobile="")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    with translation.override("zh-hans"):
        html = client.post(ncr_url("act", application.pk, "approve"), data).content.decode()
    assert f"您即将批准 {application.case_number}：将签发并签名证书。" in html
    assert "申请人将收到电子邮件。" in html and "短信" not in html.split("申请人将收到")[1][:20]


def test_confirming_takes_the_step_once(staff_client, station_a, officer_a):
    application = ApplicationFactory(office=station_a, accepted=True)
    client = staff_client(officer_a)
    url = ncr_url("act", application.pk, "refuse")
    response = take_step(client, url, {"seen_status": "accepted", "text": "登记库有记录"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.REFUSED and application.refusal_reason == "登记库有记录"
    row = Transition.objects.get(object_id=application.pk, to_status="refused")
    assert row.checklist == {"step": "refuse", "checked": ["reason_grounded"]}


def ncr_case(state, office):
    application = ApplicationFactory(office=office, **{state: True})
    if state == "issued":
        issued_certificate(application, office)
    return application


IRREVERSIBLE = [
    # service, step, state, inputs
    ("ncr", "approve", "accepted", {}),
    ("ncr", "refuse", "accepted", {"text": "reason"}),
    ("ncr", "revoke", "issued", {"text": "court order", "public_text": "revoked by the court"}),
    ("ncr", "reissue", "issued", {"text": "name corrected"}),
    ("fp", "approve", "accepted", {}),
    ("fp", "refuse", "accepted", {"text": "reason"}),
    ("hk", "approve", "forwarded", {}),
    ("hk", "register_emigration", "approved", {"emigrated_on": "today"}),
    ("hk", "report_problem", "approved", {"text": "record missing"}),
    ("hk", "settle", "emigrated", {}),
    ("hk", "refuse", "submitted", {"text": "reason"}),
    ("hk", "switch_to_paper", "accepted", {"text": "system down"}),
]


def build(service, state, station_a):
    """A case of `service` in `state` and the client of an officer who may take its steps."""
    if service == "ncr":
        return ncr_case(state, station_a), StaffFactory(office=station_a), ncr_url
    if service == "fp":
        office = OfficeFactory(kind=Office.Kind.FAMILY_PLANNING)
        officer = StaffFactory(office=office, role=Role.FAMILY_PLANNING_OFFICER)
        extra = clock_start(20) if state == "accepted" else {}
        case = FamilyPlanningApplicationFactory(office=office, status=state, **extra)
        return case, officer, fp_url
    offices = hukou_offices()
    staff = hukou_staff(offices)
    case = MigrationApplicationFactory(offices=offices, complete=True, **{state: True})
    who = {"forwarded": "municipal", "approved": "move_out"}.get(state, "move_in")
    return case, staff[who], hk_url


@pytest.mark.parametrize(
    ("service", "step", "state", "inputs"), IRREVERSIBLE, ids=[f"{s}-{n}" for s, n, *_ in IRREVERSIBLE]
)
def test_a_direct_post_of_an_irreversible_step_without_its_confirmation_changes_nothing(
    staff_client, station_a, service, step, state, inputs
):
    case, officer, url = build(service, state, station_a)
    client = staff_client(officer)
    action = url("act", case.pk, step)
    before = (case.status, rows(case), OutboxMessage.objects.count())
    # "today" is the local date the test runs on: an emigration is never dated before the approval it follows.
    inputs = {name: timezone.localdate().isoformat() if value == "today" else value for name, value in inputs.items()}
    data = {"seen_status": case.status, "check": required_checks(action), **inputs}
    response = client.post(action, data)
    assert response.status_code == 200 and response.context["confirming"], getattr(response, "context", None)
    # A token for another step, or a made-up one, is no confirmation either.
    other = client.post(action, {**data, "confirm_token": "x:y:z"})
    assert other.status_code == 200 and other.context["confirming"]
    case.refresh_from_db()
    assert (case.status, rows(case), OutboxMessage.objects.count()) == before
    # The confirmation's own POST takes it.
    done = take_step(client, action, data)
    assert done.status_code == 302, getattr(done, "context", None) and done.context.get("errors")
    case.refresh_from_db()
    assert rows(case) != before[1]


def test_a_confirmation_page_goes_stale_when_the_case_moves_on(staff_client, station_a, officer_a):
    application = ApplicationFactory(office=station_a, accepted=True)
    client = staff_client(officer_a)
    url = ncr_url("act", application.pk, "refuse")
    page = client.post(url, {"seen_status": "accepted", "check": ["reason_grounded"], "text": "r"})
    token = page.context["token"]
    type(application).objects.filter(pk=application.pk).update(status=Status.INFO_REQUESTED)
    response = client.post(
        url, {"seen_status": "info_requested", "check": ["reason_grounded"], "text": "r", "confirm_token": token}
    )
    # The token was for the case as it was: the officer is asked again, and nothing is refused yet.
    assert response.status_code == 200 and response.context["confirming"]
    application.refresh_from_db()
    assert application.status == Status.INFO_REQUESTED


def test_the_stale_page_guard_comes_before_the_confirmation(staff_client, station_a, officer_a):
    application = ApplicationFactory(office=station_a, accepted=True)
    client = staff_client(officer_a)
    response = client.post(
        ncr_url("act", application.pk, "approve"),
        {"seen_status": "submitted", "check": ["register_checked", "photo_matches"]},
    )
    assert response.status_code == 302
    assert any("Someone else acted" in str(m) for m in response.wsgi_request._messages)


# --- the next case ----------------------------------------------------------------------------------------------


def test_next_case_follows_the_queue_the_officer_came_from(staff_client, station_a, officer_a):
    today = datetime.date.today()
    first, second, third = (
        ApplicationFactory(office=station_a, accepted=True, due_date=today + datetime.timedelta(days=n))
        for n in (1, 2, 3)
    )
    finished = ApplicationFactory(office=station_a, refused=True)
    client = staff_client(officer_a)
    queue = urlencode({"inbox": "acting"})
    preserved = "?" + urlencode({"_changelist_filters": queue})

    page = client.get(ncr_url("change", first.pk) + preserved).content.decode()
    assert f'href="{ncr_url("next", first.pk)}{preserved.replace("&", "&amp;")}"' in page
    response = client.get(ncr_url("next", first.pk) + preserved)
    assert response.url == ncr_url("change", second.pk) + preserved
    assert client.get(ncr_url("next", second.pk) + preserved).url == ncr_url("change", third.pk) + preserved
    # The last case of the queue: back to the queue, as it was filtered.
    response = client.get(ncr_url("next", third.pk) + preserved)
    assert response.url == ncr_url("changelist") + "?" + queue
    # A case that has left the queue (decided meanwhile): the queue's first case.
    assert client.get(ncr_url("next", finished.pk) + preserved).url == ncr_url("change", first.pk) + preserved

    # Another filter and order: the finished cases only.
    done = "?" + urlencode({"_changelist_filters": urlencode({"inbox": "finished"})})
    assert client.get(ncr_url("next", finished.pk) + done).url.startswith(ncr_url("changelist"))


def test_after_a_step_the_officer_stays_in_the_queue(staff_client, station_a, officer_a):
    application = ApplicationFactory(office=station_a, submitted=True)
    client = staff_client(officer_a)
    preserved = "?" + urlencode({"_changelist_filters": "inbox=acting"})
    response = take_step(client, ncr_url("act", application.pk, "accept") + preserved, {"seen_status": "submitted"})
    assert response.url == ncr_url("change", application.pk) + preserved


def test_an_irreversible_step_without_a_confirmation_is_refused_by_the_table():
    from portal.cases.workflow import AccessMessages, Step, Workflow

    words = AccessMessages(staff_only="", other_office="", own_case="")
    with pytest.raises(ValueError, match="asks for no confirmation"):
        Workflow("x", (Step("refuse", ("open",), "refused", danger=True),), words, concerns=lambda u, c: False)
