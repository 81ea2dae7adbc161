"""The scale-out rehearsal's judgement (bench/cluster/topology.py): the proxy's log read right, the requests cut off
by the kill told apart from the rest, and a failure the kill does not explain caught. The rehearsal itself needs
nginx, gunicorn, Celery, PostgreSQL and Redis (`make cluster-test`)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from bench.cluster import topology

A, B = "127.0.0.1:8962", "127.0.0.1:8963"
KILL = 1000.0


def line(end, took, status, addresses, statuses, method="GET", uri="/"):
    return f"{end}|{took}|{status}|{addresses}|{statuses}|{method}|{uri}"


def test_the_log_format_is_read_back_with_every_node_tried():
    log = "\n".join(
        [
            line(1000.5, 0.25, 200, A, "200"),
            line(1001.0, 1.5, 200, f"{A}, {B}", "502, 200", uri="/me/"),
            line(1002.0, 0.001, 502, f"{A} : {B}", "502 : 502", method="POST"),  # nginx's separator between groups
            line(1003.0, 0.0, 404, "-", "-", uri="/media/x"),  # answered by nginx itself
            "not a line of ours",
        ]
    )
    requests = topology.parse_proxy_log(log)
    assert len(requests) == 4
    first, retried, failed, local = requests
    assert first.start == pytest.approx(1000.25) and first.attempts == ((A, "200"),)
    assert retried.attempts == ((A, "502"), (B, "200")) and retried.uri == "/me/"
    assert failed.attempts == ((A, "502"), (B, "502")) and failed.method == "POST"
    assert local.attempts == ()


def test_requests_in_flight_on_the_killed_node_are_counted_by_their_fate():
    requests = topology.parse_proxy_log(
        "\n".join(
            [
                line(KILL - 1, 0.5, 200, A, "200"),  # answered by A before the kill
                line(KILL + 0.4, 0.5, 200, A, "200"),  # answered just before, sent on to the client just after
                line(KILL + 2, 4.0, 200, f"{A}, {B}", "502, 200"),  # a GET under way on A, sent on to B
                line(KILL + 0.1, 3.0, 502, A, "502", method="POST"),  # a POST under way on A: failed
                line(KILL + 5, 0.01, 200, f"{A}, {B}", "502, 200"),  # after the kill: A refused, B answered
                line(KILL + 6, 0.2, 200, B, "200"),
                line(KILL + 7, 0.2, 502, f"{B}, {A}", "504, 502"),  # after the kill, B timed out, then A refused
            ]
        )
    )
    assert topology.cut_off_on(requests, A, KILL) == {
        "in_flight_at_kill": 2,
        "of_which_retried_on_another_node": 1,
        "of_which_failed_to_the_client": 1,
        "attempts_at_the_dead_node_after_the_kill": 2,
    }
    assert topology.served_per_node(requests, KILL, margin=1.0) == {
        A: {"before_kill": 2, "after_kill": 0},
        B: {"before_kill": 0, "after_kill": 3},
    }


def failure(start, end, name="/accounts/register/"):
    return {"name": name, "start": start, "end": end, "error": "HTTP 502"}


def test_failures_under_way_at_the_kill_and_no_more_than_were_in_flight_pass():
    judged = topology.judge_client_failures([failure(KILL - 3, KILL + 0.2), failure(KILL - 0.5, KILL)], KILL, 2)
    assert judged["ok"] and judged["failed_while_in_flight_at_the_kill"] == 2


def test_a_failure_away_from_the_kill_is_caught():
    judged = topology.judge_client_failures([failure(KILL - 3, KILL + 0.2), failure(KILL + 20, KILL + 21)], KILL, 5)
    assert not judged["ok"]
    assert judged["failed_at_other_times"] == 1 and "not in flight" in judged["detail"][0]


def test_a_request_that_ended_before_the_kill_is_not_explained_by_it():
    judged = topology.judge_client_failures([failure(KILL - 10, KILL - 5)], KILL, 5)
    assert not judged["ok"] and judged["failed_at_other_times"] == 1


def test_more_failures_than_requests_in_flight_on_the_node_are_caught():
    judged = topology.judge_client_failures([failure(KILL - 1, KILL + 1)] * 3, KILL, 2)
    assert not judged["ok"] and "only 2 requests were in flight" in judged["detail"][0]


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.mark.skipif(not Path(NGINX).exists(), reason="no nginx (make test installs Debian's)")
def test_nginx_accepts_the_rendered_configuration(tmp_path):
    config = tmp_path / "nginx.conf"
    config.write_text(
        topology.nginx_config(prefix=str(tmp_path), listen_port=8999, nodes=[8997, 8998], static_root=str(tmp_path))
    )
    text = config.read_text()
    assert "server 127.0.0.1:8997" in text and "server 127.0.0.1:8998" in text
    assert "proxy_next_upstream error timeout http_502 http_503;" in text
    assert "non_idempotent" not in text  # a POST already sent is never repeated on the other node
    result = subprocess.run(  # noqa: S603 - Debian's nginx, a file of ours
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(config), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_killed_node_answering_well_after_the_kill_is_seen():
    requests = topology.parse_proxy_log(line(KILL + 3, 0.1, 200, A, "200"))
    assert topology.served_per_node(requests, KILL, margin=1.0) == {A: {"before_kill": 0, "after_kill": 1}}


def test_a_request_sent_while_the_node_was_dying_counts_as_in_flight():
    """SIGKILL is not instant for a process group: until its last process is gone the node still takes connections."""
    gone = KILL + 0.05
    requests = topology.parse_proxy_log(line(KILL + 0.3, 0.27, 502, A, "502", method="POST"))  # sent at KILL + 0.03
    assert topology.cut_off_on(requests, A, KILL)["in_flight_at_kill"] == 0
    assert topology.cut_off_on(requests, A, gone)["in_flight_at_kill"] == 1
    judged = topology.judge_client_failures([failure(KILL + 0.03, KILL + 0.3)], KILL, 1, margin=0.0, gone_time=gone)
    assert judged["ok"]
    late = topology.judge_client_failures([failure(KILL + 0.2, KILL + 0.3)], KILL, 1, margin=0.0, gone_time=gone)
    assert not late["ok"]  # sent after the node was gone: the proxy should have sent it to the other node
