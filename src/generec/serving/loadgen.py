"""Load generators for a service we started on loopback: open loop, closed loop, and wrk.

Two ways to load a service:

* Closed loop (`closed_loop`, `run_wrk`): N clients each send a request, wait for its answer,
  send the next. The offered load adapts to the service (when it slows down, clients send
  less), so this answers "how many requests per second can it do at most".
* Open loop (`open_loop`): requests arrive on a fixed schedule, request i at t0 + i/rate,
  whether or not earlier ones were answered, as independent users would. This answers "what
  latency do users see at R requests per second".

Coordinated omission: a client that measures from the moment it *sends* stops sending while
the service stalls, so a stall shows up as one slow request instead of as all the requests that
would have arrived (and waited) meanwhile, and the percentiles come out far too good.
`open_loop` measures each request from its *scheduled* time, so time spent waiting for a free
worker, the queue in front of the service, counts. Requests scheduled inside the window that
could not even be started before it closed are reported as `dropped`: a nonzero value means the
service (or this generator) did not sustain the rate.

wrk (C, epoll) is a closed-loop generator far faster than Python threads: use it for maximum
throughput, and the Python generators where the schedule or per-request bodies matter.

Every entry point refuses non-loopback URLs: this measures a service we started, it is not a
way to load someone else's host.
"""

from __future__ import annotations

import json
import math
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from urllib.parse import urlsplit

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
_WRK_MARKER = "GENEREC_WRK_JSON "


