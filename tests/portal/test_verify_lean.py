"""The lean verification path: the row cache and revocation (rowcache.py), the middleware that steps aside for the
public page and API (portal.middleware.lean_view), the page's cached fragment, and the log kept exactly once."""

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.context_processors import CARE_COOKIE
from portal.verify import issuing, lookup, rowcache
from portal.verify.models import DocumentStatus, IssuedDocument, VerificationLog
from tests.portal.verification import api, claim, drained, issue, page

pytestmark = pytest.mark.usefixtures("media", "signing")


@pytest.fixture
def row_cache(settings):
    settings.VERIFY_CACHE_SECONDS = 60
    return settings


def cached(code):
    return rowcache.peek(code)  # Redis in the services tier, the Django cache without it


def test_a_found_code_is_cached_and_answered_without_the_database(client, case, row_cache):
    document, _ = issue(case)
    assert api(client, document.code).json()["verdict"] == "valid"
    assert cached(document.code)["status"] == DocumentStatus.VALID
    with CaptureQueriesContext(connection) as queries:
        assert api(client, document.code).json()["verdict"] == "valid"
    assert not [q for q in queries if "verify_issueddocument" in q["sql"] and "SELECT" in q["sql"]]


def test_unknown_codes_and_documents_being_issued_are_not_cached(client, case, row_cache):
    generating, _ = claim(case)
    assert api(client, generating.code).json()["state"] == "generating"
    assert cached(generating.code) is None
    assert api(client, "ABCD-EFGH-JKMN-PQRS-TVWX").status_code == 404
    assert cached("ABCD-EFGH-JKMN-PQRS-TVWX") is None


def test_a_revocation_with_the_cache_warm_is_answered_revoked(client, case, officer_a, row_cache):
    document, _ = issue(case)
    assert api(client, document.code).json()["verdict"] == "valid"
    assert 'data-state="valid"' in page(client, document.code).content.decode()  # the page's fragment cached too
    assert cached(document.code)["status"] == DocumentStatus.VALID
    issuing.issued_document_revoke(document=document, by=officer_a, reason="forged", public_reason="Reported lost")
    assert cached(document.code) == rowcache.HOLD
    data = api(client, document.code).json()
    assert (data["verdict"], data["state"]) == ("not_valid", "revoked")
    body = page(client, document.code).content.decode()
    assert 'data-state="revoked"' in body and 'data-state="valid"' not in body
    # The marker stays: later readers go on reading the database rather than caching anything for this code.
    assert api(client, document.code).json()["state"] == "revoked"
    assert cached(document.code) == rowcache.HOLD


def test_a_reader_that_read_before_the_revocation_cannot_cache_valid_after_it(case, officer_a, row_cache):
    """The race: a reader reads the row (still valid), the revocation commits, then the reader would cache it."""
    document, _ = issue(case)
    real = lookup._lookup_by_code

    def read_then_revocation_commits(code):
        row = real(code)  # read while valid
        assert row["status"] == DocumentStatus.VALID
        issuing.issued_document_revoke(document=document, by=officer_a, reason="forged")
        return row

    # This reader answers what it read, as any reader whose read came first; but it leaves nothing in the cache.
    stale = rowcache.cached_row(document.code, read_then_revocation_commits)
    assert stale["status"] == DocumentStatus.VALID
    assert cached(document.code) == rowcache.HOLD
    assert lookup.verification_result(code=document.code).state == "revoked"


def test_a_reader_slower_than_the_marker_does_not_cache(case, row_cache, monkeypatch):
    document, _ = issue(case)
    calls = []

    def clock():  # before the get 0, then (after the read) an hour later
        calls.append(1)
        return 0.0 if len(calls) == 1 else float(rowcache.HOLD_SECONDS)

    monkeypatch.setattr(rowcache, "monotonic", clock)
    assert rowcache.cached_row(document.code, lookup._lookup_by_code)["status"] == DocumentStatus.VALID
    assert cached(document.code) is None


def test_during_the_revocations_transaction_readers_do_not_cache(case, officer_a, row_cache):
    document, _ = issue(case)
    with transaction.atomic():
        rowcache.hold(document.code)
        # A reader now (it sees the committed row, still valid) reads the database and leaves the marker alone.
        assert rowcache.cached_row(document.code, lookup._lookup_by_code) is not None
        assert cached(document.code) == rowcache.HOLD


def test_a_revocation_the_cache_cannot_be_told_of_is_refused(case, officer_a, row_cache, monkeypatch):
    document, _ = issue(case)

    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(rowcache.cache, "set", down)
    with pytest.raises(ConnectionError):
        issuing.issued_document_revoke(document=document, by=officer_a, reason="forged")
    assert IssuedDocument.objects.get(pk=document.pk).status == DocumentStatus.VALID


def test_an_unreadable_cache_falls_back_to_the_database(case, row_cache, monkeypatch):
    document, _ = issue(case)

    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(rowcache.cache, "get", down)
    monkeypatch.setattr(rowcache.cache, "add", down)
    assert rowcache.cached_row(document.code, lookup._lookup_by_code)["status"] == DocumentStatus.VALID


def test_every_verification_is_logged_once_with_the_cache_warm(client, case, row_cache):
    document, _ = issue(case)
    for _ in range(3):
        assert api(client, document.code).status_code == 200
    assert page(client, document.code).status_code == 200
    drained()  # the services tier buffers the log in Redis
    assert VerificationLog.objects.filter(document=document).count() == 4
    assert IssuedDocument.objects.get(pk=document.pk).verification_count == 4


# --- the middleware steps aside -----------------------------------------------------------------------------------


