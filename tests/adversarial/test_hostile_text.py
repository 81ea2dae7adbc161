"""Hostile text in every field a citizen types: refused with a clear error, or stored as typed and escaped everywhere.

Refused: NUL bytes, invisible control characters (a right-to-left override reorders the signed certificate's
text) and 100 KB strings. Accepted but inert: markup and template syntax, which must reach the citizen's pages,
the admin, e-mails, SMS and the certificate PDF as text, never as markup and never evaluated.
"""

import datetime
import io
import logging
from html import escape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts import services as account_services
from accounts.models import MisuseReport, User
from certificates import services
from certificates.models import Application, Status
from portal.notify.models import Channel, OutboxMessage
from tests.factories import StaffFactory, UserFactory, make_id_number

from .conftest import HUGE, NUL, RLO, portrait_bytes, upload

pytestmark = pytest.mark.django_db

# Short enough for every field (a name has at most 60 characters).
SCRIPT = "<script>alert(1)</script><img src=x onerror=alert(2)>"
TEMPLATE = "{{ request.user.password }}{% debug %}"
PAYLOADS = {"script": SCRIPT, "template": TEMPLATE}


def section_url(application, section):
    return reverse("certificates:section", kwargs={"case_number": application.case_number, "section": section})


def case_url(name, application):
    return reverse(f"certificates:{name}", kwargs={"case_number": application.case_number})


def assert_inert(payload, text, *, secrets=(), shown=True):
    """The payload shows as text (if `shown`): escaped where it has markup, never evaluated, leaking nothing."""
    if shown:
        assert escape(payload, quote=False) in text or escape(payload) in text, "payload missing from the page"
    if "<" in payload:
        assert payload not in text
    for secret in secrets:
        assert secret not in text
    assert "'csrf_token'" not in text and "&#x27;csrf_token&#x27;" not in text  # {% debug %} never ran


# --- refused with a clear error -------------------------------------------------------------------------

REFUSALS = {
    "nul": (NUL, "Null characters are not allowed."),
    "right_to_left_override": (RLO, "invisible control character (U+202E)"),
    "100_kb": (HUGE, "Ensure this value has at most"),
}


@pytest.fixture
def agent_draft(client, station_a):
    agent = UserFactory()
    client.force_login(agent)
    return services.application_create_draft(applicant=agent, for_self=False, office=station_a)


def post_purpose(client, application, **fields):
    data = {"action": "next", "reason": "employment", "receiving_organisation": "郑州某公司", **fields}
    return client.post(section_url(application, "purpose"), data)


FIELDS = {
    "holder_name": lambda client, app, value: client.post(
        section_url(app, "holder"),
        {"action": "next", "holder_name": value, "holder_id_type": "resident_id", "holder_id_number": ""},
    ),
    "destination_country": lambda client, app, value: post_purpose(
        client, app, reason="abroad", destination_country=value
    ),
    "reason_other": lambda client, app, value: post_purpose(client, app, reason="other", reason_other=value),
    "receiving_organisation": lambda client, app, value: post_purpose(client, app, receiving_organisation=value),
}


@pytest.mark.parametrize("value,message", REFUSALS.values(), ids=REFUSALS.keys())
@pytest.mark.parametrize("field", FIELDS.keys())
def test_application_field_refuses(client, agent_draft, field, value, message):
    before = Application.objects.values().get(pk=agent_draft.pk)
    response = FIELDS[field](client, agent_draft, value)
    assert response.status_code == 400
    assert message in response.content.decode()
    after = Application.objects.values().get(pk=agent_draft.pk)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


