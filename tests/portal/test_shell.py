"""The shared shell: languages, large text, security headers, error pages, rate limit, health, no external URLs."""

import datetime
import re
from html.parser import HTMLParser

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import get_resolver, path, reverse
from django.utils import timezone, translation

from portal import registry
from portal import urls as portal_urls
from portal.cases import services as case_services
from tests.testapp.models import SampleCase

pytestmark = pytest.mark.django_db

SERVICE_KEYS = ("certificates", "familyplanning", "hukou")


@pytest.fixture
def en_client(client):
    """A client that chose English, for tests that read English sentences (the default UI is Chinese)."""
    client.cookies["portal_language"] = "en"
    return client


def real_services():
    found = {service.key: service for service in registry.services()}
    return [found[key] for key in SERVICE_KEYS]


def titles_in(language):
    with translation.override(language):
        return [str(service.title) for service in real_services()]


class _Links(HTMLParser):
    """Collects every URL-bearing attribute, inline <script> and style attribute of a page."""

    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "data"}

    def __init__(self):
        super().__init__()
        self.urls, self.inline_scripts, self.style_attributes, self._in_script = [], 0, 0, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.urls.extend(value for name, value in attrs.items() if name in self.URL_ATTRIBUTES and value)
        if "style" in attrs:
            self.style_attributes += 1
        self._in_script = tag == "script" and "src" not in attrs

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag):
        self._in_script = False


def parse(html):
    parser = _Links()
    parser.feed(html)
    return parser


# --- languages ----------------------------------------------------------------------------------


def test_home_is_chinese_by_default_with_the_three_services(client):
    response = client.get("/")  # the test client sends no Accept-Language
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans"' in html
    assert "河南政务服务网" in html
    # The switch offers the other language, in that language.
    assert re.search(r'<button[^>]*name="language" value="en"[^>]*>English</button>', html)
    assert "简体中文</button>" not in html
    for title in titles_in("zh-hans"):
        assert title in html
    assert html.count('class="card portal-service"') >= 3


def test_language_switch_posts_to_english_and_back_without_javascript(client):
    client.get("/")  # sets the CSRF cookie, like a browser would
    response = client.post(reverse("set_language"), {"language": "en", "next": "/certificates/"})
    assert response.status_code == 302
    assert response["Location"] == "/certificates/"
    assert client.cookies["portal_language"].value == "en"

    html = client.get("/").content.decode()
    assert '<html lang="en"' in html
    assert re.search(r'<button[^>]*name="language" value="zh-hans"[^>]*>简体中文</button>', html)
    for title in titles_in("en"):
        assert title in html
    assert "How online services work" in html

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans"' in client.get("/").content.decode()


def test_switch_forms_carry_the_current_path_as_next(client):
    html = client.get("/track/?from=qr").content.decode()
    assert html.count('name="next" value="/track/?from=qr"') == 2  # language and care mode


# --- care mode (长辈版), which replaced the large-text switch ----------------------------------------------------


def body_class(html):
    return re.search(r'<body class="([^"]*)"', html).group(1).split()


def care_button(html):
    return re.search(r'<button[^>]*data-testid="care-mode-switch"[^>]*>', html).group(0)


def test_care_cookie_adds_the_class_and_presses_the_switch(client):
    html = client.get("/").content.decode()
    assert "care-mode" not in body_class(html)
    assert 'aria-pressed="false"' in care_button(html) and 'value="on"' in care_button(html)
    client.cookies["portal_text"] = "care"
    html = client.get("/").content.decode()
    assert "care-mode" in body_class(html)
    assert '<html lang="zh-hans" class="care-mode">' in html
    assert 'aria-pressed="true"' in care_button(html) and 'value="off"' in care_button(html)


def test_the_old_large_text_cookie_means_care_mode(client):
    client.cookies["portal_text"] = "large"
    assert "care-mode" in body_class(client.get("/").content.decode())