@dataclass
class LatencyStats:
    """One run's outcome. `n`: requests finished (answered with any status, or failed);
    `errors`: non-2xx answers (wrk: 4xx/5xx) plus failures (connect, reset, timeout);
    `rps`: n per second of `duration_s`; percentiles in ms over answered requests (0.0 when
    none were); `dropped`: open loop only, requests scheduled in the window but never started.
    `status_counts` is empty for wrk (counting statuses needs its per-response Lua hook, which
    makes wrk parse every response and so measures wrk more than the service)."""

    n: int
    errors: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    status_counts: dict[int, int] = field(default_factory=dict)
    dropped: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _check_url(url: str) -> tuple[str, int, str]:
    """(host, port, path?query) of a loopback http URL; ValueError naming the URL otherwise."""
    parts = urlsplit(url)
    try:
        port = parts.port or 80
    except ValueError:  # a port that is not a number or out of range
        port = None
    if parts.scheme != "http" or parts.hostname not in _LOOPBACK_HOSTS or port is None:
        raise ValueError(f"load may only be sent to http://127.0.0.1 or http://localhost, not {url!r}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, port, path


def _percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile (a value that was actually observed; no interpolation)."""
    if not sorted_values:
        return 0.0
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


class _Client:
    """One worker's keep-alive connection; `served` counts answers on the current socket."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.conn = HTTPConnection(host, port, timeout=timeout_s)
        self.served = 0


class _Run:
    """What both Python loops share: worker threads, one persistent connection each, a lock-held
    `next_job` that hands out (index, scheduled time or None) until it returns None, and a hard
    deadline after which sockets still in use are shut down (a per-socket timeout bounds each
    connect and each read, not a whole request)."""

    def __init__(self, url: str, method: str, headers: dict[str, str] | None, body: bytes | None,
                 body_fn: Callable[[int], bytes] | None, timeout_s: float,
                 headers_fn: Callable[[int], dict[str, str]] | None = None) -> None:
        if body is not None and body_fn is not None:
            raise ValueError("give body or body_fn, not both")
        self.headers_fn = headers_fn
        self.host, self.port, self.path = _check_url(url)
        self.method, self.headers, self.body, self.body_fn = method, dict(headers or {}), body, body_fn
        self.timeout_s = timeout_s
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.clients: list[_Client] = []
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.failures = 0
        self.crash: BaseException | None = None
        self.t0 = 0.0
        self.next = 0  # the next request index to hand out (guarded by lock)

    def run(self, workers: int, next_job: Callable[[], tuple[int, float | None] | None],
            hard_limit_s: float, dropped: Callable[[], int] = lambda: 0) -> LatencyStats:
        # The clock starts when every thread exists, so thread start-up is not queueing delay.
        barrier = threading.Barrier(workers + 1, action=self._start_clock)
        threads = [threading.Thread(target=self._worker, args=(barrier, next_job), daemon=True)
                   for _ in range(workers)]
        for thread in threads:
            thread.start()
        barrier.wait()
        deadline = self.t0 + hard_limit_s
        for thread in threads:
            thread.join(max(0.0, deadline - time.perf_counter()))
        if any(thread.is_alive() for thread in threads):
            self._abort()
            for thread in threads:
                thread.join(1.0)
        elapsed = time.perf_counter() - self.t0
        if self.crash is not None:  # e.g. body_fn raised: a caller's bug, not a service error
            raise self.crash
        with self.lock:
            lat = sorted(self.latencies)
            n = len(lat) + self.failures
            errors = self.failures + sum(c for s, c in self.statuses.items() if not 200 <= s < 300)
            return LatencyStats(
                n=n, errors=errors, duration_s=elapsed, rps=n / elapsed if elapsed > 0 else 0.0,
                p50_ms=_percentile(lat, 50) * 1e3, p90_ms=_percentile(lat, 90) * 1e3,
                p99_ms=_percentile(lat, 99) * 1e3, max_ms=(lat[-1] if lat else 0.0) * 1e3,
                status_counts=dict(sorted(self.statuses.items())), dropped=dropped())

    def _start_clock(self) -> None:
        self.t0 = time.perf_counter()

    def _abort(self) -> None:
        self.stop.set()
        with self.lock:
            socks = [client.conn.sock for client in self.clients]
        for sock in socks:
            if sock is not None:
                try:  # wakes a thread blocked in recv; it records the request as failed
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _worker(self, barrier: threading.Barrier, next_job: Callable[[], tuple[int, float | None] | None]) -> None:
        client = _Client(self.host, self.port, self.timeout_s)
        with self.lock:
            self.clients.append(client)
        try:
            barrier.wait()
            while not self.stop.is_set():
                with self.lock:
                    job = next_job()
                if job is None:
                    break
                index, scheduled = job
                if scheduled is not None:
                    delay = scheduled - time.perf_counter()
                    if delay > 0 and self.stop.wait(delay):
                        break
                self._send(client, index, scheduled if scheduled is not None else time.perf_counter())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            self.crash = exc
        finally:
            client.conn.close()

    def _send(self, client: _Client, index: int, start: float) -> None:
        """One request, its latency counted from `start` (scheduled time, or send time)."""
        body = self.body_fn(index) if self.body_fn is not None else self.body
        headers = self.headers_fn(index) if self.headers_fn is not None else self.headers
        for attempt in range(2):
            reused = client.served > 0
            try:
                client.conn.request(self.method, self.path, body=body, headers=headers)
                response = client.conn.getresponse()
                response.read()  # drained, or the connection cannot carry the next request
            except (OSError, HTTPException) as exc:
                client.conn.close()  # the next request() reconnects
                client.served = 0
                # A keep-alive socket the server closed while idle fails on first reuse: that is
                # the socket's age, not the service's answer. Resend once on a fresh connection;
                # the latency clock keeps running from `start`, so the cost still counts.
                if attempt == 0 and reused and isinstance(exc, ConnectionError) and not self.stop.is_set():
                    continue
                with self.lock:
                    self.failures += 1
                return
            latency = time.perf_counter() - start
            client.served = 0 if response.will_close else client.served + 1
            with self.lock:
                self.latencies.append(latency)
                self.statuses[response.status] += 1
            return


def open_loop(url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None,
              body_fn: Callable[[int], bytes] | None = None, rate: float, duration_s: float,
              max_requests: int | None = None, timeout_s: float = 5.0, concurrency: int = 16,
              headers_fn: Callable[[int], dict[str, str]] | None = None) -> LatencyStats:
    """Send request i at t0 + i/rate for i/rate < duration_s (at most `max_requests`), from
    `concurrency` threads, each request's latency measured from its scheduled time. `body_fn(i)`
    gives request i its own body, `headers_fn(i)` its own headers. Requests not started by the end of the window are dropped,
    not sent late, so the run never lasts more than duration_s + timeout_s."""
    if rate <= 0 or duration_s <= 0 or concurrency < 1:
        raise ValueError(f"need rate > 0, duration_s > 0, concurrency >= 1 (got {rate}, {duration_s}, {concurrency})")
    run = _Run(url, method, headers, body, body_fn, timeout_s, headers_fn)
    planned = math.ceil(duration_s * rate)  # how many i have i/rate < duration_s, float edges fixed below
    while planned > 0 and (planned - 1) / rate >= duration_s:
        planned -= 1
    while planned / rate < duration_s:
        planned += 1
    if max_requests is not None:
        planned = min(planned, max_requests)

    def next_job() -> tuple[int, float | None] | None:
        # Behind schedule past the window's end: stop starting requests rather than run long.
        if run.next >= planned or time.perf_counter() >= run.t0 + duration_s:
            return None
        run.next += 1
        return run.next - 1, run.t0 + (run.next - 1) / rate

    return run.run(concurrency, next_job, duration_s + timeout_s, dropped=lambda: planned - run.next)


def closed_loop(url: str, *, connections: int, duration_s: float, method: str = "GET",
                headers: dict[str, str] | None = None, body: bytes | None = None,
                body_fn: Callable[[int], bytes] | None = None, max_requests: int | None = None,
                timeout_s: float = 5.0, headers_fn: Callable[[int], dict[str, str]] | None = None) -> LatencyStats:
    """`connections` threads each send back-to-back for `duration_s` (or until `max_requests` in
    all): maximum throughput from pure Python; latency measured from each request's send."""
    if connections < 1 or duration_s <= 0:
        raise ValueError(f"need connections >= 1 and duration_s > 0 (got {connections}, {duration_s})")
    run = _Run(url, method, headers, body, body_fn, timeout_s, headers_fn)

    def next_job() -> tuple[int, float | None] | None:
        if (max_requests is not None and run.next >= max_requests) or time.perf_counter() >= run.t0 + duration_s:
            return None
        run.next += 1
        return run.next - 1, None

    return run.run(connections, next_job, duration_s + timeout_s)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(data: bytes) -> str:
    """A Lua string literal holding exactly `data` (3-digit decimal escapes are unambiguous)."""
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:03d}" for b in data) + '"'


