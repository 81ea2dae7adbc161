"""The outbox: queued on commit, delivered once, retried with backoff by the relay, given up after the limit."""

import datetime
import io
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.signals import after_task_publish
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from accounts.models import Office, Role
from accounts.notify import notify_office, office_recipients
from portal.notify import delivery, sms
from portal.notify.models import Channel, MessageStatus, OutboxMessage
from portal.notify.services import notify_user, queue_message, render_message
from portal.notify.tasks import deliver, relay_outbox
from tests.factories import OfficeFactory, StaffFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
PROBE_TEMPLATES = Path(__file__).resolve().parent / "notify_templates"
MOBILE = "+8613800138000"


def queue_sms(body="Your confirmation code is 483920. It is valid for 10 minutes.", to=MOBILE):
    return queue_message(channel=Channel.SMS, to=to, body=body, template="accounts/mobile_code")


def queue_email(to="zhang.san@example.test"):
    return queue_message(
        channel=Channel.EMAIL,
        to=to,
        subject="Your application was received",
        body="Case WF-2026-000001 was received.",
        html_body="<p>Case <strong>WF-2026-000001</strong> was received.</p>",
        template="cases/received",
    )


def free_port():
    """A port on which nothing listens (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeGatewayHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        status = server.answers.pop(0) if server.answers else 200
        if status == "slow":
            time.sleep(1.5)
            status = 200
        with server.lock:
            auth = self.headers.get("Authorization")
            server.received.append({"path": self.path, "auth": auth, "json": json.loads(body), "status": status})
            n = len(server.received)
        answer = json.dumps({"id": f"gw-{n}"} if 200 <= status < 300 else {"error": "try later"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def gateway(settings, monkeypatch):
    """A real HTTP server on 127.0.0.1 with a random port; `answers` lists the status codes it gives in turn."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGatewayHandler)
    server.answers = []
    server.received = []
    server.lock = threading.Lock()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_BACKEND = f"http://127.0.0.1:{server.server_address[1]}/send"
    settings.SMS_GATEWAY_TOKEN = "test-token"
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def published():
    """Every task message Celery really publishes to the broker, as (task name, args)."""
    seen = []

    def on_publish(sender=None, headers=None, body=None, **kwargs):
        seen.append((headers["task"], list(body[0])))

    after_task_publish.connect(on_publish, weak=False)
    yield seen
    after_task_publish.disconnect(on_publish)


# --- queueing -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_queue_message_publishes_only_after_commit(django_capture_on_commit_callbacks, published):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            message = queue_email()
        assert message.status == MessageStatus.PENDING
        assert published == []  # the worker must never read a row before it is committed
    assert len(callbacks) == 1
    callbacks[0]()
    assert published == [("portal.notify.tasks.deliver", [message.pk])]


@pytest.mark.django_db
def test_rolled_back_transaction_queues_nothing(django_capture_on_commit_callbacks, published):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            queue_email()
            raise RuntimeError("the application failed to save")
    assert callbacks == []
    assert published == []
    assert not OutboxMessage.objects.exists()


# --- e-mail ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deliver_sends_email_with_html_and_marks_sent():
    message = queue_email()
    assert deliver(message.pk) == "sent"

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["zhang.san@example.test"]
    assert sent.subject == "Your application was received"
    assert sent.body == "Case WF-2026-000001 was received."
    assert sent.alternatives[0][1] == "text/html"
    assert "<strong>WF-2026-000001</strong>" in sent.alternatives[0][0]
    assert sent.from_email == django_settings.DEFAULT_FROM_EMAIL
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.sent_at is not None
    assert message.attempts == 1
    assert message.provider_id and sent.extra_headers["Message-ID"] == f"<{message.provider_id}>"


