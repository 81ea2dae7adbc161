"""The pure parts of the scale-out rehearsal (bench/cluster/run.py): the proxy's configuration, reading its access
log, and judging what the clients saw fail against the moment a web node was killed. Unit-tested in
tests/load/test_cluster.py; nothing here starts a process or touches a database.
"""

from dataclasses import dataclass

# One line per request in the proxy's access log; "|" never occurs in the values (the URI is logged without its
# query string). $upstream_addr and $upstream_status list every node tried, comma-separated, in order.
LOG_FORMAT = "$msec|$request_time|$status|$upstream_addr|$upstream_status|$request_method|$uri"


def nginx_config(*, prefix: str, listen_port: int, nodes: list[int], static_root: str) -> str:
    """nginx (Debian's package) run unprivileged from `prefix`, spreading requests over gunicorn on `nodes`.

    The proxy settings are docs/nginx/portal.conf's, less TLS: body limit, timeouts just above gunicorn's 30 s,
    static files from STATIC_ROOT, and `proxy_next_upstream error timeout http_502 http_503`, so a request that
    could not reach a node, or a GET cut off by one, is sent to the other. A POST already sent is never repeated
    (nginx's default without `non_idempotent`): it fails, and only those in flight on a node that died can.
    X-Forwarded-For is appended to, not overwritten: the load generator stands for the outer load balancer, which
    has put the client's address there (TRUSTED_PROXY_COUNT=2).
    """
    servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;" for port in nodes)
    temp = "\n".join(
        f"    {kind}_temp_path {prefix}/{kind}-temp;" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""# The scale-out rehearsal's proxy (bench/cluster/run.py), rendered by bench/cluster/topology.py.
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/nginx-error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    include /etc/nginx/mime.types;
    log_format cluster '{LOG_FORMAT}';
    access_log {prefix}/nginx-access.log cluster;
{temp}
    upstream portal_app {{
{servers}
        keepalive 16;
        keepalive_timeout 4s;  # under gunicorn's keepalive (5 s): docs/nginx/portal.conf
    }}
    server {{
        listen 127.0.0.1:{listen_port};
        client_max_body_size 12m;
        client_body_timeout 60s;
        location /static/ {{
            alias {static_root}/;
            access_log off;
        }}
        location /media/ {{
            return 404;
        }}
        location / {{
            proxy_pass http://portal_app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $request_id;
            proxy_connect_timeout 5s;
            proxy_send_timeout 35s;
            proxy_read_timeout 35s;
            proxy_next_upstream error timeout http_502 http_503;
        }}
    }}
}}
"""


@dataclass(frozen=True)
class ProxyRequest:
    start: float  # wall clock, seconds
    end: float
    status: int
    attempts: tuple[tuple[str, str], ...]  # (node address, its status or "-") in the order nginx tried them
    method: str
    uri: str


def parse_proxy_log(text: str) -> list[ProxyRequest]:
    """The proxy's access log (LOG_FORMAT) as requests; lines that are not in that format are skipped."""
    requests = []
    for line in text.splitlines():
        parts = line.split("|")
        if len(parts) != 7:
            continue
        msec, request_time, status, addresses, statuses, method, uri = parts
        try:
            end, took, code = float(msec), float(request_time), int(status)
        except ValueError:
            continue
        nodes = [a.strip() for a in addresses.replace(" : ", ",").split(",") if a.strip()]
        codes = [s.strip() for s in statuses.replace(" : ", ",").split(",") if s.strip()]
        codes += ["-"] * (len(nodes) - len(codes))
        attempts = tuple(zip(nodes, codes, strict=False)) if addresses != "-" else ()
        requests.append(ProxyRequest(end - took, end, code, attempts, method, uri))
    return requests


def _answered(status: str) -> bool:
    """A node's status in $upstream_status is its own answer unless nginx made it up (no answer: 502, 504, -)."""
    return status.isdigit() and status not in ("502", "504")


def cut_off_on(requests: list[ProxyRequest], node: str, kill_time: float) -> dict:
    """The requests in flight on `node` when it was killed: sent to it before `kill_time` (the moment its last process
    was gone, when its listening socket stopped taking connections), never answered by it.

    Each of them either went on to the other node (a GET, or a request the node had not yet read) or failed with
    the proxy's 502. Attempts at the dead node after the kill (refused connections, retried at once) are counted
    apart: they cost the client nothing but a moment.
    """
    in_flight = retried = failed = refused_after = 0
    for request in requests:
        for address, status in request.attempts:
            if address != node or _answered(status):
                continue
            if request.start <= kill_time:
                in_flight += 1
                if request.status in (502, 504):
                    failed += 1
                else:
                    retried += 1
            else:
                refused_after += 1
            break
    return {
        "in_flight_at_kill": in_flight,
        "of_which_retried_on_another_node": retried,
        "of_which_failed_to_the_client": failed,
        "attempts_at_the_dead_node_after_the_kill": refused_after,
    }


def served_per_node(requests: list[ProxyRequest], kill_time: float, margin: float = 1.0) -> dict[str, dict[str, int]]:
    """Requests each node answered, before and after the kill (the last attempt is the one that answered).

    The log's time is when the proxy finished sending to the client: an answer the node gave just before it died may
    end up to `margin` seconds later, and counts as before the kill.
    """
    served: dict[str, dict[str, int]] = {}
    for request in requests:
        if not request.attempts or not _answered(request.attempts[-1][1]):
            continue
        node = request.attempts[-1][0]
        counts = served.setdefault(node, {"before_kill": 0, "after_kill": 0})
        counts["before_kill" if request.end <= kill_time + margin else "after_kill"] += 1
    return served


def judge_client_failures(
    failed_at: list[dict], kill_time: float, in_flight: int, margin: float = 1.0, gone_time: float | None = None
) -> dict:
    """Did the clients see only the requests in flight on the killed node fail?

    `failed_at`: the failed requests the clients recorded ({"name", "start", "end", "error"}, wall clock). A
    failure is put down to the kill when the request was under way while the node died (sent before its processes
    were gone, `gone_time`, and ended after the kill), give or take `margin` seconds of clock skew between the
    processes. ok: no other failure, and no more failures than requests were in flight on the node.
    """
    gone = kill_time if gone_time is None else gone_time
    at_kill = [f for f in failed_at if f["start"] <= gone + margin and f["end"] >= kill_time - margin]
    elsewhere = [f for f in failed_at if f not in at_kill]
    problems = []
    if elsewhere:
        problems.append(f"{len(elsewhere)} failures not in flight at the kill, e.g. {elsewhere[0]}")
    if len(failed_at) > in_flight:
        problems.append(f"{len(failed_at)} failures, but only {in_flight} requests were in flight on the killed node")
    return {
        "ok": not problems,
        "detail": problems,
        "client_failures": len(failed_at),
        "in_flight_on_the_killed_node": in_flight,
        "failed_while_in_flight_at_the_kill": len(at_kill),
        "failed_at_other_times": len(elsewhere),
    }
