"""`generec bench batch` (batch/bench.py) on the tiny benchmark: both paths run, outputs compared."""

from __future__ import annotations

import json
import shutil

from helpers import generec, snapshot


def test_bench_batch_reports_both_paths_and_identical_outputs(trained, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(trained, root)
    before = {p: d for p, d in snapshot(root).items() if not str(p).startswith("reports")}
    r = generec("bench", "batch", "--users", "2", "--top-k", "1", "--workers", "2", "-w", root, "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    seq, par = result["runs"]["sequential"], result["runs"]["ray"]
    assert result["tasks"] == 2 and seq["done"] == par["done"] == 2 and seq["cluster"] == "sequential" and par["cluster"] == "local"
    assert result["identical"] is True and result["items"] == 2 and result["speedup"] > 0
    assert (root / "reports" / "bench-batch.json").is_file()
    after = {p: d for p, d in snapshot(root).items() if not str(p).startswith("reports")}
    assert after == before  # the copies were edited, not the workspace


def test_bench_batch_refuses_bad_numbers(trained):
    r = generec("bench", "batch", "--users", "0", "-w", trained)
    assert r.returncode == 1 and "must be positive" in r.stderr and "Traceback" not in r.stderr
