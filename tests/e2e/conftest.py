"""Browser tests: Playwright (sync API) on Debian's Chromium against pytest-django's live server.

Never `playwright install`: the browser is the system's /usr/bin/chromium. Screenshots go to
tests/artifacts/screenshots/ (gitignored) through `shot(page, name)`.
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# The portal's audience: a browser asking for Chinese first (Django maps zh-CN to zh-hans).
DEFAULT_LOCALE = "zh-CN"


@pytest.fixture(autouse=True, scope="module")
def _orm_calls_beside_playwright():
    """Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls from it
    (SynchronousOnlyOperation) although they are ordinary blocking calls here. Allowed only while a browser module
    runs: set for the whole process, the variable would reach other tests' deployment checks (async.E001) and the
    workers and servers they start."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM}")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


# Per module, not per session: the sync API keeps an asyncio loop running in this thread while it is open, and a
# later non-browser test in the same process that calls asyncio.run() (PDF signing) would fail.
@pytest.fixture(scope="module")
def _playwright(django_db_setup):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API switches the test code into a greenlet with its own context, and Django's
    # connection handler is context-local: from here on the tests get new DatabaseWrapper objects that lack
    # the migrations' data serialized at database set-up, so serialized rollback would silently restore
    # nothing. Carry it over.
    serialized = {alias: getattr(connections[alias], "_test_serialized_contents", None) for alias in connections}
    with sync_playwright() as p:
        for alias, contents in serialized.items():
            if contents is not None:
                connections[alias]._test_serialized_contents = contents
        yield p


@pytest.fixture(scope="module")
def browser(_playwright):
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, started with a MEDIA_URL string.

    The portal sets MEDIA_URL = None (private files are never under a URL), but Django's LiveServerThread
    wraps the site in a media-file handler that calls urlparse(MEDIA_URL) and then fails on every request.
    The path given here is routed nowhere; the setting is restored once the server is up.
    """
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    addr = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    with override_settings(MEDIA_URL="/__private-files-are-not-served__/"):
        server = LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture
def site(live_server, django_db_serialized_rollback):
    """The live server's base URL. Transactional, with the migrations' data (offices) restored after each test."""
    return live_server.url


def _new_page(browser, site, **options):
    options.setdefault("locale", DEFAULT_LOCALE)
    context = browser.new_context(base_url=site, **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    # A CSP violation or a script error shows up here; tests may assert the list is empty.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    return context, page


@pytest.fixture
def page(browser, site):
    """A desktop-sized page in a fresh context (own cookies) for each test."""
    context, page = _new_page(browser, site, viewport={"width": 1280, "height": 900})
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, site):
    """A 360 px wide phone, in a fresh context."""
    context, page = _new_page(
        browser, site, viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    yield page
    context.close()


@pytest.fixture
def new_page(browser, site):
    """A factory for pages with other context options, e.g. new_page(java_script_enabled=False)."""
    contexts = []

    def make(**options):
        context, page = _new_page(browser, site, **options)
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()


def shot(page, name):
    """Save a full-page screenshot as tests/artifacts/screenshots/<name>.png and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def horizontal_overflow(page):
    """How many CSS pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def log_in(page, user, site):
    """Sign `user` in for this page's context: a real session made by Django's test client, handed to the browser."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": site, "httpOnly": True}])


# --- Document previews on the staff review pages -------------------------------------------------------------------
# Each preview is served by the logged document view, which writes an access row. The live server shares one in-memory
# SQLite connection between its request threads, so three of those writes at once fail with "database table is locked"
# (a limit of the test database, not of PostgreSQL): the pages' previews are held back and loaded one at a time.

PREVIEW_URL = re.compile(r"/documents/[^/]+/\?inline=1(&attempt=\d+)?$")


def hold_previews(page):
    """Abort the preview images a review page starts loading by itself; load_previews fetches them one at a time."""
    page.previews_open = False
    page.route(PREVIEW_URL, lambda route: route.continue_() if page.previews_open else route.abort())


def load_previews(page, testid):
    """Load every preview image in the page's [data-testid=<testid>] items, one after the other, and check each is
    really an image (the private, logged inline view answered with one).

    Every attempt uses an address of its own: after a reload the page starts its previews by itself, those requests
    are aborted while held, and re-setting the same address let Chromium answer the new load with the aborted one's
    error (CI saw a preview that was never requested again).
    """
    page.previews_open = True
    try:
        loaded, total = page.evaluate(
            """async (selector) => {
              const load = (img, url) => new Promise(resolve => {
                const timer = setTimeout(() => resolve(false), 8000);
                img.onload = () => { clearTimeout(timer); resolve(img.naturalWidth > 0); };
                img.onerror = () => { clearTimeout(timer); resolve(false); };
                img.loading = 'eager';
                img.src = url;
              });
              const images = [...document.querySelectorAll(selector)];
              let loaded = 0;
              for (const img of images) {
                const base = img.getAttribute('src').replace(/&attempt=\\d+$/, '');
                for (let attempt = 1; attempt <= 3; attempt++) {
                  if (await load(img, `${base}&attempt=${attempt}`)) { loaded++; break; }
                }
              }
              return [loaded, images.length];
            }""",
            f"[data-testid={testid}] img",
        )
    finally:
        page.previews_open = False
    assert total > 0 and loaded == total, f"{loaded} of {total} previews loaded"


# --- the accessibility checks' portal (test_accessibility, test_display_modes) ----------------------------------


@pytest.fixture(scope="module")
def signing_keys(tmp_path_factory):
    from tests.pki import install_signer

    return install_signer(tmp_path_factory.mktemp("a11y-keys"))


@pytest.fixture
def portal(settings, tmp_path, site, signing_keys):
    """Private files in tmp_path, the module's signing key, QR codes to the live server."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = map(str, signing_keys)
    settings.SITE_URL = site
    return settings


@pytest.fixture
def station(portal):
    from accounts.models import Office
    from tests.factories import OfficeFactory

    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    return OfficeFactory(
        name="金水路派出所",
        name_en="Jinshui Road Police Station",
        kind=Office.Kind.POLICE_STATION,
        parent=zhengzhou,
        accepts_paper_collection=True,
        address="郑州市金水区金水路 88 号",
        opening_hours="周一至周五 9:00-12:00, 13:30-17:30",
        phone="0371-12345678",
    )
