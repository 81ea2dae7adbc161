"""The load scenario (locust, headless, loopback only): citizens, police officers and verifiers at once.

Started by bench/load/run.py, which seeds the data this file reads from LOAD_FIXTURE and checks the database
afterwards. Every simulated person is a browser-like client: it reads pages, takes the CSRF token from each form
and posts it back, follows the portal's redirects as separate requests, and uploads real image files.

- Citizen (100): registers with a real name and a valid synthetic resident ID number, confirms the e-mail link and
  the SMS code (read from the outbox in PostgreSQL, where the database SMS backend and the outbox keep them), has
  the identity verified by the mobile operator's check (bench/load/run.py runs a stand-in gateway), applies
  for a no-criminal-record certificate for themself through the four sections (ID card front and back as JPEG, a
  colour photo of the required size), ticks the declaration and submits, then tracks it (/me/, the status page,
  /track/) and downloads the certificate once it is issued. One in ten double-clicks "Submit" (two POSTs at once).
- Officer (10): signs in to /admin/ with password and a TOTP code (STAFF_MFA_REQUIRED stays on), takes submitted
  applications from the station's queue, opens the review page (its document images load like in a browser, each
  view logged), accepts and approves as the page asks (bench/load/review_form.py: required checklist items ticked,
  the approval confirmed on its confirmation page). Two officers share each station, so they sometimes race for a
  case: the loser is told "someone else acted first" (counted as a conflict, not an error); one confirmation of an
  approval in ten is a double click. The checks afterwards find out whether any of these races submitted, approved or issued anything twice.
- Verifier (45): looks up seeded certificate codes (valid and revoked) and mistyped codes on /verify/<code>/ and
  /api/verify/<code>/, paced within the production rate limit (30 look-ups a minute per address), so any 429 they
  get is an error.
- Scanner (5): guesses codes as fast as it can from one address; 404 before the limit and 429 after it are both
  the expected answers.

Each simulated person has its own client address, passed in X-Forwarded-For as the TLS proxy in front of the
portal would (the run sets TRUSTED_PROXY_COUNT=1): the production rate limits apply per person, as in production.
The addresses are in 198.18.0.0/15 (RFC 2544, benchmarking); they are header values only, no traffic goes there.
"""

import json
import os
import random
import re
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import gevent
import psycopg2
import psycopg2.extras
from django_otp.oath import totp
from locust import HttpUser, between, events, task
from stdnum.cn import ric
from urllib3.util.retry import Retry

from bench.load import review_form
from bench.load.people import AREAS, GIVEN, SURNAMES, client_address, id_card_image, photo_image, wrong_code

FIXTURE = json.loads(Path(os.environ["LOAD_FIXTURE"]).read_text())
OUT_DIR = Path(os.environ["LOAD_OUT_DIR"])
DATABASE_URL = os.environ["DATABASE_URL"]
USERS = json.loads(os.environ.get("LOAD_USERS", "{}"))

# psycopg2 waits through select(), which locust's gevent has made cooperative: an outbox query never blocks the
# other simulated users.
psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CASE_URL = re.compile(r"/certificates/([A-Z]{2,8}-\d{8}-(?:[0-9A-Z]{4}-[0-9A-Z]{4}|\d{5,}))/")
CONFIRM_LINK = re.compile(r"/accounts/confirm-email/([^/\s]+)/")
SMS_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
CHANGE_LINK = re.compile(r'href="(/admin/certificates/application/(\d+)/change/)')
INLINE_IMAGE = re.compile(r'<img src="(/documents/[0-9a-f-]{36}/[^"]*)"')
DOWNLOAD = re.compile(r'href="(/verify/[0-9A-Z-]{24}/pdf/)"')
ADMIN_ERROR = re.compile(r'<li class="error"')
ERROR_SUMMARY = re.compile(r"portal-error-summary.*?<ul[^>]*>(.*?)</ul>", re.S)
ADMIN_SUCCESS = re.compile(r'<li class="success"')
DOUBLE_SUBMIT = r"/submitted/$|^/certificates/[A-Z]{2,8}-\d{8}-(?:[0-9A-Z]{4}-[0-9A-Z]{4}|\d{5,})/$"


