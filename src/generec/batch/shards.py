"""Map a function over chunks of work on Ray actors, or in this process: the results in order.

For work whose output must not depend on where it ran (the sharded evaluations,
`generec evaluate editor|creator --workers N`), every chunk runs the same way wherever it runs:

- in a worker of its own (one per process: a Ray actor, or one in the driver for `workers=0`)
  that opens the workspace by its path on the driver's database and makes `setup(ws, shared)`
  once (models, the oracle, an encoder); `shared` is what the driver computed, sent once;
- under one torch / BLAS / OpenMP thread, as the batch jobs' workers (`worker.py`): OpenBLAS sums
  a product in another order with another thread count or another number of rows (measured here:
  1e-14 apart in float64, 3e-5 in float32), enough to flip a near tie. The driver's own pools
  are restored after each chunk. A chunk must therefore batch only its own tasks' rows.

`workers=0` runs the chunks in this process, one after another, without importing Ray.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from generec.batch.cluster import ClusterConfig, _check_reachable, ray_cluster
from generec.batch.jobs import _db_url
from generec.errors import GenerecError, InputError, WorkspaceError
from generec.workspace import Workspace

T = TypeVar("T")


@dataclass(frozen=True)
class ShardConfig:
    workers: int = 0  # Ray actors, one CPU each; 0: in this process
    address: str | None = None  # an existing Ray cluster ("host:port" or "ray://host:port"); None: a local one of `workers` CPUs

    def __post_init__(self) -> None:
        if not isinstance(self.workers, int) or isinstance(self.workers, bool) or self.workers < 0:
            raise InputError(f"--workers must be 0 (in this process) or a positive number of Ray workers, got {self.workers!r}")
        if self.address is not None and self.workers == 0:
            raise InputError(f"--ray-address {self.address} runs the shards on that cluster: give --workers N (N >= 1) with it")

    @property
    def cluster(self) -> ClusterConfig:
        return ClusterConfig(address=self.address, num_cpus=self.workers or None)

    def check(self) -> None:
        """InputError now (before any shared step runs) when the address answers nothing."""
        if self.address and not self.address.startswith("ray://"):
            _check_reachable(self.address)


def blocks(tasks: Sequence[T], n: int) -> list[list[T]]:
    """`tasks` in at most `n` contiguous blocks of near-equal size, in order."""
    n = max(1, min(n, len(tasks)))
    size, extra = divmod(len(tasks), n)
    out, start = [], 0
    for b in range(n):
        stop = start + size + (b < extra)
        out.append(list(tasks[start:stop]))
        start = stop
    return [b for b in out if b]


@contextmanager
def _thread_pools(threads: int) -> Iterator[None]:
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(before)


class ShardWorker:
    """One process's worker: the workspace, `setup(ws, shared)` once, then `fn(state, chunk)`."""

    def __init__(self, root: str, db: str | None, setup: Callable[[Workspace, Any], Any], shared: Any, threads: int = 1) -> None:
        self.threads = threads
        self.ws = Workspace.open(root, db=db)
        with _thread_pools(threads):
            self.state = setup(self.ws, shared)

    def run(self, fn: Callable[[Any, list], Any], chunk: list) -> Any:
        with _thread_pools(self.threads):
            return fn(self.state, chunk)

    def close(self) -> None:
        self.ws.close()


class ShardPool:
    """`map(fn, chunks)`: `fn(state, chunk)` for each chunk, on the workers; results in chunk order."""

    def __init__(self, local: ShardWorker | None = None, actors: list | None = None, where: str = "in this process") -> None:
        self._local, self._actors, self.where = local, actors or [], where

    @property
    def workers(self) -> int:
        return len(self._actors)

    def map(self, fn: Callable[[Any, list], T], chunks: Sequence[list]) -> Iterator[T]:
        if self._local is not None:
            for chunk in chunks:
                yield self._local.run(fn, chunk)
            return
        import ray
        from ray.util import ActorPool

        try:
            yield from ActorPool(self._actors).map(lambda actor, chunk: actor.run.remote(fn, chunk), list(chunks))
        except ray.exceptions.RayTaskError as exc:  # the shard's own error, as the sequential run raises it
            cause = getattr(exc, "cause", None)
            if isinstance(cause, GenerecError):
                raise cause from None
            raise
        except ray.exceptions.RayError as exc:  # a worker died (memory, a lost node)
            raise WorkspaceError(f"a shard worker failed ({str(exc).splitlines()[0]}); rerun, or run with --workers 0") from None


@contextmanager
def shard_pool(ws: Workspace, setup: Callable[[Workspace, Any], Any], shared: Any, config: ShardConfig) -> Iterator[ShardPool]:
    """`with shard_pool(ws, setup, shared, cfg) as pool:` workers made (Ray connected when
    `cfg.workers`), each with `setup(its ws, shared)`; all stopped after."""
    root, db = str(Path(ws.root).resolve()), _db_url(ws)
    if config.workers == 0:
        worker = ShardWorker(root, db, setup, shared)
        try:
            yield ShardPool(local=worker)
        finally:
            worker.close()
        return
    with ray_cluster(config.cluster) as info:
        import ray

        if config.workers > info["cpus"]:
            raise InputError(f"--workers {config.workers}: the Ray cluster at {info['address']} has {info['cpus']} CPU(s), one per worker")
        ref = ray.put(shared)  # sent once; each actor reads it at start
        Actor = ray.remote(num_cpus=1)(ShardWorker)
        actors = [Actor.remote(root, db, setup, ref) for _ in range(config.workers)]
        try:
            yield ShardPool(actors=actors, where="local Ray" if info["local"] else f"Ray at {info['address']}")
        finally:
            for actor in actors:
                ray.kill(actor)