def test_the_page_and_api_read_no_session_and_set_no_session_cookie(client, case, holder):
    document, _ = issue(case)
    client.force_login(holder)  # a signed-in visitor's session cookie is sent, and ignored
    for url in (reverse("verify:detail", args=[document.code]), reverse("verify:api", args=[document.code])):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        assert not [q["sql"] for q in queries if "django_session" in q["sql"] or "accounts_user" in q["sql"]]
        assert "sessionid" not in response.cookies and "messages" not in response.cookies
        if url.startswith("/api/"):
            assert "Cookie" not in response.get("Vary", "")  # nothing in the answer depends on a cookie
    # Elsewhere the session still works: the same client is still signed in on /me/.
    assert client.get(reverse("me")).status_code == 200


def test_an_anonymous_visitor_gets_no_session_either(client, case):
    document, _ = issue(case)
    response = page(client, document.code)
    assert response.status_code == 200 and "sessionid" not in response.cookies
    assert "csrftoken" in response.cookies  # the holder check's form posts


def test_the_page_follows_the_language_cookie_and_accept_language(client, case):
    document, _ = issue(case)
    assert "有效，可以采信" in page(client, document.code).content.decode()  # the default: Simplified Chinese
    english = client.get(reverse("verify:detail", args=[document.code]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Valid, may be accepted" in english.content.decode()
    client.cookies["portal_language"] = "en"
    assert "Valid, may be accepted" in page(client, document.code).content.decode()
    assert api(client, document.code).json()["reason_text"].startswith("Valid, may be accepted")


def test_the_holder_check_still_needs_its_csrf_token(case):
    from django.test import Client

    document, _ = issue(case)
    client = Client(enforce_csrf_checks=True)
    url = reverse("verify:detail", args=[document.code])
    form = {"name": case.applicant.real_name, "birth_date": "1990-01-01"}
    assert client.post(url, form).status_code == 403
    client.get(url)
    token = client.cookies["csrftoken"].value
    assert client.post(url, form, HTTP_X_CSRFTOKEN=token).status_code in (200, 400)


# --- the whole page cached (pagecache.py) --------------------------------------------------------------------------


def csrf_tokens(response):
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())


def test_the_page_is_rendered_once_and_each_answer_gets_its_own_csrf_token(client, case):
    document, _ = issue(case)
    first = page(client, document.code)
    assert first.status_code == 200 and "verify/_detail_result.html" in [t.name for t in first.templates]
    second = page(client, document.code)
    assert second.status_code == 200 and not second.templates  # the shell and the verdict kept: nothing rendered
    assert len(csrf_tokens(second)) == 3  # the two switches and the holder check
    assert not set(csrf_tokens(first)) & set(csrf_tokens(second))  # masked anew for every answer
    assert "csrf-slot" not in second.content.decode()
    assert "csrftoken" in second.cookies
    without_tokens = [re.sub(r'csrfmiddlewaretoken" value="[^"]+"', "", r.content.decode()) for r in (first, second)]
    assert without_tokens[0] == without_tokens[1]


def test_the_cached_page_posts_the_holder_check_with_its_token(case):
    from django.test import Client

    document, _ = issue(case)
    url = reverse("verify:detail", args=[document.code])
    page(Client(), document.code)  # cached by another visitor
    client = Client(enforce_csrf_checks=True)
    response = client.get(url)
    assert not response.templates
    form = {
        "name": case.applicant.real_name,
        "birth_date": "1990-01-01",
        "csrfmiddlewaretoken": csrf_tokens(response)[-1],
    }
    assert client.post(url, form).status_code in (200, 400)


def test_pages_of_two_codes_share_the_shell_each_with_its_own_code_and_verdict(client, case, officer_a):
    revoked, _ = issue(case)
    valid, _ = issue(case, generation=2)
    revoked.refresh_from_db()
    if revoked.status == DocumentStatus.VALID:  # not superseded by the second one
        issuing.issued_document_revoke(document=revoked, by=officer_a, reason="forged")
    for document, state in ((valid, "valid"), (revoked, "revoked")):
        for _ in range(2):
            response = page(client, document.code)
            body = response.content.decode()
            assert f'data-state="{state}"' in body and document.code in body
            url = reverse("verify:detail", args=[document.code])
            assert f'action="{url}"' in body and body.count(f'name="next" value="{url}"') == 2
            assert "slot-" not in body
            assert ("有效，可以采信" in body) == (state == "valid")
    assert valid.code not in page(client, revoked.code).content.decode()


def test_a_cached_valid_page_is_never_shown_after_the_revocation(client, case, officer_a):
    document, _ = issue(case)
    page(client, document.code)
    warm = page(client, document.code)
    assert not warm.templates and 'data-state="valid"' in warm.content.decode()
    issuing.issued_document_revoke(document=document, by=officer_a, reason="forged", public_reason="Reported lost")
    for _ in range(2):  # rendered, then from the cache: revoked both times
        body = page(client, document.code).content.decode()
        assert 'data-state="revoked"' in body and 'data-state="valid"' not in body


def test_the_cached_page_follows_the_language_and_care_mode(client, case):
    document, _ = issue(case)
    for _ in range(2):
        assert "有效，可以采信" in page(client, document.code).content.decode()
    client.cookies["portal_language"] = "en"
    english = page(client, document.code)
    assert "Valid, may be accepted" in english.content.decode() and english.templates
    client.cookies[CARE_COOKIE] = "care"
    care = page(client, document.code)
    assert care.templates and 'class="care-mode"' in care.content.decode()
    assert 'class="care-mode"' in page(client, document.code).content.decode()


def test_a_page_asked_with_a_query_string_is_rendered_not_cached(client, case):
    document, _ = issue(case)
    url = reverse("verify:detail", args=[document.code]) + "?from=qr"
    for _ in range(2):
        response = client.get(url)
        assert response.templates and "?from=qr" in response.content.decode()  # the switches send it back