ARRIVAL_SECONDS = float(os.environ.get("LOAD_ARRIVAL_SECONDS", "30"))
LOST_ANSWER = (0, 502, 504)  # no answer from the portal: a node died while it had the request
DOUBLE_CLICK = 0.1  # the share of final clicks (submit, approve) that are double clicks
TIMEOUT = 60  # seconds a simulated person waits for a page before giving up
_lock = threading.Lock()
_used_ids: set[str] = set()
_serial = iter(range(1, 10**6))
_outcomes = {
    "submitted": [],
    "submit_unconfirmed": [],
    "registered": [],
    "conflicts": 0,
    "approved": 0,
    "accepted": 0,
    "downloads": 0,
    "status_codes": {},
    "double_submits": {},
    "get_retried_on_a_closed_connection": 0,
    "by_name": {},
    # When each failed request was sent and ended (wall clock): the cluster rehearsal compares them with its kill.
    "failed_at": [],
}


def _count_status(name, status_code):
    key = str(status_code)
    _outcomes["status_codes"][key] = _outcomes["status_codes"].get(key, 0) + 1
    per_name = _outcomes["by_name"].setdefault(name, {})
    per_name[key] = per_name.get(key, 0) + 1


@events.request.add_listener
def _on_request(request_type, name, response_time, response_length, response=None, exception=None, **kwargs):
    if exception is not None and len(_outcomes["failed_at"]) < 10_000:
        end = time.time()
        start = end - (response_time or 0) / 1000
        entry = {"name": name, "start": round(start, 3), "end": round(end, 3), "error": str(exception)[:200]}
        _outcomes["failed_at"].append(entry)
    if request_type == "OUTBOX":
        return
    answered = response is not None and getattr(response, "status_code", 0)
    _count_status(name, response.status_code if answered else "no-answer")


@events.quitting.add_listener
def _write_outcomes(environment, **kwargs):
    (OUT_DIR / "client.json").write_text(json.dumps(_outcomes, indent=1, ensure_ascii=False))


def _click_outcome(location) -> str:
    if not location:
        return "form error (already submitted)"
    return "submitted page" if location.endswith("/submitted/") else "status page (no longer editable)"


def describe(response) -> str:
    if response.status_code:
        return f"HTTP {response.status_code}"
    error = getattr(response, "error", None)
    return f"no answer: {error.__class__.__name__}: {str(error)[:160]}" if error else "no answer"


def new_identity():
    """A person of nobody: a real-looking name, a valid 18-character ID number (unique in this run), a mobile."""
    with _lock:
        serial = next(_serial)
        while True:
            birth = date(1960, 1, 1) + timedelta(days=random.randrange(0, 44 * 365))
            body = f"{random.choice(AREAS)}{birth:%Y%m%d}{random.randrange(0, 1000):03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in _used_ids:
                _used_ids.add(number)
                break
    run = FIXTURE["run_id"]
    name = random.choice(SURNAMES) + "".join(random.choice(GIVEN) for _ in range(random.choice((1, 2))))
    return {
        "serial": serial,
        "username": f"c{run}-{serial:03d}",
        "real_name": name,
        "id_number": number,
        "mobile": f"+86139{int(run, 16) % 1000:03d}{serial:05d}",
        "email": f"c{run}-{serial:03d}@example.test",
        "password": f"Henan-load-{random.randrange(10**8):08d}",
    }


def outbox_body(to: str, template: str) -> str | None:
    """The newest outbox message of `template` to `to` (the database SMS backend keeps SMS there)."""
    connection = psycopg2.connect(DATABASE_URL)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                'SELECT body FROM notify_outboxmessage WHERE "to" = %s AND template = %s ORDER BY id DESC LIMIT 1',
                (to, template),
            )
            row = cursor.fetchone()
    finally:
        connection.close()
    return row[0] if row else None


class CountedRetry(Retry):
    def increment(self, *args, **kwargs):
        with _lock:
            _outcomes["get_retried_on_a_closed_connection"] += 1
        return super().increment(*args, **kwargs)


