"""The load generators against a tiny real HTTP server on 127.0.0.1 (real sockets, no mocks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from generec.serving.loadgen import LatencyStats, closed_loop, open_loop, run_wrk, wrk_available


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real service and wrk use it
    bodies: list[bytes] = []  # POST bodies received, for the body_fn check
    users: list[str] = []  # X-User headers received, for the rotation checks

    def _answer(self) -> None:
        if self.headers.get("X-User"):
            self.users.append(self.headers["X-User"])
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.bodies.append(self.rfile.read(length))
        path = self.path.split("?")[0]
        if path == "/slow":
            time.sleep(0.02)
        elif path == "/hang":
            time.sleep(3.0)
        status = {"/ok": 200, "/slow": 200, "/echo": 200, "/fail": 500}.get(path, 404)
        payload = b"ok\n"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args) -> None:  # quiet test output
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_open_loop_holds_the_rate(base_url: str) -> None:
    stats = open_loop(f"{base_url}/ok", rate=50, duration_s=1.0)
    assert 40 <= stats.n <= 55
    assert stats.errors == 0 and stats.dropped == 0
    assert stats.status_counts == {200: stats.n}
    assert 0 < stats.p50_ms <= stats.p90_ms <= stats.p99_ms <= stats.max_ms
    assert stats.duration_s < 2.0 and stats.rps > 0


def test_open_loop_measures_the_service_time(base_url: str) -> None:
    stats = open_loop(f"{base_url}/slow", rate=50, duration_s=1.0)
    assert 40 <= stats.n <= 55 and stats.errors == 0
    assert stats.p50_ms >= 20.0  # the handler sleeps 20 ms: the measurement cannot be below it


def test_open_loop_counts_queueing_delay(base_url: str) -> None:
    # One worker, 100/s offered, ~50/s served: later requests wait for the worker, and that wait
    # is latency (measured from the schedule); what never started in the window is dropped.
    stats = open_loop(f"{base_url}/slow", rate=100, duration_s=0.5, concurrency=1)
    assert stats.errors == 0
    assert stats.dropped > 0 and stats.n + stats.dropped == 50
    assert stats.p99_ms > 100.0


def test_open_loop_max_requests_and_body_fn(base_url: str) -> None:
    _Handler.bodies.clear()
    stats = open_loop(f"{base_url}/echo", method="POST", body_fn=lambda i: f"user={i}".encode(),
                      rate=200, duration_s=1.0, max_requests=10)
    assert stats.n == 10 and stats.errors == 0
    assert sorted(_Handler.bodies) == sorted(f"user={i}".encode() for i in range(10))
    assert stats.duration_s < 0.5  # stopped at max_requests, not at duration_s


def test_open_loop_counts_errors(base_url: str) -> None:
    stats = open_loop(f"{base_url}/fail", rate=50, duration_s=0.4)
    assert stats.n > 0 and stats.errors == stats.n
    assert stats.status_counts == {500: stats.n}


def test_open_loop_is_bounded_by_duration_plus_timeout(base_url: str) -> None:
    start = time.perf_counter()
    stats = open_loop(f"{base_url}/hang", rate=10, duration_s=0.2, timeout_s=0.5, concurrency=2)
    assert time.perf_counter() - start < 1.5
    assert stats.n == 2 and stats.errors == 2  # both requests timed out


def test_connection_refused_is_an_error_not_a_crash() -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stats = closed_loop(f"http://127.0.0.1:{port}/ok", connections=1, duration_s=0.2, max_requests=3)
    assert stats.n == 3 and stats.errors == 3 and stats.status_counts == {}


@pytest.mark.parametrize("url", ["http://example.com/ok", "http://10.0.0.1:8000/ok", "https://127.0.0.1/ok",
                                 "http://127.0.0.2/ok", "http://127.0.0.1.example.com/"])
def test_non_loopback_urls_are_refused(url: str) -> None:
    for call in (lambda: open_loop(url, rate=10, duration_s=0.1), lambda: closed_loop(url, connections=1, duration_s=0.1),
                 lambda: run_wrk(url, duration_s=1)):
        with pytest.raises(ValueError, match="not '" + url):
            call()


def test_closed_loop_counts(base_url: str) -> None:
    stats = closed_loop(f"{base_url}/ok", connections=4, duration_s=0.3)
    assert stats.n > 0 and stats.errors == 0 and stats.status_counts == {200: stats.n}
    assert stats.duration_s < 1.0
    capped = closed_loop(f"{base_url}/ok", connections=4, duration_s=2.0, max_requests=25)
    assert capped.n == 25 and capped.errors == 0
    failed = closed_loop(f"{base_url}/fail", connections=2, duration_s=0.2)
    assert failed.n > 0 and failed.errors == failed.n


def test_stats_to_dict() -> None:
    stats = LatencyStats(n=2, errors=1, duration_s=1.0, rps=2.0, p50_ms=1.0, p90_ms=2.0, p99_ms=2.0,
                         max_ms=2.0, status_counts={200: 1, 500: 1})
    assert stats.to_dict()["status_counts"] == {200: 1, 500: 1} and stats.to_dict()["n"] == 2


def test_wrk_ok(base_url: str) -> None:
    assert wrk_available(), "wrk is not installed: bash scripts/setup.sh installs Debian's wrk when root"
    stats = run_wrk(f"{base_url}/ok", duration_s=1, connections=4, threads=2, headers={"X-Test": 'a "quoted" value'})
    assert stats.n > 0 and stats.errors == 0
    assert 0 < stats.p50_ms <= stats.max_ms and stats.rps > 0


def test_wrk_counts_errors(base_url: str) -> None:
    assert wrk_available(), "wrk is not installed: bash scripts/setup.sh installs Debian's wrk when root"
    body = b'{"x": "\\n\x00\xff"}'  # quotes, a backslash, NUL and a non-ASCII byte survive the Lua script
    _Handler.bodies.clear()
    stats = run_wrk(f"{base_url}/fail", method="POST", body=body, duration_s=1, connections=2, threads=1)
    assert stats.n > 0 and stats.errors == stats.n
    assert _Handler.bodies and set(_Handler.bodies) == {body}


def test_header_sets_rotate_in_python_and_in_wrk(base_url: str) -> None:
    assert wrk_available(), "wrk is not installed: bash scripts/setup.sh installs Debian's wrk when root"
    sets = [{"X-User": f"u{i}"} for i in range(3)]
    _Handler.users.clear()
    stats = closed_loop(f"{base_url}/ok", connections=1, duration_s=5, max_requests=6, headers_fn=lambda i: sets[i % 3])
    assert stats.n == 6 and _Handler.users == ["u0", "u1", "u2", "u0", "u1", "u2"]
    _Handler.users.clear()
    stats = run_wrk(f"{base_url}/ok", duration_s=1, connections=2, threads=1, headers={"X-Test": "1"}, rotate=sets)
    assert stats.n > 6 and stats.errors == 0 and set(_Handler.users) == {"u0", "u1", "u2"}
    counts = [_Handler.users.count(u) for u in ("u0", "u1", "u2")]
    assert max(counts) - min(counts) <= 2 * 2  # in turn, per wrk connection
