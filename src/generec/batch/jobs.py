"""Batch jobs: personal variants for every user's top-k, bulk creation, catalogue features.

1. plan: the tasks (user × top-k item, user × n, or catalogue item), less what is already done —
   a job is resumable because "done" is read from the workspace itself (the user's AI variant of
   that item by that op exists; the user has n creations; the item's features are cached);
2. run: chunks of tasks on Ray actors (one model load per actor), or in this process
   (`workers=0`, the sequential baseline: the same worker code, one chunk after another);
3. write: the driver writes each finished chunk's item rows in one transaction, skipping any row
   already stored, so a chunk computed twice (a retried worker, a resumed job) is written once.

Outputs equal the sequential path's for the same seed: the pipeline is deterministic per (user,
item, seed), nothing a task reads is written by another task of the same job, and every worker
(the driver too, on the sequential path) runs with the same thread pools (`BatchWorker.run`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from generec.batch.cluster import ClusterConfig, ray_cluster
from generec.batch.worker import BatchWorker, ChunkResult
from generec.errors import InputError, WorkspaceError
from generec.types import Item, Origin
from generec.workspace import Workspace

BATCH_EDIT_OPS = ("cover", "clip", "style")
MAX_CREATE_N = 16  # `Creator(...)(guidance, n)` makes at most this many per call


@dataclass(frozen=True)
class BatchConfig:
    workers: int | None = None  # Ray actors (None: one per CPU of the cluster); 0: sequential, in this process
    chunk: int = 4  # tasks per chunk (a user's top-k stays in one chunk when chunk >= top-k)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    max_retries: int = 1  # a dead worker is restarted and its chunk run again this many times

    def __post_init__(self) -> None:
        if self.workers is not None and (not isinstance(self.workers, int) or self.workers < 0):
            raise InputError(f"--workers must be 0 (sequential) or more, got {self.workers!r}")
        if not isinstance(self.chunk, int) or self.chunk < 1:
            raise InputError(f"--chunk must be a positive integer, got {self.chunk!r}")


@dataclass
class BatchReport:
    job: str
    tasks: int  # planned in all
    skipped: int  # already done before this run
    done: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    written: int = 0  # item rows this run wrote
    seconds: float = 0.0
    workers: int = 0
    cluster: str = "sequential"
    processes: int = 0  # distinct worker processes that did work

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["per_second"] = self.done / self.seconds if self.seconds > 0 else None
        return out


# -- 1. plans ------------------------------------------------------------------------------------


def resolve_users(ws: Workspace, users: str | Sequence[str]) -> list[str]:
    """"all", a file of user ids (one per line), or a list; unknown ids are an InputError."""
    if isinstance(users, str):
        if users == "all":
            return ws.users.ids()
        from pathlib import Path

        path = Path(users)
        try:
            ids = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"--users {users}: expected 'all' or a readable file of user ids, one per line ({exc})") from None
    else:
        ids = list(users)
    if not ids:
        raise InputError(f"--users {users}: no user ids")
    unique = list(dict.fromkeys(ids))
    known = ws.users.existing(unique)
    unknown = [u for u in unique if u not in known]
    if unknown:
        raise InputError(f"--users: {len(unknown)} unknown user id(s), e.g. {unknown[0]!r}; not in {ws.root}")
    return unique


def _done_edits(ws: Workspace, op: str, pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    children = ws.items.children_of(sorted({i for _, i in pairs}))
    return {((c.provenance or {}).get("user_id"), parent) for parent, kids in children.items() for c in kids
            if c.origin == Origin.AI_EDITED and (c.provenance or {}).get("op") == op}  # fmt: skip


def plan_edit(ws: Workspace, op: str, users: str | Sequence[str], top_k: int) -> tuple[list[tuple[str, str]], int]:
    """(tasks to do, tasks already done): each user's top-k of the serving retriever."""
    if op not in BATCH_EDIT_OPS:
        raise InputError(f"batch edit: unknown op {op!r}; valid: {', '.join(BATCH_EDIT_OPS)}")
    if not isinstance(top_k, int) or top_k < 1:
        raise InputError(f"--top-k must be a positive integer, got {top_k!r}")
    from generec.retrieval.serving import load_serving

    ids = resolve_users(ws, users)
    model = load_serving(ws)
    if model is None:
        raise InputError(f"batch edit needs a trained retriever for the users' top items; run `generec train -w {ws.root}` first")
    k = min(top_k, model.data_.n_items)
    pairs = [(u, s.item_id) for u in ids for s in model.recommend(u, k, exclude_seen=True).items]
    done = _done_edits(ws, op, pairs)
    todo = [p for p in pairs if p not in done]
    return todo, len(pairs) - len(todo)


def plan_create(ws: Workspace, users: str | Sequence[str], n: int) -> tuple[list[tuple[str, int]], int]:
    """(tasks, creations already made). A task asks for all `n`: the creator's items are seeded
    0..n-1 and a seed already made comes back as the stored item, so a resumed user gets only
    the missing ones (and the driver writes only rows not stored)."""
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_CREATE_N:
        raise InputError(f"--n must be an integer from 1 to {MAX_CREATE_N} (the creator's limit per call), got {n!r}")
    ids = resolve_users(ws, users)
    made: dict[str, int] = {}
    for item in ws.items.all(origin=Origin.AI_CREATED):
        u = (item.provenance or {}).get("user_id")
        made[u] = made.get(u, 0) + 1
    todo = [(u, n) for u in ids if made.get(u, 0) < n]
    return todo, sum(min(n, made.get(u, 0)) for u in ids)


