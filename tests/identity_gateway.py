"""The mobile operator's identity-check gateway for tests: a real HTTP server on 127.0.0.1 (accounts.identity's
`carrier` backend talks to it through its real client)."""

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class GatewayHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        server = self.server
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        answer = server.answers.pop(0) if server.answers else "match"
        with server.lock:
            server.received.append({"auth": self.headers.get("Authorization"), "json": body})
        if answer == "slow":
            time.sleep(1.5)
            answer = "match"
        status, payload = (answer, {"error": "busy"}) if isinstance(answer, int) else (200, {"result": answer})
        payload.setdefault("reference", f"op-{len(server.received)}")
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except BrokenPipeError:  # the portal gave up waiting (the timeout test)
            pass

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def identity_gateway(settings, monkeypatch, *, token):
    """Start the gateway and point the `carrier` backend at it; `server.answers` lists what it answers, in turn."""
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = ThreadingHTTPServer(("127.0.0.1", 0), GatewayHandler)
    server.answers, server.received, server.lock = [], [], threading.Lock()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.IDENTITY_CHECK_BACKENDS = ["carrier"]
    settings.IDENTITY_GATEWAY_URL = f"http://127.0.0.1:{server.server_address[1]}/check"
    settings.IDENTITY_GATEWAY_TOKEN = token
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