@pytest.mark.django_db
def test_delivered_twice_sends_once():
    message = queue_email()
    assert deliver(message.pk) == "sent"
    assert deliver(message.pk) == "skipped"
    assert relay_outbox()["sent"] == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_unreachable_mail_server_is_retried(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 2
    with time_machine.travel(T0, tick=False):
        message = queue_email()
        assert deliver(message.pk) == "retry"
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING
    assert message.attempts == 1
    assert message.last_error.startswith("mail server unreachable")
    assert message.next_attempt_at == T0 + datetime.timedelta(minutes=2)


# --- SMS backends -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sms_database_backend_keeps_the_row_as_the_record(settings, capsys):
    settings.SMS_BACKEND = "database"
    message = queue_sms()
    assert deliver(message.pk) == "kept"
    message.refresh_from_db()
    # Nobody received it: kept, not sent (never counted as sent, no sent time, no provider id).
    assert message.status == MessageStatus.KEPT
    assert (message.attempts, message.sent_at, message.provider_id, message.next_attempt_at) == (1, None, "", None)
    assert "483920" in message.body  # where a developer reads the code (admin or manage.py shell)
    assert "483920" not in capsys.readouterr().out


@pytest.mark.django_db
def test_kept_messages_are_final_never_due_and_never_retried(settings, published):
    settings.SMS_BACKEND = "database"
    with time_machine.travel(T0, tick=False) as traveller:
        message = queue_sms()
        assert relay_outbox() == {"sent": 0, "kept": 1, "retry": 0, "failed": 0, "skipped": 0}
        for _ in range(3):  # hours and days later, the relay never takes it again
            traveller.shift(datetime.timedelta(days=1))
            assert delivery.outbox_due_ids() == []
            assert relay_outbox() == {"sent": 0, "kept": 0, "retry": 0, "failed": 0, "skipped": 0}
        assert deliver(message.pk) == "skipped"  # nor does a duplicate task message
        assert delivery.outbox_claim(message_id=message.pk) is None
    assert delivery.outbox_retry(message_ids=[message.pk]) == 0  # "retry now" is for failed messages only
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.KEPT, 1)
    assert OutboxMessage.objects.filter(status=MessageStatus.SENT).count() == 0
    with translation.override("en"):
        assert str(MessageStatus.KEPT.label) == "Kept, not sent"
    with translation.override("zh-hans"):
        assert str(MessageStatus.KEPT.label) == "已保存，未发送"


@pytest.mark.django_db
def test_sms_console_backend_prints_the_message(settings, capsys):
    settings.SMS_BACKEND = "console"
    message = queue_sms()
    assert deliver(message.pk) == "sent"
    out = capsys.readouterr().out
    assert f"SMS to {MOBILE}: Your confirmation code is 483920." in out
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_console_backend_writes_to_a_given_stream():
    stream = io.StringIO()
    sms.ConsoleBackend(stream=stream).send(OutboxMessage(channel=Channel.SMS, to=MOBILE, body="hello"))
    assert stream.getvalue() == f"SMS to {MOBILE}: hello\n"


def test_unknown_sms_backend_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.SMS_BACKEND = "file:///etc/passwd"
    with pytest.raises(ImproperlyConfigured):
        sms.get_backend()


# --- the HTTP gateway ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_gateway_error_is_retried_by_the_relay_after_the_backoff(gateway):
    gateway.answers = [500, 200]
    with time_machine.travel(T0, tick=False) as traveller:
        message = queue_sms()
        assert deliver(message.pk) == "retry"

        message.refresh_from_db()
        assert message.status == MessageStatus.PENDING
        assert message.attempts == 1
        assert message.last_error == "SMS gateway answered HTTP 500"
        assert message.next_attempt_at == T0 + datetime.timedelta(minutes=2)
        assert message.next_attempt_at > datetime.datetime.now(tz=SHANGHAI)

        # Not due yet: neither the relay nor a duplicate task message touches it.
        assert relay_outbox() == {"sent": 0, "kept": 0, "retry": 0, "failed": 0, "skipped": 0}
        assert deliver(message.pk) == "skipped"
        assert len(gateway.received) == 1

        traveller.shift(datetime.timedelta(minutes=2, seconds=1))
        assert relay_outbox()["sent"] == 1

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 2
    assert message.provider_id == "gw-2"
    assert message.sent_at == T0 + datetime.timedelta(minutes=2, seconds=1)
    assert [r["status"] for r in gateway.received] == [500, 200]
    ok = [r for r in gateway.received if r["status"] == 200]
    assert len(ok) == 1
    assert ok[0]["path"] == "/send"
    assert ok[0]["auth"] == "Bearer test-token"
    assert ok[0]["json"] == {"to": MOBILE, "text": message.body, "id": message.pk}


@pytest.mark.django_db
def test_gateway_refusal_fails_at_once(gateway):
    gateway.answers = [400]
    message = queue_sms()
    assert deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 1
    assert message.next_attempt_at is None
    assert "400" in message.last_error and "test-token" not in message.last_error
    assert relay_outbox()["sent"] == 0
    assert len(gateway.received) == 1


@pytest.mark.django_db
def test_gateway_without_token_sends_no_authorization(gateway, settings):
    settings.SMS_GATEWAY_TOKEN = ""
    message = queue_sms()
    assert deliver(message.pk) == "sent"
    assert gateway.received[0]["auth"] is None