class PortalUser(HttpUser):
    abstract = True
    address_group = 0
    answer_lost = False  # the last POST got no answer from the portal (see submit)

    def on_start(self):
        with _lock:
            type(self)._count = getattr(type(self), "_count", 0) + 1
            n = type(self)._count
        self.client.headers["X-Forwarded-For"] = client_address(self.address_group, n)
        # As a browser does: a GET whose kept-alive connection the server closed at that very moment is sent once
        # more on a new connection (only with gthread workers; sync workers keep no connection open). Counted.
        self.client.adapters["http://"].max_retries = CountedRetry(
            total=1,
            connect=1,
            read=1,
            status=0,
            other=0,
            allowed_methods={"GET", "HEAD"},
            raise_on_status=False,
            respect_retry_after_header=False,  # a 429's Retry-After is for the test to count, not to obey
        )
        self.client.headers["User-Agent"] = "Mozilla/5.0 (load test; Henan e-Services)"

    def page(self, url, name, expect=(200,), contains=None):
        """GET a page; a failure unless its status is expected (and it contains `contains`)."""
        with self.client.get(url, name=name, catch_response=True, allow_redirects=False, timeout=TIMEOUT) as response:
            if response.status_code not in expect:
                response.failure(describe(response))
            elif contains and contains not in response.text:
                response.failure(f"no {contains!r} in the page")
            else:
                response.success()  # an expected 404 or 429 too
            return response

    def submit(self, url, data, name, redirect=None, files=None, expect=(302,)):
        """POST a form with the CSRF token of the page it came from; return the redirect target (or None)."""
        with self.client.post(
            url, data=data, files=files, name=name, catch_response=True, allow_redirects=False, timeout=TIMEOUT
        ) as response:
            # The proxy's 502/504 or no answer: the node died with the request, which may or may not have been done.
            self.answer_lost = response.status_code in LOST_ANSWER
            if response.status_code not in expect:
                summary = ERROR_SUMMARY.search(response.text or "")
                errors = re.sub(r"<[^>]+>|\s+", " ", summary.group(1)).strip() if summary else ""
                response.failure(f"{describe(response)} {errors[:300]}")
                return None
            location = urlsplit(response.headers.get("Location", "")).path
            if redirect and response.status_code == 302 and not re.search(redirect, location):
                response.failure(f"redirected to {location!r}, expected {redirect!r}")
                return None
            response.success()
            return location or None

    def post_page(self, url, data, name, contains=None):
        """POST a form whose answer is a page (200), not a redirect."""
        with self.client.post(url, data=data, name=name, catch_response=True, timeout=TIMEOUT) as response:
            if response.status_code != 200:
                response.failure(describe(response))
            elif contains and contains not in response.text:
                response.failure(f"no {contains!r} in the page")
            else:
                response.success()
            return response

    @staticmethod
    def token(response) -> str:
        match = CSRF.search(response.text or "")
        return match.group(1) if match else ""