def plan_features(ws: Workspace) -> tuple[list[str], int]:
    from generec.editor.keyframes import KeyframeConfig
    from generec.encoders.cache import FeatureCache
    from generec.encoders.image import get_image_encoder

    cache, version = FeatureCache.for_workspace(ws), get_image_encoder().version
    what = f"keyframes-{KeyframeConfig().digest()}"
    videos = [i for i in ws.items.all(origin=Origin.HUMAN) if i.media is not None and i.media.mime.startswith("video/")]
    todo = [i.id for i in videos if not cache.has(i.media.hash, version, what)]
    return todo, len(videos) - len(todo)


# -- 2. running and 3. writing ------------------------------------------------------------------


def _chunks(tasks: list, size: int) -> list[list]:
    return [tasks[i : i + size] for i in range(0, len(tasks), size)]


def _write(ws: Workspace, result: ChunkResult) -> int:
    """The chunk's item rows in one transaction; rows already stored are skipped."""
    if not result.items:
        return 0
    with ws.db.transaction():
        have = ws.items.existing([i.id for i in result.items])
        new: list[Item] = []
        for item in result.items:
            if item.id in have or any(n.id == item.id for n in new):
                continue
            if item.watermark_id and ((owner := ws.items.by_watermark(item.watermark_id)) is not None or any(n.watermark_id == item.watermark_id for n in new)):
                raise WorkspaceError(f"batch: watermark id {item.watermark_id} of {item.id} is already {getattr(owner, 'id', 'taken')}'s; rerun the job")
            new.append(item)
        ws.items.add_many(new)
    return len(new)


def _db_url(ws: Workspace) -> str:
    """The database the workers must open: the driver's PostgreSQL URL, or the workspace's own file
    (never whatever $GENEREC_DB says on a worker's node)."""
    from generec.workspace import SQLITE

    return getattr(ws.db, "url", SQLITE)


def _run_sequential(ws: Workspace, method: str, args: tuple, chunks: list[list]) -> Iterator[ChunkResult]:
    worker = BatchWorker(str(ws.root), _db_url(ws))
    try:
        for chunk in chunks:
            yield worker.run(method, chunk, *args)
    finally:
        worker.ws.close()


def _run_ray(ws: Workspace, method: str, args: tuple, chunks: list[list], cfg: BatchConfig, info: dict) -> Iterator[ChunkResult]:
    import ray
    from ray.util import ActorPool

    n = cfg.workers or max(1, info["cpus"])
    Actor = ray.remote(num_cpus=1, max_restarts=cfg.max_retries, max_task_retries=cfg.max_retries)(BatchWorker)
    actors = [Actor.remote(str(ws.root.resolve()), _db_url(ws)) for _ in range(min(n, len(chunks)) or 1)]

    try:
        yield from ActorPool(actors).map_unordered(lambda actor, chunk: actor.run.remote(method, chunk, *args), chunks)
    except ray.exceptions.RayError as exc:
        raise WorkspaceError(f"batch: a worker failed ({str(exc).splitlines()[0]}); finished chunks are stored, rerun the job to resume") from None
    finally:
        for actor in actors:
            ray.kill(actor)


def run_job(ws: Workspace, job: str, method: str, args: tuple, tasks: list, skipped: int, cfg: BatchConfig,
            progress: Callable[[int, int], None] | None = None) -> BatchReport:  # fmt: skip
    report = BatchReport(job, len(tasks) + skipped, skipped)
    chunks = _chunks(tasks, cfg.chunk)
    t0 = time.perf_counter()
    pids: set[int] = set()

    def consume(results: Iterator[ChunkResult]) -> None:
        for result in results:
            report.written += _write(ws, result)
            report.done += len(result.done) if job != "create" else len({d["user"] for d in result.done})
            report.failed.extend(result.failed)
            pids.add(result.pid)
            if progress:
                progress(report.done + len(report.failed), len(tasks))

    if chunks and cfg.workers == 0:
        consume(_run_sequential(ws, method, args, chunks))
    elif chunks:
        with ray_cluster(cfg.cluster) as info:
            report.cluster = "local" if info["local"] else info["address"]
            report.workers = min(cfg.workers or max(1, info["cpus"]), len(chunks))
            consume(_run_ray(ws, method, args, chunks, cfg, info))
    report.seconds = time.perf_counter() - t0
    report.processes = len(pids)
    return report


def batch_edit(ws: Workspace, op: str, users: str | Sequence[str] = "all", top_k: int = 10, config: BatchConfig | None = None,
               edit_config=None, progress: Callable[[int, int], None] | None = None) -> BatchReport:  # fmt: skip
    """Personal `op` variants of every user's top-k items."""
    tasks, skipped = plan_edit(ws, op, users, top_k)
    return run_job(ws, f"edit {op}", "edit", (op, edit_config), tasks, skipped, config or BatchConfig(), progress)


def batch_create(ws: Workspace, users: str | Sequence[str] = "all", n: int = 2, instruction: str | None = None,
                 config: BatchConfig | None = None, progress: Callable[[int, int], None] | None = None) -> BatchReport:  # fmt: skip
    """`n` AI-created items for each user."""
    from generec.creator.checkpoint import state_path

    if not state_path(ws).is_file():  # before any worker starts
        raise InputError(f"batch create needs a trained creator; run `generec train --model creator -w {ws.root}` first")
    tasks, skipped = plan_create(ws, users, n)
    return run_job(ws, "create", "create", (instruction,), tasks, skipped, config or BatchConfig(chunk=1), progress)


def batch_features(ws: Workspace, config: BatchConfig | None = None, progress: Callable[[int, int], None] | None = None) -> BatchReport:
    """Cover features and keyframes of every catalogue video, in the feature cache."""
    tasks, skipped = plan_features(ws)
    cfg = config or BatchConfig(chunk=16)
    return run_job(ws, "features", "features", (), tasks, skipped, cfg, progress)
