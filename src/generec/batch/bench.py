"""`generec bench batch`: a batch edit on a local Ray beside the sequential path, same machine,
same tasks, each on its own copy of the workspace; throughput ratio and whether the outputs are
identical (item ids, provenance, fidelity verdicts and scores, cover pixels).

The copies share one signing key pair (signed files differ with the key), and are removed at
the end; the workspace itself (SQLite or PostgreSQL) is only read.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from generec.batch.cluster import ClusterConfig
from generec.batch.jobs import BatchConfig, batch_edit
from generec.errors import InputError
from generec.types import Origin
from generec.workspace import DB_NAME, SQLITE, Workspace


@dataclass(frozen=True)
class BenchBatchConfig:
    op: str = "cover"
    users: int = 300  # the first n users of the workspace
    top_k: int = 5
    workers: int = 2
    chunk: int = 5

    def __post_init__(self) -> None:
        if self.users < 1 or self.top_k < 1 or self.workers < 1 or self.chunk < 1:
            raise InputError("bench batch: --users, --top-k, --workers and --chunk must be positive")


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in ("seconds", "timings_s")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def edit_outputs(ws: Workspace) -> dict[str, tuple]:
    """What a batch edit made, comparable across runs: per AI-edited item its parent, watermark,
    provenance, fidelity report without timings, and a hash of its cover's decoded pixels."""
    import hashlib

    from generec.media.image import load_image

    out = {}
    for item in ws.items.all(origin=Origin.AI_EDITED):
        pixels = load_image(ws.media_path(item.cover.hash, item.cover.mime)) if item.cover else None
        out[item.id] = (item.parent_id, item.watermark_id, json.dumps(item.provenance, sort_keys=True), json.dumps(_strip(item.fidelity), sort_keys=True),
                        hashlib.sha256(pixels.tobytes()).hexdigest() if pixels is not None else None)  # fmt: skip
    return out


def bench_batch(ws: Workspace, config: BenchBatchConfig, progress: Callable[[str, int, int], None] | None = None) -> dict:
    from generec.fidelity.keys import KeyPaths, ensure_keys

    users = ws.users.ids()[: config.users]
    scratch = tempfile.mkdtemp(prefix="generec-bench-batch-")
    try:
        roots = {}
        for name in ("sequential", "ray"):  # each copy gets its own SQLite snapshot of the rows, whatever the engine
            roots[name] = os.path.join(scratch, name)
            shutil.copytree(ws.root, roots[name], ignore=shutil.ignore_patterns("reports", "*.lock", f"{DB_NAME}*"))
            ws.db.copy_to(Path(roots[name]) / DB_NAME)
        ensure_keys(Path(roots["sequential"]))
        shutil.rmtree(KeyPaths.under(roots["ray"]).folder, ignore_errors=True)
        shutil.copytree(KeyPaths.under(roots["sequential"]).folder, KeyPaths.under(roots["ray"]).folder)
        runs = {}
        for name, workers in (("sequential", 0), ("ray", config.workers)):
            with Workspace.open(roots[name], db=SQLITE) as copy:
                cfg = BatchConfig(workers=workers, chunk=config.chunk, cluster=ClusterConfig(num_cpus=config.workers))
                t0 = time.perf_counter()
                report = batch_edit(copy, config.op, users, config.top_k, cfg, progress=(lambda d, t, n=name: progress(n, d, t)) if progress else None)
                wall = time.perf_counter() - t0  # with planning and, for Ray, starting the cluster
                runs[name] = {**report.to_dict(), "wall_seconds": wall}
                runs[name]["outputs"] = edit_outputs(copy)
        a, b = runs["sequential"].pop("outputs"), runs["ray"].pop("outputs")
        differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seq, par = runs["sequential"], runs["ray"]
    return {"config": asdict(config), "tasks": seq["tasks"], "runs": runs,
            "speedup": seq["wall_seconds"] / par["wall_seconds"] if par["wall_seconds"] else None,
            "identical": not differ and len(a) == seq["written"], "differing_items": differ[:20], "items": len(a),
            "machine": f"{platform.node()} {os.cpu_count()} cpus {platform.python_version()}", "date": time.strftime("%Y-%m-%d")}  # fmt: skip
