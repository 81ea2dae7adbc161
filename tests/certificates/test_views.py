"""The citizen's pages under /certificates/: the whole flow, upload errors, ownership, submission rules, status."""

import datetime
import io
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from certificates import services
from certificates.models import Application, Delivery, HolderIdType, Status
from portal.documents.models import Document
from portal.documents.services import document_attach, document_create, document_keep_token, documents_for_case
from portal.documents.validation import PHOTO_RULES
from portal.verify.issuing import issued_document_claim, issued_document_store
from tests.certificates.pages import complete_draft, id_card_image, portrait, submit, upload, url
from tests.factories import OfficeFactory, UserFactory, make_id_number

SECTIONS = ("holder", "purpose", "delivery", "documents")


@pytest.fixture(autouse=True)
def english():
    # Messages are asserted in English; the site's default is Simplified Chinese.
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def counter(db):
    return OfficeFactory(
        name="金水路派出所户籍窗口",
        name_en="Jinshui Road Counter",
        accepts_paper_collection=True,
        address="郑州市金水路 1 号",
        opening_hours="Mon-Fri 9:00-17:00",
    )


# --- files made with Pillow ------------------------------------------------------------------------


def grey_portrait():
    out = io.BytesIO()
    Image.open(io.BytesIO(portrait())).convert("L").save(out, format="PNG")
    return out.getvalue()


BAD_PHOTOS = {
    "greyscale": (
        lambda: upload("grey.png", grey_portrait()),
        "This photo is black and white (greyscale); upload a colour photo.",
    ),
    "too_small": (
        lambda: upload("small.png", portrait((300, 380))),
        "This image is 300 × 380 pixels; it must be at least 358 × 441 pixels.",
    ),
    "svg": (
        lambda: upload(
            "photo.png",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/png",
        ),
        "This file is a SVG drawing; upload a JPEG or PNG file.",
    ),
    "html": (
        lambda: upload("photo.jpg", b"<!DOCTYPE html><html><body>hi</body></html>", "image/jpeg"),
        "This file is a web page (HTML); upload a JPEG or PNG file.",
    ),
    "too_large": (
        lambda: upload("huge.jpg", b"\xff\xd8\xff\xe0" + b"\0" * (PHOTO_RULES.max_bytes + 10), "image/jpeg"),
        "the limit is 5 MB.",
    ),
}


# --- helpers -----------------------------------------------------------------------------------------


def kept_tokens(html):
    return dict(re.findall(r'name="(\w+)__kept" value="([^"]+)"', html))


def start(client, office, applying_for="self"):
    response = client.post(url("apply"), {"applying_for": applying_for, "office": office.pk})
    assert response.status_code == 302, response.content.decode()
    application = Application.objects.latest("pk")
    assert response["Location"] == url("section", application, "holder")
    return application


class _Inline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline_scripts = self.style_attributes = self.style_elements = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.style_attributes += "style" in attrs
        self.style_elements += tag == "style"
        self._in_script = tag == "script" and "src" not in attrs

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag):
        self._in_script = False


def assert_no_inline_code(response):
    parser = _Inline()
    parser.feed(response.content.decode())
    assert (parser.inline_scripts, parser.style_attributes, parser.style_elements) == (0, 0, 0), response.request