@pytest.mark.django_db
def test_gives_up_after_max_attempts(gateway, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    gateway.answers = [503, 502, 500, 200]
    with time_machine.travel(T0, tick=False) as traveller:
        message = queue_sms()
        assert deliver(message.pk) == "retry"
        traveller.shift(datetime.timedelta(minutes=2))
        assert relay_outbox()["retry"] == 1
        message.refresh_from_db()
        assert message.next_attempt_at == datetime.datetime.now(tz=SHANGHAI) + datetime.timedelta(minutes=4)
        traveller.shift(datetime.timedelta(minutes=4))
        assert relay_outbox()["failed"] == 1
        traveller.shift(datetime.timedelta(hours=1))
        assert relay_outbox()["sent"] == 0

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 3
    assert message.last_error == "SMS gateway answered HTTP 500"
    assert len(gateway.received) == 3


@pytest.mark.django_db
def test_unreachable_gateway_is_retried(settings, monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    settings.SMS_BACKEND = f"http://127.0.0.1:{free_port()}/send"
    message = queue_sms()
    assert deliver(message.pk) == "retry"
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING
    assert message.last_error.startswith("SMS gateway unreachable")


def test_slow_gateway_is_a_retryable_timeout(gateway):
    gateway.answers = ["slow"]
    backend = sms.HttpGatewayBackend(django_settings.SMS_BACKEND, timeout=0.3)
    with pytest.raises(sms.DeliveryError) as excinfo:
        backend.send(OutboxMessage(pk=7, channel=Channel.SMS, to=MOBILE, body="hello"))
    assert not excinfo.value.permanent
    assert "0.3" in str(excinfo.value)


# --- claims and the relay -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_dead_workers_claim_is_taken_over_after_the_timeout(settings):
    settings.SMS_BACKEND = "database"
    with time_machine.travel(T0, tick=False) as traveller:
        message = queue_sms()
        assert delivery.outbox_claim(message_id=message.pk) is not None  # a worker took it, then died
        assert deliver(message.pk) == "skipped"
        assert relay_outbox()["kept"] == 0

        traveller.shift(datetime.timedelta(minutes=10, seconds=1))  # NOTIFY_CLAIM_TIMEOUT_SECONDS' default
        assert relay_outbox()["kept"] == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.KEPT


@pytest.mark.django_db
def test_the_claim_timeout_comes_from_the_settings(settings):
    settings.SMS_BACKEND = "database"
    settings.NOTIFY_CLAIM_TIMEOUT_SECONDS = 60
    with time_machine.travel(T0, tick=False) as traveller:
        message = queue_sms()
        assert delivery.outbox_claim(message_id=message.pk) is not None  # a worker took it, then died
        traveller.shift(datetime.timedelta(seconds=59))
        assert relay_outbox()["kept"] == 0  # still its claim
        traveller.shift(datetime.timedelta(seconds=2))
        assert relay_outbox()["kept"] == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.KEPT


@pytest.mark.django_db
def test_relay_is_bounded_per_run(settings):
    settings.SMS_BACKEND = "database"
    messages = [queue_sms(to=f"+861380013{n:04d}") for n in range(5)]
    assert delivery.outbox_relay(limit=3, batch=2)["kept"] == 3
    assert OutboxMessage.objects.filter(status=MessageStatus.KEPT).count() == 3
    assert delivery.outbox_relay(limit=3, batch=2)["kept"] == 2
    assert {m.status for m in OutboxMessage.objects.filter(pk__in=[m.pk for m in messages])} == {MessageStatus.KEPT}


@pytest.mark.django_db
def test_retry_resets_only_failed_messages(gateway):
    gateway.answers = [400]
    failed = queue_sms()
    deliver(failed.pk)
    pending = queue_sms(to="+8613800138001")
    assert delivery.outbox_retry(message_ids=[failed.pk, pending.pk]) == 1
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (MessageStatus.PENDING, 0)
    assert relay_outbox()["sent"] == 2


# --- rendering and recipients -------------------------------------------------------------------------------


def digest(case_number, *, overdue, office=None, due_date="2026-10-29"):
    """The context of the deadline digest the sweep sends (portal.cases.services), for one case."""
    context = {
        "overdue": overdue,
        "count": 1,
        "cases": [{"case_number": case_number, "title": "application", "due_date": due_date}],
        "more": 0,
    }
    return {**context, "office": office} if office else context


def test_text_parts_are_not_html_escaped_but_html_is():
    parts = render_message("cases/deadline_digest", digest("WF-1", overdue=True, office="A & B <Station>"), "en")
    assert parts["subject.txt"] == "1 case overdue at A & B <Station>"
    assert "A & B <Station>" in parts["email.txt"]
    assert "A &amp; B &lt;Station&gt;" in parts["email.html"]
    assert "sms.txt" not in parts


@pytest.mark.django_db
def test_notify_user_renders_in_the_users_language(settings):
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], PROBE_TEMPLATES]},
    ]
    english = UserFactory(language="en")
    chinese = UserFactory(language="zh-hans")
    with translation.override("en"):
        (en_mail,) = notify_user(english, template="probe/language", sms=False)
        (zh_mail, zh_sms) = notify_user(chinese, template="probe/language")
        assert translation.get_language() == "en"  # the caller's language is restored
    assert en_mail.subject == "language en"
    assert zh_mail.subject == "language zh-hans"
    assert zh_sms.channel == Channel.SMS and zh_sms.body == "sms zh-hans"
    assert zh_mail.html_body.startswith("<!DOCTYPE html>") and 'lang="zh-hans"' in zh_mail.html_body

    overdue = digest("WF-2026-000007", overdue=True, office="Station")
    (deadline_mail,) = notify_user(english, template="cases/deadline_digest", context=overdue, sms=False)
    assert deadline_mail.subject == "1 case overdue at Station"
    assert "WF-2026-000007 (application), due on 2026-10-29" in deadline_mail.body