class Citizen(PortalUser):
    """Register, confirm, apply, submit, then track until the end of the run."""

    fixed_count = USERS.get("Citizen", 100)
    address_group = 1

    def wait_time(self):
        # Filling in forms, then (once submitted) coming back now and then to see how it goes.
        return random.uniform(3, 8) if self.step == self.track else random.uniform(1, 3)

    def on_start(self):
        super().on_start()
        # People do not all arrive in the same second: arrivals spread over the first ARRIVAL_SECONDS.
        time.sleep(random.uniform(0, ARRIVAL_SECONDS))
        self.person = new_identity()
        self.step = self.register
        self.case = None
        self.downloaded = False

    @task
    def next_step(self):
        self.step()

    def register(self):
        self.page("/", "/")
        form = self.page("/accounts/register/", "/accounts/register/")
        p = self.person
        data = {
            "csrfmiddlewaretoken": self.token(form),
            "real_name": p["real_name"],
            "id_number": p["id_number"],
            "mobile": p["mobile"][3:],  # typed as people do, without +86
            "email": p["email"],
            "username": p["username"],
            "password1": p["password"],
            "password2": p["password"],
            "consent": "on",
        }
        if self.submit("/accounts/register/", data, "/accounts/register/", redirect=r"^/accounts/welcome/$"):
            self.page("/accounts/welcome/", "/accounts/welcome/")
        elif not (self.answer_lost and self.signed_in_after_lost_answer()):
            return
        with _lock:
            _outcomes["registered"].append(p["username"])
        self.step = self.confirm_email

    def signed_in_after_lost_answer(self) -> bool:
        """After a registration that got no answer, as a person would: does the account exist? Sign in to see."""
        form = self.page("/accounts/login/", "/accounts/login/ (after a lost answer)")
        data = {
            "csrfmiddlewaretoken": self.token(form),
            "username": self.person["username"],
            "password": self.person["password"],
        }
        with self.client.post(
            "/accounts/login/",
            data=data,
            name="/accounts/login/ (after a lost answer)",
            catch_response=True,
            allow_redirects=False,
            timeout=TIMEOUT,
        ) as response:
            response.success()  # a 200 (no such account: register again) is an answer too
            return response.status_code == 302

    def _from_outbox(self, to, template, pattern, name):
        started = time.perf_counter()
        for _ in range(20):
            body = outbox_body(to, template)
            match = pattern.search(body or "")
            if match:
                return match.group(1)
            time.sleep(0.25)
        events.request.fire(
            request_type="OUTBOX",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=RuntimeError(f"no {template} message to the new account"),
            context={},
        )
        return None

    def confirm_email(self):
        token = self._from_outbox(self.person["email"], "accounts/confirm_email", CONFIRM_LINK, "read e-mail link")
        if token is None:
            return
        url = f"/accounts/confirm-email/{token}/"
        form = self.page(url, "/accounts/confirm-email/[token]/")
        data = {"csrfmiddlewaretoken": self.token(form)}
        if self.post_page(url, data, "/accounts/confirm-email/[token]/").status_code == 200:
            self.step = self.confirm_mobile

    def confirm_mobile(self):
        code = self._from_outbox(self.person["mobile"], "accounts/mobile_code", SMS_CODE, "read SMS code")
        if code is None:
            return
        form = self.page("/accounts/confirm-mobile/", "/accounts/confirm-mobile/")
        data = {"csrfmiddlewaretoken": self.token(form), "code": code}
        if self.submit("/accounts/confirm-mobile/", data, "/accounts/confirm-mobile/", redirect=r"^/accounts/profile/"):
            self.page("/accounts/profile/", "/accounts/profile/")
            self.step = self.verify_identity

    def verify_identity(self):
        """Certificates need a verified identity: the mobile operator's check (a stand-in gateway says "match")."""
        url = "/accounts/verify-identity/"
        form = self.page(url, url)
        data = {"csrfmiddlewaretoken": self.token(form), "method": "carrier"}
        if self.submit(url, data, url, redirect=r"^/accounts/verify-identity/$"):
            if self.page(url, url, contains='data-testid="verified"').status_code == 200:
                self.step = self.start_application

    def start_application(self):
        self.page("/certificates/", "/certificates/")
        form = self.page("/certificates/apply/", "/certificates/apply/")
        self.station = random.choice(FIXTURE["stations"])
        data = {"csrfmiddlewaretoken": self.token(form), "applying_for": "self", "office": self.station["pk"]}
        location = self.submit("/certificates/apply/", data, "/certificates/apply/", redirect=r"/holder/$")
        if not location and self.answer_lost:
            # The draft may have been made before the node died: the citizen's list of applications says.
            listing = self.page("/certificates/", "/certificates/ (after a lost answer)")
            found = CASE_URL.search(listing.text or "")
            location = f"/certificates/{found.group(1)}/holder/" if found else None
        if location:
            self.case = CASE_URL.search(location).group(1)
            self.base = f"/certificates/{self.case}/"
            self.form = self.page(location, "/certificates/[case]/holder/")
            self.step = self.holder

    def _section(self, section, data, files=None, next_name=None, redirect=None):
        data = {"csrfmiddlewaretoken": self.token(self.form), "action": "continue", **data}
        location = self.submit(
            f"{self.base}{section}/", data, f"/certificates/[case]/{section}/", redirect=redirect, files=files
        )
        if location:
            self.form = self.page(location, next_name)
        return location

    def holder(self):
        if self._section("holder", {}, next_name="/certificates/[case]/purpose/", redirect=r"/purpose/$"):
            self.step = self.purpose

    def purpose(self):
        reason = random.choice(("employment", "employment", "study", "abroad"))
        data = {
            "reason": reason,
            "receiving_organisation": random.choice(
                ("郑州某某科技有限公司", "河南省某某大学", "洛阳某某医院", "Embassy of a foreign country")
            ),
        }
        if reason == "abroad":
            data["destination_country"] = random.choice(("新加坡", "澳大利亚", "Germany"))
        if self._section("purpose", data, next_name="/certificates/[case]/delivery/", redirect=r"/delivery/$"):
            self.step = self.delivery

    def delivery(self):
        data = {"delivery": random.choice(("electronic", "print"))}
        if self._section("delivery", data, next_name="/certificates/[case]/documents/", redirect=r"/documents/$"):
            self.step = self.documents

    def documents(self):
        files = {
            "id_front": ("身份证正面.jpg", id_card_image(self.person, "front"), "image/jpeg"),
            "id_back": ("身份证反面.jpg", id_card_image(self.person, "back"), "image/jpeg"),
            "photo": ("photo.jpg", photo_image(), "image/jpeg"),
        }
        if self._section("documents", {}, files=files, next_name="/certificates/[case]/check/", redirect=r"/check/$"):
            self.step = self.declare_and_submit

    def declare_and_submit(self):
        data = {"csrfmiddlewaretoken": self.token(self.form), "declaration": "on"}
        url, name = f"{self.base}check/", "/certificates/[case]/check/"
        with _lock:
            if [self.person["username"], self.case] not in _outcomes["submit_unconfirmed"]:  # not on a second try
                _outcomes["submit_unconfirmed"].append([self.person["username"], self.case])
        if random.random() < DOUBLE_CLICK:
            # Two POSTs at once, as from an impatient double click: one submits, the other is told it is done
            # (a form error, or the status page); the browser shows whichever came last, then the citizen looks.
            clicks = [
                gevent.spawn(
                    self.submit, url, data, f"{name} (double click)", redirect=DOUBLE_SUBMIT, expect=(302, 400)
                )
                for _ in range(2)
            ]
            gevent.joinall(clicks)
            outcome = " + ".join(sorted(_click_outcome(click.value) for click in clicks))
            with _lock:
                _outcomes["double_submits"][outcome] = _outcomes["double_submits"].get(outcome, 0) + 1
            done = self.page(f"{self.base}submitted/", "/certificates/[case]/submitted/", contains=self.case)
            submitted = done.status_code == 200
        else:
            submitted = bool(self.submit(url, data, name, redirect=r"/submitted/$"))
            if submitted or self.answer_lost:
                # After no answer, the citizen looks whether it went through (the page exists once submitted).
                name = "/certificates/[case]/submitted/" + ("" if submitted else " (after a lost answer)")
                expect = (200,) if submitted else (200, 302, 404)
                done = self.page(f"{self.base}submitted/", name, expect=expect)
                submitted = submitted or (done.status_code == 200 and self.case in done.text)
        if submitted:
            with _lock:
                _outcomes["submit_unconfirmed"].remove([self.person["username"], self.case])
                _outcomes["submitted"].append([self.person["username"], self.case])
            self.step = self.track

    def track(self):
        choice = random.random()
        if choice < 0.35:
            self.page("/me/", "/me/", contains=self.case)
        elif choice < 0.75:
            status = self.page(self.base, "/certificates/[case]/ (status)", contains=self.case)
            link = DOWNLOAD.search(status.text or "")
            if link and not self.downloaded:
                pdf = self.page(link.group(1), "/verify/[code]/pdf/ (download)")
                if pdf.status_code == 200 and pdf.content[:5] == b"%PDF-":
                    self.downloaded = True
                    with _lock:
                        _outcomes["downloads"] += 1
        else:
            form = self.page("/track/", "/track/")
            second = self.person["id_number"][-4:]  # the enquiry's second factor (portal.cases.tracking)
            data = {"csrfmiddlewaretoken": self.token(form), "case_number": self.case, "second_factor": second}
            self.post_page("/track/", data, "/track/", contains=f'data-case="{self.case}"')


