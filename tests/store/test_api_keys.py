"""API keys (stored hashed) and idempotent events, on a real workspace on each engine."""

from __future__ import annotations

import threading

import pytest

from generec.errors import InputError
from generec.types import Event, Interaction, Item, Kind, User
from helpers import db_snapshot


def test_keys_are_stored_hashed_and_can_be_revoked(workspace):
    workspace.users.add_many([User("u1"), User("u2")])
    key = workspace.api_keys.create("u1")
    admin = workspace.api_keys.create(None, "admin")
    assert key.startswith("gr_") and len(key) > 40 and key != admin
    assert key not in repr(db_snapshot(workspace))
    if workspace.db.engine == "sqlite":
        assert key not in (workspace.root / "generec.db").read_bytes().decode("latin-1")
    p = workspace.api_keys.lookup(key)
    assert (p.role, p.user_id, p.is_admin) == ("user", "u1", False)
    assert workspace.api_keys.lookup(admin).is_admin
    for bad in ("", "gr_", key + "x", key[:-1], "Bearer " + key, None, 42):
        assert workspace.api_keys.lookup(bad) is None
    with pytest.raises(InputError, match="unknown user"):
        workspace.api_keys.create("ghost")
    with pytest.raises(InputError, match="unknown role"):
        workspace.api_keys.create("u1", "root")
    assert workspace.api_keys.revoke("u1") == 1 and workspace.api_keys.lookup(key) is None
    assert workspace.api_keys.lookup(admin) is not None


def test_events_with_an_id_are_stored_once_across_threads(workspace):
    workspace.users.add_many([User("u1")])
    workspace.items.add_many([Item("i1", Kind.TEXT, "x")])
    assert workspace.db.enable_wal()
    results = []

    def post(n: int) -> None:  # every thread sends the same 50 ids, and 50 of its own
        rows = [Interaction("u1", "i1", float(j), Event.CLICK, None, "t", f"shared-{j}") for j in range(50)]
        rows += [Interaction("u1", "i1", float(j), Event.CLICK, None, "t", f"t{n}-{j}") for j in range(50)]
        results.append(workspace.interactions.add_once(rows))

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(s for s, _ in results) == 50 + 8 * 50 and sum(d for _, d in results) == 7 * 50
    assert workspace.interactions.count() == 450 and workspace.db.integrity() == "ok"
    # events without an id are never merged
    assert workspace.interactions.add_once([Interaction("u1", "i1", 1.0, Event.LIKE)] * 2) == (2, 0)


_POST = """
import os, sys, time
from generec.types import Event, Interaction
from generec.workspace import Workspace
go, root, db, n = sys.argv[1:]
print("ready", flush=True)
while not os.path.exists(go):  # every process goes at the same moment
    time.sleep(0.001)
stored = duplicates = 0
with Workspace.open(root, db=db) as ws:
    for batch in range(10):  # ten requests of ten events: five that every process sends, five of its own
        rows = [Interaction("u1", "i1", float(j), Event.CLICK, None, "t", f"shared-{batch}-{j}") for j in range(5)]
        rows += [Interaction("u1", "i1", float(j), Event.CLICK, None, "t", f"p{n}-{batch}-{j}") for j in range(5)]
        s, d = ws.interactions.add_once(rows)
        stored, duplicates = stored + s, duplicates + d
print(stored, duplicates)
"""


def test_events_with_an_id_are_stored_once_across_processes(workspace, db_url, tmp_path):
    """Three real processes post overlapping events while this one follows the log by row id
    (as the live retriever does): each event is stored once, and the follower misses none."""
    import subprocess
    import sys

    workspace.users.add_many([User("u1")])
    workspace.items.add_many([Item("i1", Kind.TEXT, "x")])
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _POST, str(go), str(workspace.root), db_url, str(n)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(3)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    go.touch()
    followed, last = [], 0
    while any(p.poll() is None for p in procs) or last < workspace.interactions.last_id():
        new = workspace.interactions.since("u1", last)
        followed += [row for row, _ in new]
        last = new[-1][0] if new else last
    outcomes = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outcomes]
    counts = [tuple(map(int, out.split())) for out, _ in outcomes]
    assert sum(s for s, _ in counts) == 50 + 3 * 50 and sum(d for _, d in counts) == 2 * 50
    stored = workspace.interactions.since("u1")
    assert len({i.event_id for _, i in stored}) == len(stored) == 200
    assert followed == [row for row, _ in stored]  # every row, in order, none twice