# --- the guide and the start -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_guide_for_anonymous_keeps_the_guide_and_offers_login_to_apply(client):
    response = client.get(url("index"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "What the check covers" in html  # the guide written before stays
    assert f'href="{reverse("accounts:login")}?next={url("apply")}"' in html
    assert_no_inline_code(response)


@pytest.mark.django_db
def test_guide_signed_in_offers_the_start_and_warns_about_unconfirmed_contact(client):
    unconfirmed = UserFactory(unconfirmed=True)
    client.force_login(unconfirmed)
    response = client.get(url("index"))
    html = response.content.decode()
    assert f'href="{url("apply")}"' in html
    assert 'data-testid="contact-warning"' in html
    assert html.count(f'href="{reverse("accounts:profile")}#contact-heading"') == 2  # e-mail and mobile
    apply_page = client.get(url("apply"))
    assert 'data-testid="contact-warning"' in apply_page.content.decode()


@pytest.mark.django_db
def test_confirmed_citizen_sees_no_contact_warning(client, citizen):
    client.force_login(citizen)
    assert 'data-testid="contact-warning"' not in client.get(url("index")).content.decode()


@pytest.mark.django_db
def test_anonymous_is_sent_to_login_everywhere(client, citizen, station_a):
    application = complete_draft(citizen, station_a)
    urls = [url("apply"), url("check", application), url("detail", application), url("withdraw", application)]
    urls += [url("delete", application), url("submitted", application)]
    urls += [url("section", application, s) for s in SECTIONS]
    for address in urls:
        response = client.get(address)
        assert response.status_code == 302, address
        assert response["Location"].startswith(reverse("accounts:login")), address


@pytest.mark.django_db
def test_start_page_errors_are_specific(client, citizen, station_a):
    client.force_login(citizen)
    response = client.post(url("apply"), {})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose whether the certificate is for you or for someone else." in html
    assert "Choose the police station that should issue the certificate." in html
    assert not Application.objects.exists()


# --- the whole flow ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_whole_flow_for_myself_to_submission(client, citizen, station_a, counter):
    client.force_login(citizen)
    assert client.get(url("apply")).status_code == 200
    application = start(client, station_a)
    assert (application.applicant, application.office, application.status) == (citizen, station_a, Status.DRAFT)

    holder = client.get(url("section", application, "holder"))
    html = holder.content.decode()
    assert citizen.real_name in html and citizen.masked_id_number in html and citizen.masked_mobile in html
    assert citizen.id_number not in html  # masked, never in full
    assert reverse("accounts:profile") in html
    response = client.post(url("section", application, "holder"), {"action": "continue"})
    assert response["Location"] == url("section", application, "purpose")

    response = client.post(
        url("section", application, "purpose"),
        {
            "action": "continue",
            "reason": "abroad",
            "destination_country": "Canada",
            "receiving_organisation": "Embassy",
        },
    )
    assert response["Location"] == url("section", application, "delivery")
    response = client.post(
        url("section", application, "delivery"),
        {"action": "continue", "delivery": "collect", "collection_office": counter.pk},
    )
    assert response["Location"] == url("section", application, "documents")
    response = client.post(
        url("section", application, "documents"),
        {
            "action": "continue",
            "id_front": upload("front.jpg", id_card_image(), "image/jpeg"),
            "id_back": upload("back.jpg", id_card_image(), "image/jpeg"),
            "photo": upload("me.png", portrait()),
        },
    )
    assert response["Location"] == url("check", application)

    application.refresh_from_db()
    assert (application.holder_name, application.holder_id_number, application.holder_sex) == (
        citizen.real_name,
        citizen.id_number,
        citizen.sex,
    )
    assert (application.reason, application.destination_country, application.receiving_organisation) == (
        "abroad",
        "Canada",
        "Embassy",
    )
    assert (application.delivery, application.collection_office) == ("collect", counter)
    assert sorted(documents_for_case(application).values_list("kind", flat=True)) == ["id_back", "id_front", "photo"]

    check = client.get(url("check", application))
    html = check.content.decode()
    assert check.status_code == 200
    assert 'data-testid="missing"' not in html  # complete: the declaration is the checkbox, not a missing item
    assert 'name="declaration"' in html
    for section in SECTIONS:
        assert f"{url('section', application, section)}?return=check" in html  # one "Change" link per section
    assert "Canada" in html and "Embassy" in html and "Jinshui Road Counter" in html and "me.png" in html

    response = submit(client, application)
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == url("submitted", application)
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED
    assert application.declaration_at is not None

    confirmation = client.get(url("submitted", application))
    html = confirmation.content.decode()
    assert application.case_number in html
    assert "3 working days from acceptance" in html
    assert "once the application is accepted, the due date shows on its status page".lower() in html.lower()

    detail = client.get(url("detail", application))
    assert "Submitted, awaiting acceptance" in detail.content.decode()
    # Submitted: the sections are closed.
    closed = client.get(url("section", application, "purpose"))
    assert closed["Location"] == url("detail", application)


@pytest.mark.django_db
def test_change_link_returns_to_the_check_page(client, citizen, station_a):
    application = complete_draft(citizen, station_a)
    client.force_login(citizen)
    page = client.get(url("section", application, "purpose") + "?return=check")
    assert '<input type="hidden" name="return" value="check">' in page.content.decode()
    response = client.post(
        url("section", application, "purpose"),
        {"action": "continue", "return": "check", "reason": "study", "receiving_organisation": "郑州大学"},
    )
    assert response["Location"] == url("check", application)


@pytest.mark.django_db
def test_save_as_draft_and_leave_keeps_an_incomplete_section(client, citizen, station_a):
    client.force_login(citizen)
    application = start(client, station_a)
    response = client.post(
        url("section", application, "purpose"), {"action": "leave", "reason": "abroad", "receiving_organisation": "X"}
    )
    assert response["Location"] == url("index")
    application.refresh_from_db()
    assert (application.reason, application.receiving_organisation, application.status) == ("abroad", "X", "draft")
    index = client.get(url("index")).content.decode()
    assert application.case_number in index and f'href="{url("check", application)}"' in index
    assert f'href="{url("delete", application)}"' in index


# --- uploads -------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("problem", sorted(BAD_PHOTOS))
def test_each_bad_photo_gets_its_message_next_to_the_field_and_the_other_uploads_are_kept(
    client, citizen, station_a, problem
):
    client.force_login(citizen)
    application = start(client, station_a)
    make_bad, message = BAD_PHOTOS[problem]
    response = client.post(
        url("section", application, "documents"),
        {
            "action": "continue",
            "id_front": upload("front.jpg", id_card_image(), "image/jpeg"),
            "id_back": upload("back.jpg", id_card_image(), "image/jpeg"),
            "photo": make_bad(),
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    # The message sits in the photo field's own error block, and nowhere near the other fields.
    field_error = re.search(r'<div id="id_photo_error" class="invalid-feedback">(.*?)</div>', html, re.S)
    assert field_error and message in field_error.group(1)
    assert 'id="id_id_front_error"' not in html and 'id="id_id_back_error"' not in html
    tokens = kept_tokens(html)
    assert set(tokens) == {"id_front", "id_back"}
    assert "Already uploaded: front.jpg" in html and "Already uploaded: back.jpg" in html
    assert not documents_for_case(application).exists()  # nothing saved while the section has an error

    # Choosing only a good photo now completes the section; the kept ID images are attached with it.
    response = client.post(
        url("section", application, "documents"),
        {
            "action": "continue",
            "id_front__kept": tokens["id_front"],
            "id_back__kept": tokens["id_back"],
            "photo": upload("me.png", portrait()),
        },
    )
    assert response.status_code == 302, response.content.decode()
    current = {d.kind: d.original_name for d in documents_for_case(application)}
    assert current == {"id_front": "front.jpg", "id_back": "back.jpg", "photo": "me.png"}


@pytest.mark.django_db
def test_replacing_a_document_makes_the_newest_one_current(client, citizen, station_a):
    application = complete_draft(citizen, station_a)
    client.force_login(citizen)
    response = client.post(
        url("section", application, "documents"), {"action": "continue", "photo": upload("new.png", portrait())}
    )
    assert response.status_code == 302, response.content.decode()
    assert documents_for_case(application, kind="photo").first().original_name == "new.png"
    page = client.get(url("section", application, "documents")).content.decode()
    assert "new.png" in page and "photo.png" not in page
    assert "id_front.png" in page  # shown with its size and private link
    front = documents_for_case(application, kind="id_front").first()
    assert f'href="{front.get_absolute_url()}"' in page


@pytest.mark.django_db
def test_a_file_of_another_application_cannot_be_moved_over(client, citizen, station_a):
    first = complete_draft(citizen, station_a)
    second = complete_draft(citizen, station_a, photo=False)
    photo = documents_for_case(first, kind="photo").first()
    client.force_login(citizen)
    response = client.post(
        url("section", second, "documents"),
        {"action": "continue", "photo__kept": document_keep_token(document=photo)},
    )
    assert response.status_code == 400
    assert "One of the files belongs to another application. Choose the file again." in response.content.decode()
    assert not documents_for_case(second, kind="photo").exists()
    assert documents_for_case(first, kind="photo").get() == photo


@pytest.mark.django_db
def test_passport_holder_is_asked_for_the_data_page_instead_of_the_card(client, citizen, station_a):
    client.force_login(citizen)
    application = start(client, station_a, applying_for="agent")
    client.post(
        url("section", application, "holder"),
        {
            "action": "continue",
            "holder_name": "Anna Li",
            "holder_id_type": "passport",
            "holder_id_number": "E12345678",
            "authorisation": upload("auth.png", portrait((800, 1000))),
        },
    )
    page = client.get(url("section", application, "documents")).content.decode()
    assert 'name="passport"' in page and 'name="id_front"' not in page and 'name="photo"' in page


# --- the agent ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_agent_must_upload_the_authorisation_and_keeps_what_was_typed(client, citizen, station_a):
    client.force_login(citizen)
    application = start(client, station_a, applying_for="agent")
    number = make_id_number(birth=datetime.date(1985, 3, 9), sex="M")
    typed = {"action": "continue", "holder_name": "王大锤", "holder_id_type": "resident_id", "holder_id_number": number}
    response = client.post(url("section", application, "holder"), typed)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Upload the holder&#x27;s signed authorisation." in html
    assert 'value="王大锤"' in html and f'value="{number}"' in html

    bad = client.post(
        url("section", application, "holder"),
        {
            **typed,
            "authorisation": upload("auth.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "image/svg+xml"),
        },
    )
    html = bad.content.decode()
    assert "This file is a SVG drawing; upload a JPEG, PNG or PDF file." in html
    assert 'value="王大锤"' in html and f'value="{number}"' in html

    ok = client.post(
        url("section", application, "holder"),
        {**typed, "authorisation": upload("auth.jpg", id_card_image(), "image/jpeg")},
    )
    assert ok["Location"] == url("section", application, "purpose")
    application.refresh_from_db()
    assert (application.holder_name, application.holder_sex, application.holder_birth_date) == (
        "王大锤",
        "M",
        datetime.date(1985, 3, 9),
    )
    assert documents_for_case(application, kind="authorisation").count() == 1


@pytest.mark.django_db
def test_agent_without_authorisation_cannot_submit(client, citizen, station_a):
    application = complete_draft(citizen, station_a, for_self=False)
    Application.objects.filter(pk=application.pk).update(
        holder_name="王大锤", holder_id_type=HolderIdType.PASSPORT, holder_id_number="E12345678"
    )
    document = document_create(owner=citizen, uploaded_file=upload("pp.jpg", id_card_image()), kind="passport")
    document_attach(document=document, case=application)
    client.force_login(citizen)
    check = client.get(url("check", application)).content.decode()
    assert f"{url('section', application, 'holder')}?return=check" in check
    missing = re.search(r'data-testid="missing">(.*?)</div>', check, re.S).group(1)
    assert "Upload the holder&#x27;s signed authorisation." in missing
    response = submit(client, application)
    assert response.status_code == 400
    assert "Upload the holder&#x27;s signed authorisation." in response.content.decode()
    application.refresh_from_db()
    assert application.status == Status.DRAFT


# --- purpose -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_going_abroad_requires_the_destination_and_keeps_the_rest(client, citizen, station_a):
    client.force_login(citizen)
    application = start(client, station_a)
    response = client.post(
        url("section", application, "purpose"),
        {"action": "continue", "reason": "abroad", "receiving_organisation": "Embassy of Canada"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter the country or region you are going to." in html
    assert 'value="Embassy of Canada"' in html
    assert re.search(r'value="abroad"[^>]*checked', html)
    application.refresh_from_db()
    assert application.reason == ""  # nothing half-saved


# --- submission blocked ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_submit_blocked_without_the_declaration(client, citizen, station_a):
    application = complete_draft(citizen, station_a)
    client.force_login(citizen)
    response = client.post(url("check", application), {})
    assert response.status_code == 400
    assert "Tick the declaration to confirm that the information is true." in response.content.decode()
    application.refresh_from_db()
    assert (application.status, application.declaration_at) == (Status.DRAFT, None)


@pytest.mark.django_db
def test_submit_blocked_when_the_contact_details_are_not_confirmed(client, station_a):
    citizen = UserFactory(mobile_confirmed_at=None)
    application = complete_draft(citizen, station_a)
    client.force_login(citizen)
    page = client.get(url("check", application)).content.decode()
    assert 'data-testid="contact-warning"' in page
    response = submit(client, application)
    html = response.content.decode()
    assert response.status_code == 400
    summary = re.search(r'class="alert alert-danger portal-error-summary"(.*?)</div>', html, re.S).group(1)
    assert "Confirm your e-mail address and mobile number in your profile before you submit." in summary
    assert reverse("accounts:profile") in html
    application.refresh_from_db()
    assert (application.status, application.declaration_at) == (Status.DRAFT, None)  # the declaration is undone too


@pytest.mark.django_db
def test_submit_blocked_without_the_photo_lists_it_with_a_link(client, citizen, station_a):
    application = complete_draft(citizen, station_a, photo=False)
    client.force_login(citizen)
    page = client.get(url("check", application)).content.decode()
    missing = re.search(r'data-testid="missing">(.*?)</div>', page, re.S).group(1)
    assert f"{url('section', application, 'documents')}?return=check" in missing
    assert "Upload a bareheaded colour photo." in missing
    response = submit(client, application)
    assert response.status_code == 400
    summary = re.search(r'portal-error-summary"(.*?)</div>', response.content.decode(), re.S).group(1)
    assert "Upload a bareheaded colour photo." in summary
    application.refresh_from_db()
    assert application.status == Status.DRAFT


# --- information requested, resubmission -----------------------------------------------------------------


@pytest.mark.django_db
def test_resubmission_after_a_request_for_information(client, no_mfa, citizen, station_a, officer_a):
    application = complete_draft(citizen, station_a)
    client.force_login(citizen)
    assert submit(client, application).status_code == 302
    application.refresh_from_db()
    services.application_accept(application=application, by=officer_a)
    services.application_request_info(application=application, by=officer_a, message="请补充护照资料页。")
    application.refresh_from_db()
    assert application.status == Status.INFO_REQUESTED

    detail = client.get(url("detail", application)).content.decode()
    assert "请补充护照资料页。" in detail and f'href="{url("check", application)}"' in detail
    # The citizen amends a section...
    response = client.post(
        url("section", application, "purpose"),
        {"action": "continue", "return": "check", "reason": "study", "receiving_organisation": "郑州大学"},
    )
    assert response["Location"] == url("check", application)
    check = client.get(url("check", application)).content.decode()
    assert "请补充护照资料页。" in check and 'name="reply"' in check
    # ... and must answer before sending it again.
    assert submit(client, application).status_code == 400
    response = submit(client, application, reply="已修改用途。")
    assert response["Location"] == url("submitted", application)
    application.refresh_from_db()
    assert application.status != Status.INFO_REQUESTED
    assert (application.reason, application.citizen_reply) == ("study", "已修改用途。")


# --- ownership ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_another_citizen_gets_404_everywhere_including_the_uploads(client, citizen, other_citizen, station_a):
    application = complete_draft(citizen, station_a)
    submitted = complete_draft(citizen, station_a)
    client.force_login(citizen)
    assert submit(client, submitted).status_code == 302
    client.force_login(other_citizen)
    addresses = [url("section", application, s) for s in SECTIONS]
    addresses += [url(name, application) for name in ("check", "detail", "delete", "submitted")]
    addresses += [url(name, submitted) for name in ("detail", "withdraw", "submitted")]
    addresses += [d.get_absolute_url() for d in Document.objects.filter(owner=citizen)]
    for address in addresses:
        assert client.get(address).status_code == 404, address
    for address in (url("section", application, "purpose"), url("check", application), url("delete", application)):
        assert client.post(address, {"action": "continue", "declaration": "on"}).status_code == 404, address
    assert client.post(url("withdraw", submitted)).status_code == 404
    assert Application.objects.filter(pk=application.pk, status=Status.DRAFT).exists()
    assert Application.objects.get(pk=submitted.pk).status == Status.SUBMITTED


# --- status page ---------------------------------------------------------------------------------------------


def issue_certificate(application):
    """What the worker leaves behind: the application issued and a stored, valid certificate."""
    Application.objects.filter(pk=application.pk).update(
        status=Status.ISSUED, certificate_generation=1, decided_at=timezone.now()
    )
    application.refresh_from_db()
    document, _created = issued_document_claim(
        source=application,
        generation=1,
        kind="ncr_certificate",
        title="无犯罪记录证明",
        title_en="Certificate of No Criminal Record",
        holder=application.applicant,
        holder_name=application.holder_name,
        issuing_office=application.office,
        valid_until=timezone.localdate() + datetime.timedelta(days=90),
    )
    return issued_document_store(document=document, pdf=b"%PDF-1.7\n% test\n%%EOF\n")


@pytest.mark.django_db
def test_detail_shows_the_certificate_code_and_download_once_issued(client, citizen, station_a):
    application = complete_draft(citizen, station_a)
    client.force_login(citizen)
    before = client.get(url("detail", application)).content.decode()
    assert 'data-testid="certificate-code"' not in before
    certificate = issue_certificate(application)
    response = client.get(url("detail", application))
    html = response.content.decode()
    assert certificate.code in html
    assert f'href="{reverse("verify:download", args=[certificate.code])}"' in html
    assert f'href="{reverse("verify:detail", args=[certificate.code])}"' in html
    download = client.get(reverse("verify:download", args=[certificate.code]))
    assert download.status_code == 200
    client.force_login(UserFactory())
    assert client.get(reverse("verify:download", args=[certificate.code])).status_code == 404
    client.force_login(citizen)
    assert_no_inline_code(response)


@pytest.mark.django_db
def test_detail_shows_where_to_collect_the_printed_copy(client, citizen, station_a, counter):
    application = complete_draft(citizen, station_a)
    Application.objects.filter(pk=application.pk).update(delivery=Delivery.COLLECT, collection_office=counter)
    issue_certificate(application)
    client.force_login(citizen)
    assert "Being printed" in client.get(url("detail", application)).content.decode()
    Application.objects.filter(pk=application.pk).update(paper_printed_at=timezone.now())
    html = client.get(url("detail", application)).content.decode()
    assert "Ready to collect at:" in html
    assert "Jinshui Road Counter" in html and "郑州市金水路 1 号" in html and "Mon-Fri 9:00-17:00" in html
    Application.objects.filter(pk=application.pk).update(paper_collected_at=timezone.now())
    assert "Collected on" in client.get(url("detail", application)).content.decode()


@pytest.mark.django_db
def test_detail_query_count_is_pinned(client, citizen, station_a, django_assert_max_num_queries):
    application = complete_draft(citizen, station_a)
    client.force_login(citizen)
    submit(client, application)
    issue_certificate(application)
    client.get(url("detail", application))  # warm the content-type cache
    # session, user, application (with both offices), documents, timeline, certificate, the header's unread messages,
    # the rating of the decided case (portal.feedback, 一事一评): never one per row
    with django_assert_max_num_queries(8):
        response = client.get(url("detail", application))
    assert response.status_code == 200


@pytest.mark.django_db
def test_detail_shows_a_provisional_due_date(client, citizen, station_a):
    application = complete_draft(citizen, station_a)
    Application.objects.filter(pk=application.pk).update(
        status=Status.ACCEPTED, due_date=datetime.date(2027, 1, 6), deadline_provisional=True
    )
    client.force_login(citizen)
    html = client.get(url("detail", application)).content.decode()
    assert 'datetime="2027-01-06"' in html and 'data-testid="provisional"' in html


# --- withdraw and delete ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_withdraw_asks_first_then_withdraws(client, citizen, station_a):
    application = complete_draft(citizen, station_a)
    client.force_login(citizen)
    submit(client, application)
    detail = client.get(url("detail", application)).content.decode()
    assert f'href="{url("withdraw", application)}"' in detail
    confirm = client.get(url("withdraw", application))
    assert confirm.status_code == 200 and 'data-testid="confirm-withdraw"' in confirm.content.decode()
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED  # a GET changes nothing
    response = client.post(url("withdraw", application))
    assert response["Location"] == url("detail", application)
    application.refresh_from_db()
    assert application.status == Status.WITHDRAWN
    assert client.get(url("withdraw", application))["Location"] == url("detail", application)


@pytest.mark.django_db
def test_a_draft_cannot_be_withdrawn_but_can_be_deleted(client, citizen, station_a):
    application = complete_draft(citizen, station_a)
    client.force_login(citizen)
    assert client.post(url("withdraw", application))["Location"] == url("detail", application)
    assert client.get(url("delete", application)).status_code == 200
    assert Application.objects.filter(pk=application.pk).exists()
    response = client.post(url("delete", application))
    assert response["Location"] == url("index")
    assert not Application.objects.filter(pk=application.pk).exists()
    assert not documents_for_case(application).exists()


# --- every page without inline code ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_page_renders_without_inline_script_or_style(client, citizen, station_a, counter):
    client.force_login(citizen)
    draft = complete_draft(citizen, station_a, for_self=False)
    sent = complete_draft(citizen, station_a)
    submit(client, sent)
    pages = [url("index"), url("apply")]
    pages += [url("section", draft, s) for s in SECTIONS]
    pages += [url("check", draft), url("detail", draft), url("delete", draft)]
    pages += [url("submitted", sent), url("detail", sent), url("withdraw", sent)]
    for address in pages:
        response = client.get(address)
        assert response.status_code == 200, address
        assert_no_inline_code(response)


@pytest.mark.django_db
def test_detail_shows_the_refusal_reason_and_notice(client, citizen, station_a):
    application = complete_draft(citizen, station_a)
    client.force_login(citizen)
    submit(client, application)
    Application.objects.filter(pk=application.pk).update(
        status=Status.REFUSED, refusal_reason="登记有未封存的犯罪记录。", certificate_generation=1
    )
    application.refresh_from_db()
    notice, _created = issued_document_claim(
        source=application,
        generation=1,
        kind=services.KIND_REFUSAL_NOTICE,
        title="不予出具无犯罪记录证明通知书",
        title_en="Notice of Refusal to Issue a Certificate of No Criminal Record",
        holder=citizen,
        holder_name=application.holder_name,
        issuing_office=station_a,
        valid_until=None,
    )
    html = client.get(url("detail", application)).content.decode()
    assert "登记有未封存的犯罪记录。" in html
    assert "being prepared" in html and 'data-testid="refusal-notice"' not in html
    issued_document_store(document=notice, pdf=b"%PDF-1.7\n% notice\n%%EOF\n")
    html = client.get(url("detail", application)).content.decode()
    assert f'href="{reverse("verify:download", args=[notice.code])}"' in html
    assert 'data-testid="certificate"' not in html  # a refusal notice is not a certificate
    assert f'href="{url("withdraw", application)}"' not in html


@pytest.mark.django_db
def test_detail_timeline_lists_each_step(client, no_mfa, citizen, station_a, officer_a):
    application = complete_draft(citizen, station_a)
    client.force_login(citizen)
    submit(client, application)
    application.refresh_from_db()
    services.application_accept(application=application, by=officer_a)
    html = client.get(url("detail", application)).content.decode()
    timeline = re.search(r'data-testid="timeline">(.*?)</ol>', html, re.S).group(1)
    assert timeline.index("Submitted, awaiting acceptance") < timeline.index("Accepted, under review")
    assert officer_a.username not in html  # the citizen sees the station, not the officer
    application.refresh_from_db()
    assert application.due_date and f'datetime="{application.due_date:%Y-%m-%d}"' in html


@pytest.mark.django_db
def test_pages_render_in_chinese_by_default(client, citizen, station_a):
    translation.activate("zh-hans")
    application = complete_draft(citizen, station_a)
    client.force_login(citizen)
    for address in (url("index"), url("section", application, "purpose"), url("check", application)):
        response = client.get(address, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200
        assert '<html lang="zh-hans"' in response.content.decode()


@pytest.mark.django_db
def test_my_applications_links_to_the_status_page(client, citizen, station_a):
    application = complete_draft(citizen, station_a)
    client.force_login(citizen)
    html = client.get(reverse("me")).content.decode()
    assert f'href="{url("detail", application)}"' in html


@pytest.mark.django_db
def test_a_draft_with_a_wrong_id_number_keeps_everything_typed_until_it_is_corrected(client, citizen, station_a):
    client.force_login(citizen)
    application = start(client, station_a, applying_for="agent")
    typed = {"action": "leave", "holder_name": "王大锤", "holder_id_type": "resident_id", "holder_id_number": "12345"}
    response = client.post(url("section", application, "holder"), typed)
    assert response["Location"] == url("index")
    application.refresh_from_db()
    assert application.kept_inputs["holder"]["data"]["holder_id_number"] == ["12345"]
    resumed = client.get(url("section", application, "holder")).content.decode()
    assert 'value="12345"' in resumed and 'value="王大锤"' in resumed and 'data-testid="kept-to-fix"' in resumed
    check = client.get(url("check", application)).content.decode()
    assert "18 characters" in check
    fixed = {**typed, "holder_id_number": "E12345678", "holder_id_type": "passport"}
    assert client.post(url("section", application, "holder"), fixed)["Location"] == url("index")
    application.refresh_from_db()
    assert application.kept_inputs == {} and application.holder_name == "王大锤"
