"""The verdict every verification opens with, the holder check, share codes, and the holder's pages after revocation.

docs/api/verify.md says what each answer carries; these tests hold the code page, the PDF upload (page and JSON) and
the code API to it.
"""

import datetime
import io
import json
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal import pdf as portal_pdf
from portal.notify.models import Channel, OutboxMessage
from portal.verify import issuing, lookup, pdfverify, schema, sharing
from portal.verify.codes import SHARE_LENGTH, normalize_code
from portal.verify.models import ShareCode, ShareCodeUse, VerificationLog
from tests.portal.verification import NOW, api, blank_pdf, drained, issue, page, upload

# The verification tests' fixtures (tests/portal/conftest.py), for every test as in test_verify.
pytestmark = pytest.mark.usefixtures("english", "media", "signing")

BORN = datetime.date(1990, 3, 7)
PUBLIC = "Issued on the basis of wrong information."
INTERNAL = "Internal: forged residence permit, file 2026-17."


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.VERIFY_HOLDER_RATE_LIMIT = (5, 900)


def issue_with_birth(case, **overrides):
    return issue(case, holder_birth_date=BORN, **overrides)


def first_alert(html: str) -> str:
    """The first alert in the page's main content: the tag with its classes, and its text."""
    main = html[html.index("<main") :]
    match = re.search(r'<div class="alert [^"]*"[^>]*>.*?</div>', main, re.S)
    assert match, "no alert"
    return match.group(0)


def assert_red(html: str, *words: str) -> None:
    alert = first_alert(html)
    assert "alert-danger" in alert and 'data-verdict="not_valid"' in alert, alert
    assert "Not valid" in alert and "✕" in alert
    for word in words:
        assert word in alert, (word, alert)
    # Nothing green anywhere on a not-valid answer.
    assert "alert-success" not in html and "text-success" not in html and "bg-success" not in html


def assert_green(html: str) -> None:
    alert = first_alert(html)
    assert "alert-success" in alert and 'data-verdict="valid"' in alert and "Valid, may be accepted" in alert


def upload_json(client, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("verify:api_pdf"), {"pdf": SimpleUploadedFile("c.pdf", data, content_type="application/pdf")}
    )


# --- the verdict on every surface ----------------------------------------------------------------------------


def test_valid_is_green_on_every_surface(client, case):
    document, signed = issue(case)
    assert_green(page(client, document.code).content.decode())
    assert_green(upload(client, signed).content.decode())
    data = api(client, document.code).json()
    assert (data["verdict"], data["reason"]) == ("valid", None)
    data = upload_json(client, signed).json()
    assert (data["verdict"], data["reason"], data["document"]["code"]) == ("valid", None, document.code)


def test_revoked_is_red_with_the_date_and_public_reason_on_every_surface(client, case, officer_a):
    document, signed = issue(case)
    with time_machine.travel(NOW, tick=False):
        issuing.issued_document_revoke(document=document, by=officer_a, reason=INTERNAL, public_reason=PUBLIC)
    for html in (page(client, document.code).content.decode(), upload(client, signed).content.decode()):
        assert_red(html, "revoked on 6 May 2026", PUBLIC)
        assert INTERNAL not in html
    data = api(client, document.code).json()
    assert data["verdict"] == "not_valid" and data["reason"] == "revoked" and data["public_reason"] == PUBLIC
    assert "6 May 2026" in data["reason_text"] and INTERNAL not in json.dumps(data)
    assert data["state"] == "revoked" and data["revoked_on"] == "2026-05-06"  # version 1's fields stay
    data = upload_json(client, signed).json()
    assert (data["verdict"], data["reason"], data["result"]) == ("not_valid", "revoked", "genuine")


def test_superseded_says_so(client, case, officer_a):
    document, signed = issue(case)
    issuing.issued_document_revoke(document=document, by=officer_a, reason="reissued", superseded=True)
    assert_red(page(client, document.code).content.decode(), "superseded by a newer document")
    assert api(client, document.code).json()["reason"] == "superseded"
    assert upload_json(client, signed).json()["reason"] == "superseded"


