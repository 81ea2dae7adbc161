"""The reference nginx configuration (docs/nginx/portal.conf) in front of gunicorn: Debian's nginx on loopback."""

import datetime
import http.client
import re
import shutil
import ssl
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from portal.documents.validation import UploadRules
from tests.portal.production import ROOT, free_port, production_env, run_manage, subprocess_env

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HOST = "portal.example.test"
CONF = ROOT / "docs" / "nginx" / "portal.conf"
MB = 1024 * 1024
APPS = ("accounts", "certificates", "familyplanning", "hukou", "portal")

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="no nginx (make test installs Debian's)")


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def render(values: dict[str, str]) -> str:
    """envsubst, as docs/nginx/portal.conf says, with only the PORTAL_ variables (nginx's own $vars stay)."""
    names = " ".join(f"${name}" for name in values)
    return subprocess.run(
        ["envsubst", names], input=CONF.read_text(), env=values, capture_output=True, text=True, check=True
    ).stdout


def wait_for(port: int, process: subprocess.Popen, log: Path, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz/")
            return
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)


@pytest.fixture(scope="module")
def front(tmp_path_factory):
    """gunicorn as in production (DJANGO_HTTPS, TRUSTED_PROXY_COUNT=1) and nginx with the rendered reference file."""
    tmp = tmp_path_factory.mktemp("nginx")
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    # A complete production configuration (portal/checks.py), but the embedded broker and cache: no Redis here.
    production = {k: v for k, v in production_env(tmp).items() if k not in ("REDIS_URL", "ALLOWED_HOSTS")}
    production.update(SILENCED_SYSTEM_CHECKS="portal.E009", TRUSTED_PROXY_COUNT="1")
    env = subprocess_env(tmp, **production, WEB_CONCURRENCY="1", GUNICORN_BIND=f"127.0.0.1:{app_port}")
    for command in (("migrate", "--noinput", "-v0"), ("collectstatic", "--noinput", "-v0")):
        done = run_manage(tmp, *command, **production)
        assert done.returncode == 0, done.stderr
    cert, key = self_signed(tmp)
    site = render(
        {
            "PORTAL_SERVER_NAME": HOST,
            "PORTAL_UPSTREAM": f"127.0.0.1:{app_port}",
            "PORTAL_STATIC_ROOT": str(tmp / "static"),
            "PORTAL_TLS_CERT": str(cert),
            "PORTAL_TLS_KEY": str(key),
            "PORTAL_HTTP_LISTEN": f"127.0.0.1:{http_port}",
            "PORTAL_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
        }
    )
    (tmp / "portal.conf").write_text(site)
    # The main file a Debian install has around a site file, cut down to what a test prefix needs.
    (tmp / "nginx.conf").write_text(
        f"""
        pid {tmp}/nginx.pid;
        error_log {tmp}/nginx-error.log;
        worker_processes 1;
        user root;
        events {{ worker_connections 256; }}
        http {{
            include /etc/nginx/mime.types;
            access_log {tmp}/nginx-access.log;
            client_body_temp_path {tmp}/body;
            proxy_temp_path {tmp}/proxy;
            fastcgi_temp_path {tmp}/fastcgi;
            uwsgi_temp_path {tmp}/uwsgi;
            scgi_temp_path {tmp}/scgi;
            include {tmp}/portal.conf;
        }}
        """
    )
    test = subprocess.run([NGINX, "-t", "-c", str(tmp / "nginx.conf"), "-p", str(tmp)], capture_output=True, text=True)
    assert test.returncode == 0, test.stderr
    app_log = tmp / "gunicorn.log"
    with open(app_log, "wb") as log:
        app = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    proxy = subprocess.Popen(
        [NGINX, "-c", str(tmp / "nginx.conf"), "-p", str(tmp), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(app_port, app, app_log)
        wait_for(http_port, proxy, tmp / "nginx-error.log")
        yield {"http": http_port, "https": https_port, "tmp": tmp}
    finally:
        for process in (proxy, app):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def https(front, method, path, body=None, headers=None):
    context = ssl.create_default_context(cafile=str(front["tmp"] / "cert.pem"))
    context.check_hostname = False  # the certificate names portal.example.test; we connect to 127.0.0.1
    connection = http.client.HTTPSConnection("127.0.0.1", front["https"], context=context, timeout=30)
    connection.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
    response = connection.getresponse()
    return response.status, response.headers, response.read()


def test_plain_http_moves_to_https_but_the_probe_is_answered(front):
    connection = http.client.HTTPConnection("127.0.0.1", front["http"], timeout=10)
    connection.request("GET", "/verify/", headers={"Host": HOST})
    response = connection.getresponse()
    assert response.status == 301 and response.headers["Location"] == f"https://{HOST}/verify/"
    connection = http.client.HTTPConnection("127.0.0.1", front["http"], timeout=10)
    connection.request("GET", "/healthz/", headers={"Host": HOST})
    assert connection.getresponse().status == 200


def test_pages_come_through_https_with_a_request_id_and_static_files_from_nginx(front):
    status, headers, body = https(front, "GET", "/verify/", headers={"X-Request-ID": "lb-req-0042"})
    assert status == 200 and b"<form" in body
    assert headers["X-Request-ID"] == "lb-req-0042"
    status, headers, _ = https(front, "GET", "/verify/")
    assert status == 200 and len(headers["X-Request-ID"]) >= 16  # made by nginx when the client sent none
    css = re.search(rb'href="(/static/[^"]+\.css)"', body).group(1).decode()
    status, headers, _ = https(front, "GET", css)
    assert status == 200 and "immutable" in headers["Cache-Control"]
    assert https(front, "GET", "/media/private/anything.pdf")[0] == 404


def test_a_9_mb_upload_reaches_the_portal_and_the_body_limit_covers_every_upload_rule(front):
    status, headers, page = https(front, "GET", "/verify/")
    cookie = headers["Set-Cookie"].split(";")[0]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    boundary = uuid.uuid4().hex
    payload = b"%PDF-1.7\n" + b"0" * (9 * MB)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="pdf"; filename="certificate.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _, answer = https(
        front,
        "POST",
        "/verify/",
        body=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Cookie": cookie,
            "Origin": f"https://{HOST}",
            "Referer": f"https://{HOST}/verify/",
        },
    )
    # Not nginx's 413: the portal itself read the 9 MB and answered with its own rule for this form (5 MB at most).
    assert status == 400, answer[:500]  # the form's own error page, not nginx's 413
    assert "文件超过5MB" in answer.decode()
    limit = int(re.search(r"client_max_body_size (\d+)m;", CONF.read_text()).group(1)) * MB
    # Every upload rule of the code base: the default (an ID document) and any service's own max_bytes.
    sources = [path.read_text() for app in APPS for path in (ROOT / app).rglob("*.py")]
    declared = [int(n) * MB for text in sources for n in re.findall(r"max_bytes=(\d+) \* MB", text)]
    largest = max([UploadRules().max_bytes, *declared])
    assert limit >= largest + MB  # room for the multipart framing of the largest upload


def test_a_forged_x_forwarded_for_gains_nothing_against_the_rate_limit(front):
    answers = [
        https(front, "GET", "/api/verify/ABCD-EFGH-JKMN-PQRS-TVWX/", headers={"X-Forwarded-For": f"203.0.113.{n}"})[0]
        # 30 a minute in fixed windows: 70 requests put more than 30 into one window even if a minute turns.
        for n in range(70)
    ]
    assert 429 in answers, answers
