"""What one batch worker does with a chunk of work: the pipeline's own calls, nothing written to
the database (the driver writes each chunk's rows in one transaction).

A worker opens the workspace by its path (a directory every node sees; the database is the
workspace's own file or `GENEREC_DB`), loads models once (one worker per process: a Ray actor, or
the driver itself for the sequential path) and runs `pipeline.edit` / `pipeline.create` with the
item repository's writes held back (`DeferredItems`). Media go to the content-addressed media
store as the pipeline writes them (atomic renames: a file is whole or absent, and a file nobody
references is harmless); the item rows come back to the driver.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from generec.errors import InputError
from generec.types import Item


class DeferredItems:
    """The workspace's item repository with `add`/`add_many` held back in `pending`. `get` sees
    the pending rows too (a repeated edit in one chunk is found, not made twice); other reads
    (`by_watermark`, `children_of`, ...) see the database only, so the driver checks the pending
    rows' watermark ids against each other and the store before it writes them."""

    def __init__(self, items) -> None:
        self._items = items
        self.pending: list[Item] = []

    def __getattr__(self, name: str):
        return getattr(self._items, name)

    def add_many(self, items) -> int:
        items = list(items)
        self.pending.extend(items)
        return len(items)

    def add(self, item: Item) -> None:
        self.add_many([item])

    def get(self, item_id: str) -> Item | None:
        return next((i for i in self.pending if i.id == item_id), None) or self._items.get(item_id)

    def take(self) -> list[Item]:
        out, self.pending = self.pending, []
        return out


@dataclass
class ChunkResult:
    """A chunk's new item rows (for the driver to write), per-task outcomes, and failures."""

    items: list[Item] = field(default_factory=list)
    done: list[dict[str, Any]] = field(default_factory=list)  # {user, item, new item id} per task
    failed: list[dict[str, Any]] = field(default_factory=list)  # {user, item, error}: an InputError of the pipeline
    pid: int = 0


class BatchWorker:
    """One process's worker. `threads`: torch threads (1 per process measured fastest here)."""

    def __init__(self, root: str, db: str | None = None, threads: int = 1) -> None:
        """`db`: the driver's database ("sqlite": the workspace's own file, or a PostgreSQL URL)."""
        import torch

        from generec.workspace import Workspace

        torch.set_num_threads(threads)
        self.threads = threads
        self.ws = Workspace.open(root, db=db)
        self.items = DeferredItems(self.ws.items)
        self.ws.items = self.items

    def run(self, method: str, chunk: list, *args) -> ChunkResult:
        """`method(chunk, *args)` with BLAS and OpenMP pools at `threads`, in every process alike: a
        near tie between two frames' scores can fall either way with another thread count (measured:
        1 of 1,492 covers differed between a 2-thread driver and 1-thread workers), and a job's
        output must not depend on where it ran."""
        from threadpoolctl import threadpool_limits

        if method not in ("edit", "create", "features"):
            raise ValueError(f"unknown batch method {method!r}")
        with threadpool_limits(limits=self.threads):
            return getattr(self, method)(chunk, *args)

    def edit(self, tasks: list[tuple[str, str]], op: str, config=None) -> ChunkResult:
        """`pipeline.edit(op, user, item)` for each (user, item) task."""
        from generec.pipeline import edit

        out = ChunkResult(pid=os.getpid())
        for user, item in tasks:
            try:
                result = edit(self.ws, op, user, item, config=config)
            except InputError as exc:  # cannot satisfy, blocked by the fidelity gate, ...: recorded, not fatal
                out.failed.append({"user": user, "item": item, "error": str(exc)})
                continue
            out.done.append({"user": user, "item": item, "new": result.item.id})
        out.items = self.items.take()
        return out

    def create(self, tasks: list[tuple[str, int]], instruction: str | None = None, config=None, create_config=None) -> ChunkResult:
        """`pipeline.create(user, n)` for each (user, n) task."""
        from generec.pipeline import create

        out = ChunkResult(pid=os.getpid())
        for user, n in tasks:
            try:
                made = create(self.ws, user, instruction=instruction, n=n, config=config, create_config=create_config)
            except InputError as exc:
                out.failed.append({"user": user, "item": None, "error": str(exc)})
                continue
            out.done.extend({"user": user, "item": None, "new": c.item.id} for c in made)
        out.items = self.items.take()
        return out

    def features(self, item_ids: list[str]) -> ChunkResult:
        """Cover features and keyframes of catalogue videos into the workspace's feature cache
        (files written atomically; nothing in the database)."""
        from generec.editor.keyframes import keyframes_many
        from generec.encoders.cache import FeatureCache
        from generec.encoders.image import get_image_encoder
        from generec.encoders.video import cover_features

        out = ChunkResult(pid=os.getpid())
        items = [i for i in (self.ws.items.get(x) for x in item_ids) if i is not None]
        encoder, cache = get_image_encoder(), FeatureCache.for_workspace(self.ws)
        cover_features(self.ws, items, encoder, cache)
        videos = [i for i in items if i.media is not None and i.media.mime.startswith("video/")]
        keyframes_many([self.ws.media_path(i.media.hash, i.media.mime) for i in videos], [i.media.hash for i in videos], encoder, cache)
        out.done = [{"user": None, "item": i.id, "new": None} for i in items]
        return out