def _lua_table(headers: dict[str, str]) -> str:
    return "{" + ", ".join(f"[{_lua_string(k.encode())}] = {_lua_string(v.encode())}" for k, v in headers.items()) + "}"


def _wrk_script(method: str, headers: dict[str, str], body: bytes | None, rotate: list[dict[str, str]] | None = None) -> str:
    lines = [f"wrk.method = {_lua_string(method.encode())}"]
    if body is not None:
        lines.append(f"wrk.body = {_lua_string(body)}")  # wrk adds Content-Length itself
    lines += [f"wrk.headers[{_lua_string(k.encode())}] = {_lua_string(v.encode())}" for k, v in headers.items()]
    if rotate:  # request n carries the (n mod len)-th header set, on top of the common headers
        lines += ["local sets = {" + ", ".join(_lua_table({**headers, **h}) for h in rotate) + "}", "local n = 0",
                  "request = function()", "  n = n + 1", "  return wrk.format(nil, nil, sets[(n % #sets) + 1], nil)", "end"]  # fmt: skip
    # One machine-readable line from wrk's own totals, so nothing depends on its human table.
    fields = ["requests", "duration_us", "connect", "read", "write", "status", "timeout",
              "p50_us", "p90_us", "p99_us", "max_us"]
    fmt = _WRK_MARKER + "{" + ",".join(f'"{f}":%d' for f in fields) + "}"
    lines += [
        "done = function(summary, latency, requests)",
        "  local e = summary.errors",
        f"  io.write(string.format('\\n{fmt}\\n', summary.requests, summary.duration,",
        "    e.connect, e.read, e.write, e.status, e.timeout,",
        "    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))",
        "end",
    ]
    return "\n".join(lines) + "\n"


def run_wrk(url: str, *, headers: dict[str, str] | None = None, method: str = "GET", body: bytes | None = None,
            duration_s: float = 10, connections: int = 16, threads: int = 2, timeout_s: float = 5,
            rotate: list[dict[str, str]] | None = None) -> LatencyStats:
    """Run `wrk` (closed loop, `connections` keep-alive connections over `threads` threads) for
    `duration_s` against a loopback `url`; `rotate`: header sets sent in turn (e.g. one key per
    user). wrk takes whole seconds, so times are rounded up."""
    _check_url(url)
    if not wrk_available():
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    seconds, timeout = max(1, math.ceil(duration_s)), max(1, math.ceil(timeout_s))
    threads = max(1, min(threads, connections))  # wrk refuses fewer connections than threads
    with tempfile.TemporaryDirectory(prefix="generec-wrk-") as tmp:
        script = Path(tmp) / "bench.lua"
        script.write_text(_wrk_script(method, dict(headers or {}), body, rotate))
        cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
               "--timeout", f"{timeout}s", "-s", str(script), url]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"wrk did not finish within {seconds + 30} s: {' '.join(cmd)}") from exc
    lines = [line for line in proc.stdout.splitlines() if line.startswith(_WRK_MARKER)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-500:]}")
    r = json.loads(lines[-1][len(_WRK_MARKER):])
    duration = r["duration_us"] / 1e6
    return LatencyStats(
        n=r["requests"], errors=sum(r[k] for k in ("connect", "read", "write", "status", "timeout")),
        duration_s=duration, rps=r["requests"] / duration if duration > 0 else 0.0,
        p50_ms=r["p50_us"] / 1e3, p90_ms=r["p90_us"] / 1e3, p99_ms=r["p99_us"] / 1e3, max_ms=r["max_us"] / 1e3)
