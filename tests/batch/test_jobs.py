"""Batch jobs (batch/jobs.py) on a copy of the tiny benchmark: the same outputs on a local Ray as
in one process, resumable, one transaction per chunk, and clear errors for bad input."""

from __future__ import annotations

import shutil

import pytest

from generec.batch import BatchConfig, batch_edit, batch_features
from generec.batch.bench import edit_outputs
from generec.batch.jobs import plan_edit
from generec.errors import InputError
from generec.types import Origin
from generec.workspace import Workspace
from helpers import snapshot


def copy_of(trained, tmp_path, name: str) -> Workspace:
    shutil.copytree(trained, tmp_path / name)
    return Workspace.open(tmp_path / name)


def test_batch_edit_on_local_ray_equals_the_sequential_path(trained, tmp_path):
    seq, par = copy_of(trained, tmp_path, "seq"), copy_of(trained, tmp_path, "ray")
    users = seq.users.ids()[:3]
    a = batch_edit(seq, "cover", users, top_k=2, config=BatchConfig(workers=0, chunk=2))
    b = batch_edit(par, "cover", users, top_k=2, config=BatchConfig(workers=2, chunk=2))
    assert a.done == b.done == 6 and a.written == b.written == 6 and not a.failed and not b.failed
    assert b.cluster == "local" and b.processes == 2 and a.processes == 1  # two Ray workers shared the work
    oa, ob = edit_outputs(seq), edit_outputs(par)
    assert len(oa) == 6 and oa.keys() == ob.keys()
    for key in oa:  # ids, provenance, fidelity verdicts and scores, cover pixels
        assert oa[key] == ob[key], key
    # each variant is the user's own, of one of their top-2 items
    todo, skipped = plan_edit(par, "cover", users, 2)
    assert todo == [] and skipped == 6
    seq.close(), par.close()


def test_a_job_resumes_and_writes_nothing_twice(trained, tmp_path):
    ws = copy_of(trained, tmp_path, "ws")
    users = ws.users.ids()[:4]
    first = batch_edit(ws, "cover", users[:2], top_k=2, config=BatchConfig(workers=0))
    assert first.written == 4
    before = {i.id for i in ws.items.all(origin=Origin.AI_EDITED)}
    again = batch_edit(ws, "cover", users, top_k=2, config=BatchConfig(workers=0))
    assert again.skipped == 4 and again.tasks == 8 and again.written == 4
    after = [i.id for i in ws.items.all(origin=Origin.AI_EDITED)]
    assert len(after) == len(set(after)) == 8 and before < set(after)
    assert batch_edit(ws, "cover", users, top_k=2, config=BatchConfig(workers=0)).written == 0
    ws.close()


def test_batch_features_fill_the_cache_once(trained, tmp_path):
    ws = copy_of(trained, tmp_path, "ws")
    first = batch_features(ws, BatchConfig(workers=0, chunk=8))
    assert first.done == first.tasks - first.skipped and first.done > 0
    assert batch_features(ws, BatchConfig(workers=0)).done == 0  # everything cached: nothing to do
    ws.close()


def test_bad_input_is_refused_before_anything_runs(trained, tmp_path):
    ws = copy_of(trained, tmp_path, "ws")
    before = snapshot(ws.root)
    with pytest.raises(InputError, match="unknown op 'blur'"):
        batch_edit(ws, "blur", "all", 2)
    with pytest.raises(InputError, match="unknown user id"):
        batch_edit(ws, "cover", ["nobody"], 2)
    with pytest.raises(InputError, match="--top-k"):
        batch_edit(ws, "cover", "all", 0)
    with pytest.raises(InputError, match="readable file"):
        batch_edit(ws, "cover", str(tmp_path / "missing.txt"), 2)
    with pytest.raises(InputError, match="--workers"):
        BatchConfig(workers=-1)
    with pytest.raises(InputError, match="not reachable"):
        from generec.batch.cluster import ClusterConfig

        batch_edit(ws, "cover", ws.users.ids()[:1], 1, BatchConfig(cluster=ClusterConfig(address="127.0.0.1:1")))
    assert snapshot(ws.root) == before
    ws.close()


def test_a_worker_killed_mid_job_is_restarted_and_nothing_is_written_twice(trained, tmp_path):
    import os
    import signal
    import subprocess

    ws = copy_of(trained, tmp_path, "ws")
    users = ws.users.ids()[:4]
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        if killed:
            return
        found = [int(p) for p in subprocess.run(["pgrep", "-f", "ray::BatchWorker"], capture_output=True, text=True).stdout.split()]
        pids = [p for p in found if _descends_from(p, os.getpid())]  # this job's local cluster only, never anyone else's
        assert pids, "no Ray worker process of this job found to kill"
        os.kill(pids[0], signal.SIGKILL)  # a worker dies while the job still has chunks to run
        killed.append(pids[0])

    report = batch_edit(ws, "cover", users, top_k=2, config=BatchConfig(workers=2, chunk=1), progress=progress)
    assert killed and report.done == 8 and report.written == 8 and not report.failed
    ids = [i.id for i in ws.items.all(origin=Origin.AI_EDITED)]
    assert len(ids) == len(set(ids)) == 8 and ws.db.integrity() == "ok"
    ws.close()


def test_batch_create_makes_n_per_user_and_resumes_with_the_missing_ones(trained_creator, tmp_path):
    from generec.batch import batch_create

    ws = copy_of(trained_creator, tmp_path, "ws")
    users = ws.users.ids()[:2]

    def made() -> dict[str, int]:
        out: dict[str, int] = {}
        for item in ws.items.all(origin=Origin.AI_CREATED):
            out[item.provenance["user_id"]] = out.get(item.provenance["user_id"], 0) + 1
        return out

    first = batch_create(ws, users, n=1, config=BatchConfig(workers=0))
    assert first.written == 2 and made() == {u: 1 for u in users}
    more = batch_create(ws, users, n=2, config=BatchConfig(workers=0))
    assert more.skipped == 2 and more.written == 2 and made() == {u: 2 for u in users}
    done = batch_create(ws, users, n=2, config=BatchConfig(workers=0))
    assert done.skipped == 4 and done.done == done.written == 0  # all done: nothing to run
    with pytest.raises(InputError, match="--n must be"):
        batch_create(ws, users, n=17)
    ws.close()


def test_batch_create_needs_a_trained_creator(trained, tmp_path):
    from generec.batch import batch_create

    ws = copy_of(trained, tmp_path, "ws")
    with pytest.raises(InputError, match="trained creator"):
        batch_create(ws, "all", n=1)
    ws.close()


def _descends_from(pid: int, ancestor: int) -> bool:
    """Whether process `pid` is a descendant of `ancestor` (the local cluster's processes are this test's)."""
    while pid > 1:
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid == ancestor:
            return True
    return False