@pytest.fixture
def zhengzhou():
    return Office.objects.get(division_code="410100", kind=Office.Kind.CITY)


@pytest.mark.django_db
def test_notify_office_reaches_its_staff_and_on_request_the_supervisors_above(zhengzhou):
    station = OfficeFactory(parent=zhengzhou)
    neighbour = OfficeFactory(parent=zhengzhou)
    officer = StaffFactory(office=station, language="en")
    station_supervisor = StaffFactory(office=station, role=Role.SUPERVISOR)
    city_supervisor = StaffFactory(office=zhengzhou, role=Role.SUPERVISOR)
    StaffFactory(office=zhengzhou)  # a city officer who is no supervisor
    StaffFactory(office=neighbour)
    StaffFactory(office=station, is_active=False)
    citizen = UserFactory()
    citizen.office = station  # even a citizen tied to the office is never staff
    citizen.save()

    context = digest("WF-2026-000009", overdue=False)
    due_soon = notify_office(station, template="cases/deadline_digest", context=context)
    assert {m.to for m in due_soon} == {officer.email, station_supervisor.email}
    assert {m.channel for m in due_soon} == {Channel.EMAIL}
    assert next(m for m in due_soon if m.to == officer.email).subject == f"1 case due soon at {station.name_en}"

    overdue = notify_office(
        station, template="cases/deadline_digest", context={**context, "overdue": True}, include_supervisors=True
    )
    assert {m.to for m in overdue} == {officer.email, station_supervisor.email, city_supervisor.email}
    assert citizen.email not in {m.to for m in OutboxMessage.objects.all()}


@pytest.mark.django_db
def test_no_office_reaches_nobody():
    StaffFactory(office=None)
    assert list(office_recipients(None, include_supervisors=True)) == []
    assert notify_office(None, template="cases/deadline_digest", context={}) == []


# --- admin ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_outbox_is_for_administrators_only(staff_client, officer_a, settings):
    settings.SMS_BACKEND = "database"
    message = queue_sms()
    url = reverse("admin:notify_outboxmessage_changelist")

    officer_client = staff_client(officer_a)
    assert officer_client.get(url).status_code == 403
    officer_client.logout()

    administrator = StaffFactory(role=Role.ADMINISTRATOR)
    response = staff_client(administrator).get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "138****8000" in page and MOBILE not in page
    detail = staff_client(administrator).get(reverse("admin:notify_outboxmessage_change", args=[message.pk]))
    assert detail.status_code == 200
    assert "483920" in detail.content.decode()  # administrators may read bodies
    assert Group.objects.filter(name=Role.ADMINISTRATOR).exists()


@pytest.mark.django_db
def test_admin_retry_now_action(staff_client, gateway, settings):
    settings.LANGUAGE_CODE = "en"  # the assertion reads the English admin message
    gateway.answers = [400]
    message = queue_sms()
    deliver(message.pk)
    administrator = StaffFactory(role=Role.ADMINISTRATOR)
    response = staff_client(administrator).post(
        reverse("admin:notify_outboxmessage_changelist"),
        {"action": "retry_now", "_selected_action": [message.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 message will be sent again." in response.content.decode()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 0)
    assert relay_outbox()["sent"] == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert [r["status"] for r in gateway.received] == [400, 200]