class Officer(PortalUser):
    """A police officer working the station's queue in the admin: review, accept, approve."""

    fixed_count = USERS.get("Officer", 10)
    address_group = 2
    wait_time = between(1, 3)

    def on_start(self):
        super().on_start()
        with _lock:
            self.account = FIXTURE["staff"][(type(self)._count - 1) % len(FIXTURE["staff"])]
        self.signed_in = False
        self.sign_in()

    def sign_in(self):
        form = self.page("/admin/login/?next=/admin/", "/admin/login/")
        key = bytes.fromhex(self.account["totp_key"])
        data = {
            "csrfmiddlewaretoken": self.token(form),
            "username": self.account["username"],
            "password": self.account["password"],
            "otp_token": f"{totp(key, step=30, digits=6):06d}",
            "next": "/admin/",
        }
        if self.submit("/admin/login/?next=/admin/", data, "/admin/login/", redirect=r"^/admin/$"):
            self.page("/admin/", "/admin/")
            self.signed_in = True

    @task
    def work_the_queue(self):
        if not self.signed_in:
            time.sleep(30 - time.time() % 30 + 0.5)  # a TOTP code is used once: wait for the next one
            self.sign_in()
            return
        queue = self.page("/admin/certificates/application/?status__exact=submitted", "admin: queue (submitted)")
        cases = sorted({pk for _url, pk in CHANGE_LINK.findall(queue.text or "")})
        if not cases:
            queue = self.page("/admin/certificates/application/?status__exact=accepted", "admin: queue (accepted)")
            cases = sorted({pk for _url, pk in CHANGE_LINK.findall(queue.text or "")})
        if not cases:
            return  # nothing waiting: the officer looks again after a pause
        pk = random.choice(cases)
        review = self.review(pk)
        for _ in range(2):  # accept, then approve on the page the accept redirects to
            form = review_form.step_form(review.text or "", ("accept", "approve"))
            if form is None or form.required_empty:
                return
            name = form.step
            # As an officer does: the required checklist items ticked (and, now and then, the optional ones too).
            answer = self.take(form.action, form.data(tick_optional=random.random() < 0.5), f"admin: {name}")
            confirm = review_form.confirmation_form(answer.text or "") if answer.status_code == 200 else None
            if confirm is not None:  # an irreversible step: its confirmation page; the click on "Confirm" takes it
                clicks = 2 if random.random() < DOUBLE_CLICK else 1
                label = f"admin: {name} (confirm{', double click' if clicks == 2 else ''})"
                jobs = [gevent.spawn(self.take, confirm.action, confirm.data(), label) for _ in range(clicks)]
                gevent.joinall(jobs)
                if not all(job.value is not None and job.value.status_code == 302 for job in jobs):
                    return
            elif answer.status_code != 302:
                return
            review = self.page(f"/admin/certificates/application/{pk}/change/", "admin: review page")
            with _lock:
                if ADMIN_ERROR.search(review.text or ""):
                    _outcomes["conflicts"] += 1  # another officer (or the other click) acted first: told, not an error
                if ADMIN_SUCCESS.search(review.text or ""):
                    _outcomes["accepted" if name == "accept" else "approved"] += 1
                else:
                    return

    def take(self, url, data, name):
        """POST a step's form: a redirect back to the case (taken, or refused with a message there) or an
        irreversible step's confirmation page; anything else (the form again with errors, 400) is a failure."""
        with self.client.post(
            url, data=data, name=name, catch_response=True, allow_redirects=False, timeout=TIMEOUT
        ) as response:
            location = urlsplit(response.headers.get("Location", "")).path
            if response.status_code == 302 and location.endswith("/change/"):
                response.success()
            elif response.status_code == 200 and review_form.confirmation_form(response.text or ""):
                response.success()
            else:
                response.failure(f"{describe(response)} {'; '.join(review_form.errors(response.text or ''))[:300]}")
            return response

    def review(self, pk):
        review = self.page(f"/admin/certificates/application/{pk}/change/", "admin: review page")
        for src in INLINE_IMAGE.findall(review.text or ""):
            self.page(src.replace("&amp;", "&"), "admin: document image (logged view)")
        return review


