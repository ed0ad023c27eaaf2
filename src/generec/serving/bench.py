"""`generec bench serve`: the service under load on 127.0.0.1, each endpoint beside a trivial one.

1. start `generec serve` (a subprocess, rate limit off) on a free loopback port, with a fresh key
   for the user and a warm-up;
2. per endpoint (`/health`, the trivial baseline; `/v1/feed`; `/v1/feedback`): the most requests a
   second (wrk, closed loop; Python threads without wrk), then latency at a fixed arrival rate
   (open loop, measured from each request's scheduled time: `loadgen.py`);
3. the ratio of each endpoint's throughput to `/health`'s in the same run.

Every phase is bounded in time; the service is stopped (by process id) at the end. The feedback
phase writes real events (watch, 0.5) to the workspace's log, and feeds log impressions; the key
made for the run is revoked at the end.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass

from generec.errors import InputError
from generec.serving import loadgen
from generec.types import Origin
from generec.workspace import Workspace


@dataclass(frozen=True)
class BenchServeConfig:
    seconds: float = 10.0
    rate: float = 50.0
    connections: int = 8
    k: int = 10
    workers: int = 1
    user: str | None = None  # one user's feed only; None: `users` users in turn
    users: int = 100  # feeds of this many users (the first ones), a different user each request

    def __post_init__(self) -> None:
        if self.seconds <= 0 or self.rate <= 0 or self.connections < 1 or not 1 <= self.k <= 100 or self.workers < 1 or self.users < 1:
            raise InputError("bench serve: --seconds and --rate must be > 0, --connections, --workers and --users >= 1, -k 1-100")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(ws: Workspace, port: int, workers: int = 1, extra: tuple[str, ...] = (), timeout_s: float = 180.0) -> subprocess.Popen:
    """`generec serve` on 127.0.0.1:port, returned once /health answers (or RuntimeError)."""
    cmd = [sys.executable, "-m", "generec", "serve", "-w", str(ws.root), "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--log-level", "warning", *extra]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"generec serve exited with {proc.returncode}: {proc.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    stop_service(proc)
    raise RuntimeError(f"generec serve did not answer on 127.0.0.1:{port} within {timeout_s:.0f} s")


def stop_service(proc: subprocess.Popen) -> None:
    """SIGTERM to the service's own process group (its workers), then SIGKILL after 10 s."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def bench_serve(ws: Workspace, config: BenchServeConfig, progress: Callable[[str], None] | None = None) -> dict:
    say = progress or (lambda m: None)
    # 1. users and their keys, the service, a warm-up. Each feed request is another user's (in
    #    turn), so that nothing one user's requests leave warm flatters the next one's.
    ids = ws.users.ids()
    readers = [config.user] if config.user else ids[: config.users]
    if not readers or any(ws.users.get(u) is None for u in readers):
        raise InputError(f"bench serve: no user {config.user!r} in {ws.root}" if config.user else f"bench serve: no users in {ws.root}")
    item = next(iter(ws.items.ids(origin=Origin.HUMAN)), None)  # one query, not one per item
    writer = ids[-1]  # feedback is posted as another user, so that the readers keep their history
    keys = {u: ws.api_keys.create(u) for u in dict.fromkeys([*readers, writer])}
    rotate = [{"Authorization": f"Bearer {keys[u]}"} for u in readers]
    port = free_port()
    say(f"starting generec serve on 127.0.0.1:{port} ({config.workers} worker(s)); feeds of {len(readers)} user(s) in turn")
    proc = start_service(ws, port, config.workers, ("--rate-limit", "0"))
    base = f"http://127.0.0.1:{port}"
    endpoints = {
        "/health": dict(url=f"{base}/health"),
        "/v1/feed": dict(url=f"{base}/v1/feed?k={config.k}", rotate=rotate),
        "/v1/feedback": dict(url=f"{base}/v1/feedback", method="POST", headers={"Authorization": f"Bearer {keys[writer]}", "Content-Type": "application/json"},
                             body=json.dumps({"item_id": item, "event": "watch", "value": 0.5}).encode()),
    }  # fmt: skip
    try:
        loadgen.closed_loop(endpoints["/v1/feed"]["url"], connections=1, duration_s=60, max_requests=max(20, len(rotate)),
                            headers_fn=lambda i: rotate[i % len(rotate)])  # warm: models loaded  # fmt: skip
        # 2. throughput, then latency at the fixed rate, per endpoint
        rows = {}
        for name, spec in endpoints.items():
            turn = spec.get("rotate")
            headers_fn = (lambda i, t=turn: t[i % len(t)]) if turn else None
            say(f"{name}: throughput ({'wrk' if loadgen.wrk_available() else 'python'}, {config.connections} connections, {config.seconds:g} s)")
            if loadgen.wrk_available():
                top = loadgen.run_wrk(spec["url"], headers=spec.get("headers"), method=spec.get("method", "GET"), body=spec.get("body"),
                                      duration_s=config.seconds, connections=config.connections, threads=2, rotate=turn)  # fmt: skip
            else:
                top = loadgen.closed_loop(spec["url"], connections=config.connections, duration_s=config.seconds, method=spec.get("method", "GET"),
                                          headers=spec.get("headers"), body=spec.get("body"), headers_fn=headers_fn)  # fmt: skip
            say(f"{name}: latency at {config.rate:g} requests/s ({config.seconds:g} s)")
            lat = loadgen.open_loop(spec["url"], method=spec.get("method", "GET"), headers=spec.get("headers"), body=spec.get("body"),
                                    rate=config.rate, duration_s=config.seconds, headers_fn=headers_fn)  # fmt: skip
            rows[name] = {"throughput": top.to_dict(), "latency": lat.to_dict()}
    finally:
        stop_service(proc)
        for u in keys:
            ws.api_keys.revoke(u)
    # 3. ratios to the trivial endpoint
    trivial = rows["/health"]["throughput"]["rps"] or float("nan")
    for row in rows.values():
        row["ratio"] = row["throughput"]["rps"] / trivial
    return {"config": asdict(config), "feed_users": len(readers), "feedback_user": writer, "workers": config.workers, "generator": "wrk" if loadgen.wrk_available() else "python",
            "machine": f"{platform.node()} {os.cpu_count()} cpus {platform.python_version()}", "date": time.strftime("%Y-%m-%d"),
            "endpoints": rows}  # fmt: skip