def test_expired_is_red_on_every_surface(client, case):
    with time_machine.travel(NOW, tick=False):
        document, signed = issue(case, valid_until=datetime.date(2026, 8, 6))
    with time_machine.travel(datetime.datetime(2026, 8, 7, 9, 0, tzinfo=NOW.tzinfo), tick=False):
        assert_red(page(client, document.code).content.decode(), "expired", "6 August 2026")
        assert_red(upload(client, signed).content.decode(), "expired")
        assert api(client, document.code).json()["reason"] == "expired"
        assert upload_json(client, signed).json()["reason"] == "expired"


def test_unknown_code_is_red(client, db):
    response = page(client, "ABCD-EFGH-JKMN-PQRS-TVWX")
    assert response.status_code == 404
    assert_red(response.content.decode(), "no document with this code")
    assert api(client, "ABCD-EFGH-JKMN-PQRS-TVWX").json()["reason"] == "unknown_code"


def test_altered_pdf_is_red_on_the_upload_page_and_json(client, case):
    _, signed = issue(case)
    altered = bytearray(signed)
    altered[len(signed) // 4] ^= 0x01
    assert_red(upload(client, bytes(altered)).content.decode(), "changed after it was signed")
    data = upload_json(client, bytes(altered)).json()
    assert (data["verdict"], data["reason"], data["document"]) == ("not_valid", "altered", None)


def test_bytes_appended_after_the_signature_are_a_change_after_signing(client, case):
    _, signed = issue(case)
    for tail in (b"\n% a note added later\n", b"\n%%EOF\n", b"1 0 obj\n(forged)\nendobj\n"):
        appended = signed + tail
        outcome = pdfverify.verify_pdf(pdf=appended, ip=None)
        assert outcome.changed_after_signing and outcome.reason == "altered" and not outcome.valid, tail
        html = upload(client, appended).content.decode()
        assert_red(html, "changed after it was signed")
        assert "the signature checks out, but the file was changed after it was signed" in html
        assert "broken" not in html


def test_an_incremental_update_after_the_signature_is_a_change(client, case):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    _, signed = issue(case)
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    outcome = pdfverify.verify_pdf(pdf=out.getvalue(), ip=None)
    assert outcome.changed_after_signing and outcome.reason == "altered"


def test_a_dss_added_after_signing_is_no_change(client, case):
    """PAdES B-LT/B-LTA add a DSS (and document timestamps) as incremental updates: the document is unaltered."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    from portal.verify.pdfcheck import Changes, revision_changes

    document, _ = issuing.issued_document_claim(
        source=case,
        generation=1,
        kind="ncr_certificate",
        title="无犯罪记录证明",
        title_en="Certificate of No Criminal Record",
        holder=case.applicant,
        holder_name=case.applicant.real_name,
        issuing_office=case.office,
        valid_until=timezone.localdate() + datetime.timedelta(days=90),
    )
    signed = portal_pdf.sign_pdf(blank_pdf("dss"), reason="test")
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    DocumentSecurityStore.supply_dss_in_writer(writer, sig_contents=None, certs=[portal_pdf.signing_certificate()])
    out = io.BytesIO()
    writer.write(out)
    extended = out.getvalue()
    assert len(extended) > len(signed) and extended.startswith(signed)
    issuing.issued_document_store(document=document, pdf=extended)
    assert revision_changes(extended) == Changes.LTA_ONLY
    outcome = pdfverify.verify_pdf(pdf=extended, ip=None)
    assert outcome.genuine and outcome.valid and not outcome.changed_after_signing
    assert_green(upload(client, extended).content.decode())
    # ... and bytes appended after the DSS are still a change.
    assert pdfverify.verify_pdf(pdf=extended + b"\nappended\n", ip=None).reason == "altered"


def test_a_pdf_not_issued_here(client, case, settings, foreign_keys, keys):
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = map(str, foreign_keys)
    forged = portal_pdf.sign_pdf(blank_pdf("forged"), reason="forged")
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = map(str, keys)
    assert_red(upload(client, forged).content.decode(), "not issued by this portal")
    assert upload_json(client, forged).json()["reason"] == "not_issued_here"
    assert upload_json(client, blank_pdf("unsigned")).json()["reason"] == "not_issued_here"


# --- the published schema ------------------------------------------------------------------------------------


def conforms(value, node, components):
    """A small JSON Schema check for what schema.py uses: $ref, oneOf, type (with null), enum, required,
    properties and additionalProperties. Returns the list of problems."""
    if "$ref" in node:
        return conforms(value, components[node["$ref"].rsplit("/", 1)[1]], components)
    if "oneOf" in node:
        matches = [n for n in node["oneOf"] if not conforms(value, n, components)]
        return [] if len(matches) == 1 else [f"{value!r}: {len(matches)} of oneOf match"]
    problems = []
    types = node.get("type")
    if types:
        names = {"string": str, "boolean": bool, "object": dict, "null": type(None)}
        allowed = tuple(names[t] for t in ([types] if isinstance(types, str) else types))
        if not isinstance(value, allowed):
            return [f"{value!r} is not {types}"]
    if "enum" in node and value not in node["enum"]:
        problems.append(f"{value!r} not in {node['enum']}")
    if isinstance(value, dict):
        problems += [f"missing {name}" for name in node.get("required", []) if name not in value]
        properties = node.get("properties", {})
        if node.get("additionalProperties") is False:
            problems += [f"unexpected {name}" for name in value if name not in properties]
        for name, sub in properties.items():
            if name in value:
                problems += [f"{name}: {p}" for p in conforms(value[name], sub, components)]
    return problems


def test_openapi_document_is_served_versioned(client, db):
    response = client.get("/api/verify/openapi.json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    document = response.json()
    assert document["openapi"].startswith("3.1") and document["info"]["version"] == "2"
    assert {"/api/verify/{code}/", "/api/verify/pdf/"} <= set(document["paths"])
    assert set(document["components"]["schemas"]["Verification"]["properties"]["reason"]["enum"]) - {None} == set(
        lookup.Reason.ALL
    )


def test_live_answers_match_the_published_schema(client, case, officer_a):
    components = client.get("/api/verify/openapi.json").json()["components"]["schemas"]
    valid, signed = issue(case)
    answers = [api(client, valid.code), api(client, "ABCD-EFGH-JKMN-PQRS-TVWX")]
    answers.append(upload_json(client, signed))
    answers.append(upload_json(client, signed + b"junk"))
    issuing.issued_document_revoke(document=valid, by=officer_a, reason="x", public_reason=PUBLIC)
    answers += [api(client, valid.code), upload_json(client, signed)]
    for response in answers:
        data = response.json()
        name = "PdfVerification" if "signed" in data else "Verification"
        assert conforms(data, components[name], components) == [], data
        for field in components[name]["required"]:
            assert field in data
    assert schema.API_VERSION == schema.openapi_document()["info"]["version"] == "2"


# --- binding the code to the holder --------------------------------------------------------------------------


def check_holder(client, code, name, born, ip="203.0.113.1"):
    return client.post(page_url(code), {"name": name, "birth_date": born}, REMOTE_ADDR=ip)


def page_url(code):
    return reverse("verify:detail", args=[code])


def test_the_right_name_and_birth_date_match_and_show_the_full_name(client, case, holder):
    document, _ = issue_with_birth(case)
    html = page(client, document.code).content.decode()
    assert "王*明" in html and "王小明" not in html and 'data-testid="holder-check"' in html
    for name, born in (("王小明", "1990-03-07"), (" 王 小明 ", "19900307"), ("王小明", "１９９０-０３-０７")):
        response = check_holder(client, document.code, name, born)
        body = response.content.decode()
        assert response.status_code == 200 and 'data-holder="match"' in body, (name, born)
        assert 'data-testid="holder-full-name">王小明<' in body
    assert_green(body)  # the verdict still opens the page


def test_names_with_a_middle_dot_or_its_look_alikes_match(client, case, holder):
    document, _ = issue_with_birth(case, holder_name="阿依古丽·买买提")
    for typed in ("阿依古丽·买买提", "阿依古丽・买买提", "阿依古丽•买买提", "阿依古丽 买买提", "阿依古丽买买提"):
        assert 'data-holder="match"' in check_holder(client, document.code, typed, "1990-03-07").content.decode()
    assert sharing.normalize_name("Maria  Müller") == sharing.normalize_name("maria müller")


def test_a_wrong_name_or_birth_date_does_not_match_and_never_says_which(client, case, holder, settings):
    settings.VERIFY_HOLDER_RATE_LIMIT = (50, 900)
    document, _ = issue_with_birth(case)
    answers = []
    for name, born in (("王小红", "1990-03-07"), ("王小明", "1990-03-08"), ("李小明", "19910101")):
        response = check_holder(client, document.code, name, born)
        body = response.content.decode()
        assert response.status_code == 200 and 'data-holder="mismatch"' in body
        assert "王小明" not in body.replace('value="王小明"', "")  # only what was typed is echoed
        answers.append(re.search(r'data-holder="mismatch">(.*?)</div>', body, re.S).group(1))
    assert len(set(answers)) == 1  # the same words whichever part was wrong
    drained()
    logged = list(VerificationLog.objects.filter(channel="holder").values_list("result", flat=True))
    assert logged == ["mismatch"] * 3
    check_holder(client, document.code, "王小明", "1990-03-07")
    drained()
    assert VerificationLog.objects.filter(channel="holder", result="match", document=document).count() == 1
    # The log keeps the result, never what was typed.
    assert not any("王" in str(v) for v in VerificationLog.objects.values_list("result", "client_ip"))


def test_a_malformed_birth_date_is_a_form_error_and_keeps_the_name(client, case):
    document, _ = issue_with_birth(case)
    response = check_holder(client, document.code, "王小明", "7/3/1990")
    body = response.content.decode()
    assert response.status_code == 400 and "YYYY-MM-DD or as 8 digits" in body and 'value="王小明"' in body


def test_guessing_is_throttled_per_code_across_addresses(client, case):
    document, _ = issue_with_birth(case)
    for i in range(5):
        assert (
            check_holder(client, document.code, "王小明", f"1990-01-0{i + 1}", ip=f"198.51.100.{i}").status_code == 200
        )
    sixth = check_holder(client, document.code, "王小明", "1990-03-07", ip="198.51.100.99")
    assert sixth.status_code == 429 and "Retry-After" in sixth
    # The plain look-up of the same code from a fresh address is not affected.
    assert api(client, document.code, REMOTE_ADDR="198.51.100.99").status_code == 200


def test_guessing_is_throttled_per_address_across_codes(client, station_a, holder):
    from portal.cases.services import next_case_number
    from tests.testapp.models import SampleCase

    codes = []
    for _ in range(6):
        other = SampleCase.objects.create(case_number=next_case_number("TST"), applicant=holder, office=station_a)
        codes.append(issue_with_birth(other)[0].code)
    for code in codes[:5]:
        assert check_holder(client, code, "王小明", "1990-01-01", ip="192.0.2.5").status_code == 200
    assert check_holder(client, codes[5], "王小明", "1990-01-01", ip="192.0.2.5").status_code == 429


def test_the_plain_api_path_reads_no_holder_or_share_table(client, case, holder, settings):
    settings.VERIFY_CACHE_SECONDS = 0  # the database look-up itself, not the row cache (services tier: Redis)
    document, _ = issue_with_birth(case)
    sharing.share_code_create(document=document, holder=holder, organisation="某公司", purpose="入职")
    api(client, document.code)  # warm
    with CaptureQueriesContext(connection) as captured:
        assert api(client, document.code).status_code == 200
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert "verify_sharecode" not in sql and "accounts_user" not in sql
    # One look-up (a prepared statement's EXECUTE on PostgreSQL), as before share codes and holder checks existed.
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith(("SELECT", "EXECUTE"))]
    assert len(reads) == 1, reads


# --- share codes ---------------------------------------------------------------------------------------------


def create_share(client, document, organisation="郑州某科技有限公司", purpose="入职背景调查", days="30"):
    return client.post(
        reverse("verify:share_create"),
        {"document": document.code, "organisation": organisation, "purpose": purpose, "days": days},
    )


def use_share(client, code, born="1990-03-07", organisation="郑州某科技有限公司人事部", email="", ip="203.0.113.7"):
    return client.post(
        reverse("verify:share"),
        {"code": code, "birth_date": born, "organisation": organisation, "notify_email": email},
        REMOTE_ADDR=ip,
    )


def new_code_from_me(client):
    html = client.get(reverse("me")).content.decode()
    match = re.search(
        r'data-testid="new-share-code">.*?<p class="portal-case-number[^"]*">([0-9A-Z-]+)</p>', html, re.S
    )
    return match.group(1) if match else None


def test_create_use_see_the_log_and_cancel(client, case, holder):
    document, _ = issue_with_birth(case)
    client.force_login(holder)
    response = create_share(client, document)
    assert response.status_code == 302 and response["Location"].startswith(reverse("me"))
    code = new_code_from_me(client)
    assert code and normalize_code(code, SHARE_LENGTH) == code and len(code.replace("-", "")) == 24
    assert new_code_from_me(client) is None  # shown once
    share = ShareCode.objects.get()
    assert share.code_hash != code and code not in share.code_hash and share.code_hint == code[-4:]
    assert share.expires_at - share.created_at == datetime.timedelta(days=30)

    other = client.__class__()
    other.cookies["portal_language"] = "en"
    response = use_share(other, code.replace("-", "").lower(), born="19900307")
    body = response.content.decode()
    assert response.status_code == 200
    assert_green(body)
    for shown in ("王小明", "Certificate of No Criminal Record", "入职背景调查", "郑州某科技有限公司", document.code):
        assert shown in body, shown
    assert use_share(other, code, born="1990-03-08", organisation="某猎头").status_code == 404

    html = client.get(reverse("me")).content.decode()
    uses = re.search(r'data-testid="share-uses">(.*?)</ul>', html, re.S).group(1)
    assert "郑州某科技有限公司人事部" in uses and "某猎头" in uses and "wrong date of birth" in uses
    assert [u.matched for u in ShareCodeUse.objects.order_by("at")] == [True, False]

    response = client.post(reverse("verify:share_cancel", args=[share.pk]))
    assert response.status_code == 302
    share.refresh_from_db()
    assert share.cancelled_at is not None
    response = use_share(other, code)
    assert response.status_code == 404 and 'data-verdict="no_match"' in response.content.decode()
    assert "王小明" not in response.content.decode()


def test_a_share_code_expires(client, case, holder):
    document, _ = issue_with_birth(case, valid_until=datetime.date(2027, 12, 31))
    with time_machine.travel(NOW, tick=False):
        _, code = sharing.share_code_create(
            document=document, holder=holder, organisation="某大学", purpose="入学", days=7
        )
    with time_machine.travel(NOW + datetime.timedelta(days=6, hours=23), tick=False):
        assert use_share(client, code).status_code == 200
    with time_machine.travel(NOW + datetime.timedelta(days=7, minutes=1), tick=False):
        assert use_share(client, code).status_code == 404
        client.force_login(holder)
        assert "Expired on" in client.get(reverse("me")).content.decode()


def test_share_codes_are_for_the_holders_valid_documents_up_to_30_days(client, case, holder, officer_a):
    document, _ = issue_with_birth(case)
    client.force_login(holder)
    response = create_share(client, document, days="31")
    assert response.status_code == 302 and ShareCode.objects.count() == 0
    html = client.get(reverse("me")).content.decode()
    assert "Ensure this value is less than or equal to 30" in html and 'value="郑州某科技有限公司"' in html
    stranger = type(holder).objects.exclude(pk=holder.pk).first() or officer_a
    with pytest.raises(Exception, match="not issued to you"):
        sharing.share_code_create(document=document, holder=stranger, organisation="x", purpose="y")
    issuing.issued_document_revoke(document=document, by=officer_a, reason="x", public_reason=PUBLIC)
    with pytest.raises(Exception, match="Only a valid document"):
        sharing.share_code_create(document=document, holder=holder, organisation="x", purpose="y")
    assert client.post(reverse("verify:share_cancel", args=[999])).status_code == 404


def test_share_code_guessing_is_throttled_per_code(client, case, holder):
    document, _ = issue_with_birth(case)
    _, code = sharing.share_code_create(document=document, holder=holder, organisation="x", purpose="y")
    for i in range(5):
        assert use_share(client, code, born=f"1990-01-0{i + 1}", ip=f"198.51.100.{i}").status_code == 404
    assert use_share(client, code, ip="198.51.100.50").status_code == 429


def test_revocation_tells_each_subscribed_organisation_once(client, case, holder, officer_a):
    document, _ = issue_with_birth(case)
    _, first = sharing.share_code_create(document=document, holder=holder, organisation="甲公司", purpose="入职")
    _, second = sharing.share_code_create(document=document, holder=holder, organisation="乙大学", purpose="入学")
    cancelled, third = sharing.share_code_create(document=document, holder=holder, organisation="丙", purpose="z")
    use_share(client, first, email="hr@jia.example")
    use_share(client, first, email="HR@jia.example")  # the same address again
    use_share(client, second, email="admissions@yi.example")
    use_share(client, second)  # no address: nobody to tell
    use_share(client, second, born="1999-01-01", email="wrong@guess.example")  # no match: never subscribed
    use_share(client, third, email="bing@bing.example")
    sharing.share_code_cancel(share=cancelled, holder=holder)
    OutboxMessage.objects.all().delete()

    with time_machine.travel(NOW, tick=False):
        issuing.issued_document_revoke(document=document, by=officer_a, reason=INTERNAL, public_reason=PUBLIC)
    sent = OutboxMessage.objects.filter(template="verify/share_revoked", channel=Channel.EMAIL)
    assert sorted(m.to.lower() for m in sent) == ["admissions@yi.example", "hr@jia.example"]
    body = sent.get(to="admissions@yi.example").body
    assert document.code in body and PUBLIC in body and "2026-05-06" in body and INTERNAL not in body
    # Revoking again (a no-op) tells nobody again.
    issuing.issued_document_revoke(document=document, by=officer_a, reason="again")
    assert OutboxMessage.objects.filter(template="verify/share_revoked").count() == 2


def test_an_expired_share_code_subscriber_is_not_told(client, case, holder, officer_a):
    document, _ = issue_with_birth(case, valid_until=datetime.date(2027, 12, 31))
    with time_machine.travel(NOW, tick=False):
        _, code = sharing.share_code_create(document=document, holder=holder, organisation="甲", purpose="入职", days=2)
        use_share(client, code, email="hr@jia.example")
    with time_machine.travel(NOW + datetime.timedelta(days=3), tick=False):
        issuing.issued_document_revoke(document=document, by=officer_a, reason="x", public_reason=PUBLIC)
    assert not OutboxMessage.objects.filter(template="verify/share_revoked").exists()