class Verifier(PortalUser):
    """An employer or embassy checking certificates, within the per-address limit (30 look-ups a minute)."""

    fixed_count = USERS.get("Verifier", 45)
    address_group = 3
    wait_time = between(2.05, 3)  # at most 30 in any 60 s window, whatever the server's answer time

    @task
    def verify(self):
        roll = random.random()
        if roll < 0.8:
            code, status, state = random.choice(FIXTURE["codes"]["valid"]), 200, "valid"
        elif roll < 0.85:
            code, status, state = random.choice(FIXTURE["codes"]["revoked"]), 200, "revoked"
        else:
            code, status, state = wrong_code(), 404, "not_found"
        suffix = " (wrong code)" if status == 404 else ""
        if random.random() < 0.5:
            self.page(
                f"/verify/{code}/", f"/verify/[code]/{suffix}", expect=(status,), contains=f'data-state="{state}"'
            )
            return
        with self.client.get(
            f"/api/verify/{code}/", name=f"/api/verify/[code]/{suffix}", catch_response=True, timeout=TIMEOUT
        ) as response:
            if response.status_code != status:
                response.failure(describe(response))
            elif response.json().get("state") != state or response.json().get("code") != code:
                response.failure(f"answered {response.text[:200]!r}, expected state {state!r}")
            else:
                response.success()


class Scanner(PortalUser):
    """Someone guessing codes from one address: the limit answers 429 after 30 a minute; both answers expected."""

    fixed_count = USERS.get("Scanner", 5)
    address_group = 4
    wait_time = between(0.2, 0.5)

    @task
    def guess(self):
        code = wrong_code()
        if random.random() < 0.5:
            self.page(f"/api/verify/{code}/", "/api/verify/[guess] (scanner: 404 or 429)", expect=(404, 429))
        else:
            self.page(f"/verify/{code}/", "/verify/[guess] (scanner: 404 or 429)", expect=(404, 429))