@pytest.mark.parametrize("value,message", REFUSALS.values(), ids=REFUSALS.keys())
def test_resubmission_reply_refuses(client, station_a, value, message):
    citizen = UserFactory()
    application = services.application_create_draft(applicant=citizen, for_self=True, office=station_a)
    Application.objects.filter(pk=application.pk).update(status=Status.INFO_REQUESTED, info_request="Photo")
    client.force_login(citizen)
    response = client.post(case_url("check", application), {"declaration": "on", "reply": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    application.refresh_from_db()
    assert (application.status, application.citizen_reply) == (Status.INFO_REQUESTED, "")


@pytest.mark.parametrize("value,message", REFUSALS.values(), ids=REFUSALS.keys())
def test_registration_real_name_refuses(client, value, message):
    response = client.post(
        reverse("accounts:register"),
        {
            "real_name": value,
            "id_number": make_id_number(),
            "mobile": "+8616692816317",
            "email": "hostile@example.test",
            "username": "hostile",
            "password1": "Zhengzhou-Spring-2026",
            "password2": "Zhengzhou-Spring-2026",
            "consent": "on",
        },
    )
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors["real_name"])
    assert not User.objects.filter(username="hostile").exists()


@pytest.mark.parametrize("value,message", REFUSALS.values(), ids=REFUSALS.keys())
def test_misuse_report_refuses_and_does_not_suspend(client, citizen, value, message):
    client.force_login(citizen)
    response = client.post(reverse("accounts:report_misuse"), {"description": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    citizen.refresh_from_db()
    assert citizen.is_active and not MisuseReport.objects.exists()


PROFILE_VALUES = {
    "email": [NUL + "@example.test", "a\u202eb@example.test", "a" * 100 * 1024 + "@example.test"],
    "mobile": ["+86138" + NUL + "12345678", "+86138\u202e12345678", "1" * 100 * 1024],
}


@pytest.mark.parametrize("index", range(3), ids=REFUSALS.keys())
@pytest.mark.parametrize("field", PROFILE_VALUES.keys())
def test_profile_contact_field_refuses(client, citizen, field, index):
    value = PROFILE_VALUES[field][index]
    before = User.objects.values("email", "mobile", "email_confirmed_at", "mobile_confirmed_at").get(pk=citizen.pk)
    client.force_login(citizen)
    data = {"email": citizen.email, "language": "en", "current_password": "Correct-Horse-42", field: value}
    response = client.post(reverse("accounts:profile"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    after = User.objects.values("email", "mobile", "email_confirmed_at", "mobile_confirmed_at").get(pk=citizen.pk)
    assert after == before
    assert not OutboxMessage.objects.filter(user=citizen).exists()


# --- accepted as text, inert everywhere -----------------------------------------------------------------


@pytest.fixture(params=PAYLOADS.values(), ids=PAYLOADS.keys())
def hostile(request, station_a, no_tasks, django_capture_on_commit_callbacks):
    """A citizen named `payload` whose agent application carries it in every text field, through the real pages.

    The officer accepts it, asks for more information with the payload as the message, and the citizen
    answers with the payload: every piece of text on the case is hostile. Names of people are refused with markup in
    them (test_names_with_markup_are_refused); the citizen's and the holder's names get the payload in the database,
    as a name from before that rule would have it, and must be just as inert.
    """
    payload = request.param
    client = Client()
    client.cookies["portal_language"] = "en"
    response = client.post(
        reverse("accounts:register"),
        {
            "real_name": "王芳",
            "id_number": make_id_number(),
            "mobile": "+8616692816317",
            "email": "hostile@example.test",
            "username": "hostile",
            "password1": "Zhengzhou-Spring-2026",
            "password2": "Zhengzhou-Spring-2026",
            "consent": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    user = User.objects.get(username="hostile")
    user.real_name = payload  # the confirmation e-mail again, now addressed to the hostile name
    OutboxMessage.objects.filter(user=user, template="accounts/confirm_email").delete()
    account_services.email_confirmation_send(user=user)
    User.objects.filter(pk=user.pk).update(  # confirmed and verified, as the submit step requires
        real_name=payload,
        email_confirmed_at=timezone.now(),
        mobile_confirmed_at=timezone.now(),
        assurance_level="verified",
        assurance_method="demo",
        assured_at=timezone.now(),
    )
    user.refresh_from_db()

    applications = []
    for purpose in ({"reason": "abroad", "destination_country": payload}, {"reason": "other", "reason_other": payload}):
        client.post(reverse("certificates:apply"), {"applying_for": "agent", "office": station_a.pk})
        application = Application.objects.filter(applicant=user).latest("pk")
        r = client.post(
            section_url(application, "holder"),
            {
                "action": "continue",
                "holder_name": "李四",
                "holder_id_type": "resident_id",
                "holder_id_number": make_id_number(),
                "authorisation": upload("authorisation.png", portrait_bytes()),
            },
        )
        assert r.status_code == 302, r.content.decode()[:3000]
        Application.objects.filter(pk=application.pk).update(holder_name=payload)
        r = post_purpose(client, application, action="continue", receiving_organisation=payload, **purpose)
        assert r.status_code == 302
        client.post(section_url(application, "delivery"), {"action": "continue", "delivery": "electronic"})
        client.post(
            section_url(application, "documents"),
            {
                "action": "continue",
                "id_front": upload("front.png", portrait_bytes()),
                "id_back": upload("back.png", portrait_bytes()),
                "photo": upload("photo.png", portrait_bytes()),
            },
        )
        r = client.post(case_url("check", application), {"declaration": "on"})
        assert r.status_code == 302, r.content.decode()[:3000]
        applications.append(application)

    officer = StaffFactory(office=station_a)
    first = Application.objects.get(pk=applications[0].pk)
    services.application_accept(application=first, by=officer)
    with django_capture_on_commit_callbacks(execute=False):
        services.application_request_info(application=first, by=officer, message=payload)
    r = client.post(case_url("check", first), {"declaration": "on", "reply": payload})
    assert r.status_code == 302, r.content.decode()[:3000]
    for application in applications:
        application.refresh_from_db()
        assert payload in (application.holder_name, application.receiving_organisation)
    return {"payload": payload, "client": client, "user": user, "applications": applications, "officer": officer}


def test_a_draft_saved_with_hostile_text_keeps_only_the_page_s_fields_without_nul(client, agent_draft):
    """Saving the draft keeps what was typed to be corrected (issue 16), never a NUL (PostgreSQL's jsonb refuses it)
    nor a posted name that no field of the page has."""
    response = client.post(
        section_url(agent_draft, "holder"),
        {
            "action": "leave",
            "holder_name": "王\x00芳",
            "holder_id_type": "resident_id",
            "holder_id_number": "",
            "is_staff": "on",
            "x" * 50: "y" * 1000,
        },
    )
    assert response.status_code == 302
    agent_draft.refresh_from_db()
    assert agent_draft.holder_name == ""
    kept = agent_draft.kept_inputs["holder"]["data"]
    assert kept["holder_name"] == ["王芳"]
    assert "is_staff" not in kept and "x" * 50 not in kept


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_names_with_markup_are_refused(client, agent_draft, payload):
    response = client.post(
        section_url(agent_draft, "holder"),
        {"action": "next", "holder_name": payload, "holder_id_type": "resident_id", "holder_id_number": ""},
    )
    assert response.status_code == 400
    assert "A name may contain only Chinese characters" in response.content.decode()
    response = Client().post(
        reverse("accounts:register"),
        {"real_name": payload, "id_number": make_id_number(), "username": "n", "consent": "on"},
        HTTP_COOKIE="portal_language=en",
    )
    assert any("A name may contain only" in e for e in response.context["form"].errors["real_name"])


def test_citizen_pages_show_it_as_text(hostile):
    payload, client = hostile["payload"], hostile["client"]
    secrets = [hostile["user"].password]
    pages = {reverse("accounts:profile"): True, reverse("me"): False, reverse("certificates:index"): False}
    for application in hostile["applications"]:
        pages[case_url("detail", application)] = True
    for page, shown in pages.items():
        response = client.get(page)
        assert response.status_code == 200, page
        assert_inert(payload, response.content.decode(), secrets=secrets, shown=shown)


def test_citizen_form_pages_prefill_it_as_an_attribute_value(hostile):
    payload, client = hostile["payload"], hostile["client"]
    draft = services.application_create_draft(
        applicant=hostile["user"], for_self=False, office=hostile["officer"].office
    )
    Application.objects.filter(pk=draft.pk).update(holder_name=payload, receiving_organisation=payload)
    for section in ("holder", "purpose"):
        html = client.get(section_url(draft, section)).content.decode()
        assert f'value="{escape(payload)}"' in html
        assert payload not in html or "<" not in payload
    check = client.get(case_url("check", draft)).content.decode()
    assert_inert(payload, check)


def test_admin_review_page_and_timeline_show_it_as_text(hostile, staff_client):
    payload, officer = hostile["payload"], hostile["officer"]
    client = staff_client(officer)
    for application in hostile["applications"]:
        url = reverse("admin:certificates_application_change", args=[application.pk])
        response = client.get(url)
        assert response.status_code == 200
        assert_inert(payload, response.content.decode(), secrets=[officer.password])


def test_admin_queue_and_search_show_it_as_text(hostile, staff_client):
    payload = hostile["payload"]
    client = staff_client(hostile["officer"])
    changelist = reverse("admin:certificates_application_changelist")
    html = client.get(changelist).content.decode()
    assert all(a.case_number in html for a in hostile["applications"])
    assert_inert(payload, html)  # the purpose column shows the explanation in full
    searched = client.get(changelist, {"q": payload})
    assert searched.status_code == 200
    assert payload not in searched.content.decode() or "<" not in payload


def test_emails_escape_it_in_html_and_keep_it_plain_in_text(hostile):
    payload = hostile["payload"]
    emails = OutboxMessage.objects.filter(channel=Channel.EMAIL, user=hostile["user"])
    templates = set(emails.values_list("template", flat=True))
    assert {"accounts/confirm_email", "certificates/submitted", "certificates/info_requested"} <= templates
    for message in emails:
        assert "\n" not in message.subject and "\r" not in message.subject
        if message.html_body:
            assert_inert(payload, message.html_body)
        assert payload in message.body  # plain text is not HTML: the name as typed, not "&lt;script&gt;"
        assert "&lt;" not in message.body


def test_misuse_report_reaches_the_administrators_as_text(client, hostile):
    payload = hostile["payload"]
    StaffFactory(is_superuser=True, office=None)
    response = hostile["client"].post(reverse("accounts:report_misuse"), {"description": payload})
    assert response.status_code == 200
    message = OutboxMessage.objects.get(template="accounts/misuse_reported")
    assert_inert(payload, message.html_body)
    assert payload in message.body


def test_sms_carry_only_fixed_wording(hostile):
    sms = list(OutboxMessage.objects.filter(channel=Channel.SMS, user=hostile["user"]))
    assert {m.template for m in sms} >= {
        "accounts/mobile_code",
        "certificates/submitted",
        "certificates/info_requested",
    }
    for message in sms:
        for fragment in ("<", ">", "{{", "{%", "&lt;", "alert", "debug"):
            assert fragment not in message.body, message.body


@pytest.fixture
def certificate_pdf(hostile):
    """The certificate and the refusal notice of the hostile cases, rendered as the worker does."""
    from certificates.documents import CERTIFICATE, REFUSAL_NOTICE
    from portal import pdf
    from portal.verify.issuing import issued_document_claim

    application = Application.objects.get(pk=hostile["applications"][1].pk)  # reason "other": the explanation prints
    Application.objects.filter(pk=application.pk).update(refusal_reason=hostile["payload"], decided_at=timezone.now())
    application.refresh_from_db()
    out = {}
    for kind, generation, spec in (("certificate", 1, CERTIFICATE), ("refusal", 2, REFUSAL_NOTICE)):
        document, _ = issued_document_claim(
            source=application,
            generation=generation,
            kind=kind,
            title="无犯罪记录证明",
            title_en="Certificate",
            holder=application.applicant,
            holder_name=application.holder_name,
            issuing_office=application.office,
            valid_until=datetime.date(2030, 1, 1),
        )
        values = spec.pdf_context(application, document)
        out[kind] = (pdf.render_html(spec.template, values), pdf.render_pdf(spec.template, values))
    return out


def test_certificate_and_refusal_notice_html_escape_it(hostile, certificate_pdf):
    for html, _pdf in certificate_pdf.values():
        assert_inert(hostile["payload"], html, secrets=[hostile["user"].password])


def test_certificate_and_refusal_notice_pdf_print_it_as_text_and_fetch_nothing(hostile, certificate_pdf, caplog):
    payload = hostile["payload"]
    for kind, (_html, data) in certificate_pdf.items():
        reader = PdfReader(io.BytesIO(data))
        text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
        assert payload.replace(" ", "") in text.replace(" ", ""), kind
        assert not reader.attachments
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "fetch" in r.getMessage()]


def test_verification_shows_only_a_masked_name_as_text(client, hostile):
    from portal.verify.issuing import issued_document_claim, issued_document_store

    application = hostile["applications"][0]
    document, _ = issued_document_claim(
        source=application,
        generation=1,
        kind="ncr_certificate",
        title="无犯罪记录证明",
        title_en="Certificate",
        holder=application.applicant,
        holder_name=application.holder_name,
        issuing_office=application.office,
        valid_until=datetime.date(2030, 1, 1),
    )
    issued_document_store(document=document, pdf=b"%PDF-1.7\n%%EOF\n")
    html = client.get(reverse("verify:detail", args=[document.code])).content.decode()
    data = client.get(reverse("verify:api", args=[document.code])).json()
    payload = hostile["payload"]
    assert data["holder"] == payload[0] + "*" * (len(payload) - 2) + payload[-1]
    assert escape(data["holder"]) in html and payload not in html


def test_zero_width_space_cannot_make_a_name_look_like_anothers(client):
    # "张\u200b三" looks exactly like "张三" to an officer, and would be a second identity on paper.
    response = client.post(
        reverse("accounts:register"),
        {
            "real_name": "张\u200b三",
            "id_number": make_id_number(),
            "mobile": "+8616692816317",
            "email": "lookalike@example.test",
            "username": "lookalike",
            "password1": "Zhengzhou-Spring-2026",
            "password2": "Zhengzhou-Spring-2026",
            "consent": "on",
        },
    )
    assert any("U+200B" in e for e in response.context["form"].errors["real_name"])
    assert not User.objects.filter(username="lookalike").exists()
