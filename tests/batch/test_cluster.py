"""Batch jobs against a real `ray start --head` cluster on 127.0.0.1, and a driver killed mid-job
(batch/cluster.py, cli/batch.py): the job resumes and nothing is written twice."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from generec.types import Origin
from generec.workspace import Workspace
from helpers import generec

RAY = Path(sys.executable).with_name("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def head():
    """A Ray head node on 127.0.0.1 with 2 CPUs, stopped by its own process group (never `ray stop`)."""
    assert RAY.is_file(), f"{RAY} is missing: ray is a dependency of generec (bash scripts/setup.sh)"
    port, temp = _free_port(), tempfile.mkdtemp(prefix="ray", dir="/tmp")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    proc = subprocess.Popen([str(RAY), "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
                             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"ray start failed: {proc.stderr.read().decode()[-2000:]}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        pytest.fail("ray start --head did not listen within 120 s")
    yield f"127.0.0.1:{port}"
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture
def ws_root(trained, tmp_path):
    shutil.copytree(trained, tmp_path / "ws")
    return tmp_path / "ws"


def test_batch_edit_runs_on_a_ray_start_head_cluster(head, ws_root, tmp_path):
    users = tmp_path / "users.txt"
    with Workspace.open(ws_root) as ws:
        users.write_text("\n".join(ws.users.ids()[:2]) + "\n")
    r = generec("batch", "edit", "--op", "cover", "--users", users, "--top-k", "1", "--ray-address", head, "-w", ws_root, "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["cluster"] == head and report["done"] == 2 and report["written"] == 2 and report["workers"] == 2
    with Workspace.open(ws_root) as ws:
        assert len(ws.items.all(origin=Origin.AI_EDITED)) == 2


def test_a_killed_job_resumes_and_writes_nothing_twice(ws_root):
    cmd = [sys.executable, "-m", "generec", "batch", "edit", "--op", "cover", "--top-k", "2", "--chunk", "1", "--workers", "0", "-w", str(ws_root), "--quiet"]
    with Workspace.open(ws_root) as ws:
        users = len(ws.users.ids())
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 300
    with Workspace.open(ws_root) as ws:
        while len(ws.items.all(origin=Origin.AI_EDITED)) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # mid-job: some chunks written, the rest not
        proc.wait(10)
        written = len(ws.items.all(origin=Origin.AI_EDITED))
    assert 2 <= written < 2 * users, "the job was not killed mid-way"
    r = generec("batch", "edit", "--op", "cover", "--top-k", "2", "--workers", "0", "-w", ws_root, "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["skipped"] == written and report["written"] == report["done"] == 2 * users - written
    with Workspace.open(ws_root) as ws:
        ids = [i.id for i in ws.items.all(origin=Origin.AI_EDITED)]
        assert len(ids) == len(set(ids)) == 2 * users and ws.db.integrity() == "ok"


def test_an_unreachable_address_is_one_clear_line(ws_root):
    r = generec("batch", "edit", "--op", "cover", "--top-k", "1", "--ray-address", "127.0.0.1:1", "-w", ws_root)
    assert r.returncode == 1 and "not reachable" in r.stderr and "Traceback" not in r.stderr