def test_care_switch_sets_the_cookie_and_returns_to_the_page(client):
    response = client.post(reverse("care_mode"), {"care": "on", "next": "/hukou/"})
    assert response.status_code == 302
    assert response["Location"] == "/hukou/"
    cookie = client.cookies["portal_text"]
    assert cookie.value == "care" and cookie["max-age"] == 365 * 24 * 3600 and cookie["httponly"]
    assert "care-mode" in body_class(client.get("/hukou/").content.decode())

    client.post(reverse("care_mode"), {"care": "off", "next": "/hukou/"})
    assert "care-mode" not in body_class(client.get("/hukou/").content.decode())


def test_care_switch_answers_a_script_with_json(client):
    response = client.post(reverse("care_mode"), {"care": "on"}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json() == {"care_mode": True}
    assert client.cookies["portal_text"].value == "care"
    response = client.post(reverse("care_mode"), {"care": "off"}, headers={"Accept": "application/json"})
    assert response.json() == {"care_mode": False}
    assert "care-mode" not in body_class(client.get("/").content.decode())


def test_the_old_text_size_form_still_switches_care_mode_on(client):
    client.post(reverse("text_size"), {"size": "large", "next": "/"})
    assert "care-mode" in body_class(client.get("/").content.decode())


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/path", "http://testserver.evil.example/", "javascript:alert(1)"]
)
def test_care_switch_refuses_an_off_site_next(client, target):
    response = client.post(reverse("care_mode"), {"care": "on", "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_care_switch_needs_post(client):
    assert client.get(reverse("care_mode")).status_code == 405


# --- security headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [("/", 200), ("/track/", 200), ("/accounts/login/", 200), ("/no-such-page/", 404), ("/admin/login/", 200)],
)
def test_security_headers_on_every_page_type(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    csp = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]


# --- error pages --------------------------------------------------------------------------------


def test_404_is_in_the_shell(client):
    response = client.get("/certificates/no-such-thing/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "portal-nav" in html and "portal-footer" in html
    assert 'href="/track/"' in html
    assert 'name="language"' in html  # the language switch is on error pages too


def test_403_handler_renders_the_shell(rf):
    request = rf.get("/certificates/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    response = get_resolver().resolve_error_handler(403)(request, PermissionDenied())
    html = response.content.decode()
    assert response.status_code == 403
    assert "portal-nav" in html
    assert reverse("accounts:login") in html


def test_500_page_is_self_contained():
    """server_error renders without a request: the page must need no context processor, form or URL tag."""
    request = RequestFactory().get("/")
    response = get_resolver().resolve_error_handler(500)(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert "河南政务服务网" in html and "12345" in html
    assert "/static/css/portal.css" in html
    assert "<form" not in html and "{%" not in html


def test_a_crashing_view_gets_the_500_page(client, settings):
    """Through the whole stack: a view that raises answers with our 500 page, not a traceback."""
    client.raise_request_exception = False
    settings.ROOT_URLCONF = __name__  # this module's urlpatterns: the portal's plus /crash/
    response = client.get("/crash/")
    assert response.status_code == 500
    assert "河南政务服务网" in response.content.decode()


def _crash(request):
    raise RuntimeError("deliberate failure for the 500 page test")


urlpatterns = [path("crash/", _crash), *portal_urls.urlpatterns]
handler500 = portal_urls.handler500

# --- the shared pages ---------------------------------------------------------------------------


def test_me_empty_state_links_to_the_services_and_my_data(en_client, citizen):
    client = en_client
    client.force_login(citizen)
    html = client.get(reverse("me")).content.decode()
    assert "You have no applications yet." in html
    for service in real_services():
        assert f'href="{reverse(service.url_name)}"' in html
    assert f'href="{reverse("accounts:profile")}"' in html
    assert f'href="{reverse("accounts:my_data")}"' in html


def test_me_shows_case_number_status_due_date_and_the_masked_name(client, citizen, station_a):
    case = SampleCase.objects.create(
        case_number=case_services.next_case_number("TST"),
        applicant=citizen,
        office=station_a,
        status="submitted",
        due_date=datetime.date(2026, 10, 29),
    )
    client.force_login(citizen)
    html = client.get(reverse("me")).content.decode()
    assert case.case_number in html
    assert "Submitted" in html
    assert 'datetime="2026-10-29"' in html
    assert citizen.masked_name in html
    assert citizen.real_name not in html
    # Logging out is a POST form, never a link a prefetcher could follow.
    assert re.search(rf'<form action="{reverse("accounts:logout")}" method="post"', html)


def test_track_shows_the_timeline_of_a_found_case(client, citizen, station_a, officer_a):
    case = SampleCase.objects.create(
        case_number=case_services.next_case_number("TST"), applicant=citizen, office=station_a, status="submitted"
    )
    with time_machine.travel(datetime.datetime(2026, 9, 28, 10, 0, tzinfo=timezone.get_default_timezone())):
        case_services.transition(case, to="approved", by=officer_a, allowed_from=("submitted",))
    html = client.post(reverse("track"), {"case_number": case.case_number, "second_factor": citizen.id_number[-4:]})
    html = html.content.decode()
    assert 'class="portal-timeline"' in html
    assert 'datetime="2026-09-28T10:00:00+08:00"' in html
    assert "approved" in html


def test_track_not_found_says_only_that(en_client, citizen):
    client = en_client
    html = client.post(reverse("track"), {"case_number": "TST-20260101-00009", "second_factor": "123X"})
    html = html.content.decode()
    assert "No application matches these details." in html
    assert "portal-timeline" not in html


def test_track_is_rate_limited_per_address(en_client):
    client = en_client
    data = {"case_number": "TST-20260101-00001", "second_factor": "1234"}
    start = datetime.datetime(2026, 11, 24, 10, 0, 5, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(20):
            assert client.post(reverse("track"), data, REMOTE_ADDR="203.0.113.7").status_code == 200
        limited = client.post(reverse("track"), data, REMOTE_ADDR="203.0.113.7")
        assert limited.status_code == 429
        assert "Too many requests" in limited.content.decode()
        assert "No application matches" not in limited.content.decode()
        # Another client is not affected.
        assert client.post(reverse("track"), data, REMOTE_ADDR="198.51.100.2").status_code == 200
    with time_machine.travel(start + datetime.timedelta(seconds=60), tick=False):
        assert client.post(reverse("track"), data, REMOTE_ADDR="203.0.113.7").status_code == 200


def test_healthz_reports_the_database(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize("key", SERVICE_KEYS)
def test_service_guides_have_the_essentials(en_client, key):
    client = en_client
    html = client.get(f"/{key}/").content.decode()
    assert 'class="breadcrumb"' in html
    assert f'href="{reverse("accounts:register")}"' in html
    assert "12345" in html
    expected = {
        "certificates": ["3 working days", "same legal effect as a paper certificate", "358 × 441"],
        "familyplanning": ["Certificate of Honour for Parents of an Only Child", "Practice Licence"],
        "hukou": ["20 working days", "within 5 working days", "Permit to Move In"],
    }[key]
    for phrase in expected:
        assert phrase in html


# --- no external URLs, no inline code -----------------------------------------------------------

PAGES = ["/", "/track/", "/certificates/", "/familyplanning/", "/hukou/", "/no-such-page/", "/me/"]
OTHER_PAGES = ["/accounts/login/", "/accounts/register/", "/admin/login/"]


@pytest.fixture
def pages(client, citizen):
    def fetch(paths, logged_in):
        if logged_in:
            client.force_login(citizen)
        return {path: client.get(path).content.decode() for path in paths}

    return fetch


@pytest.mark.parametrize("logged_in", [False, True])
def test_no_page_references_an_external_url(pages, logged_in):
    for url_path, html in pages(PAGES + OTHER_PAGES, logged_in).items():
        for url in parse(html).urls:
            if url.startswith(("http://testserver/", "https://testserver/")):
                continue
            assert not re.match(r"^([a-z][a-z0-9+.-]*:)?//", url, re.I), f"{url_path} links to {url}"
            assert not url.lower().startswith(("http:", "https:")), f"{url_path} links to {url}"


@pytest.mark.parametrize("logged_in", [False, True])
def test_shell_pages_have_no_inline_script_or_style(pages, logged_in):
    """CSP forbids them; a violation would silently break the page in the browser."""
    for url_path, html in pages(PAGES, logged_in).items():
        found = parse(html)
        assert found.inline_scripts == 0, url_path
        assert found.style_attributes == 0, url_path
        assert "<style" not in html, url_path
