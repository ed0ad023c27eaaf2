"""A workspace: one directory with the database, media, feature cache, models and reports.

```
workspace/
  generec.db   SQLite: users, items, interactions, instructions, datasets
  generec.lock held (flock) by the one process writing a multi-step change, e.g. an import
  media/       content-addressed files
  features/    encoder cache keyed by media hash + encoder version
  models/      checkpoints with their config and data hash
  reports/     benchmark and evaluation output
  oracle/      simulator ground truth; never read by the system under test
```
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from generec.errors import WorkspaceError
from generec.store.api_keys import ApiKeys
from generec.store.db import Database, check_database_file
from generec.store.lock import exclusive
from generec.store.media import MediaStore
from generec.store.repositories import Datasets, Instructions, Interactions, Items, Users

DB_NAME = "generec.db"
LOCK_NAME = "generec.lock"
LOCK_TIMEOUT_S = 600.0
SUBDIRS = ("media", "features", "models", "reports")


def default_path() -> Path:
    """`$GENEREC_HOME`, else `./workspace`."""
    return Path(os.environ.get("GENEREC_HOME") or "workspace")


class Workspace:
    def __init__(self, root: str | Path, db: Database) -> None:
        self.root = Path(root)
        self.db = db
        self.media = MediaStore(self.root / "media")
        self.items = Items(db)
        self.users = Users(db)
        self.interactions = Interactions(db)
        self.instructions = Instructions(db)
        self.datasets = Datasets(db)
        self.api_keys = ApiKeys(db)
        self._locked = False

    @classmethod
    def open(cls, root: str | Path | None = None, create: bool = False) -> Workspace:
        """Open the workspace at `root`; with `create`, make it if it does not exist."""
        root = Path(root) if root is not None else default_path()
        db_path = root / DB_NAME
        check_database_file(db_path)  # before anything is created beside it
        if not db_path.exists():
            if not create:
                raise WorkspaceError(
                    f"no workspace at {root} (no {DB_NAME}); build or load a data set first, "
                    "e.g. `generec data build microvideo --size tiny`"
                )
            if root.exists() and not root.is_dir():
                raise WorkspaceError(f"workspace path {root} exists and is not a directory")
            root.mkdir(parents=True, exist_ok=True)
        for sub in SUBDIRS:
            if (root / sub).exists() and not (root / sub).is_dir():
                raise WorkspaceError(f"workspace {root}: {sub} exists and is not a directory")
            (root / sub).mkdir(exist_ok=True)
        lock_path = root / LOCK_NAME
        try:
            lock_path.touch(exist_ok=True)  # present from the start, so a command that fails leaves the tree as it was
        except OSError:
            pass  # a read-only workspace can still be read
        # two processes opening a new workspace at once: only one runs the migrations
        return cls(root, Database(db_path, lock=lambda: exclusive(lock_path, "set up its database")))

    @property
    def oracle_dir(self) -> Path:
        return self.root / "oracle"

    def path(self, sub: str) -> Path:
        return self.root / sub

    def is_empty(self) -> bool:
        return self.items.count() == 0 and self.users.count() == 0

    def media_path(self, digest: str, mime: str) -> Path:
        return self.media.path(digest, mime)

    @contextmanager
    def lock(self, what: str, timeout_s: float = LOCK_TIMEOUT_S, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Be the only process writing to this workspace inside the block (re-entrant per object).

        Waits up to `timeout_s` for another holder, calling `on_wait(message)` once, then raises
        a WorkspaceError saying the workspace is busy.
        """
        if self._locked:
            yield
            return
        with exclusive(self.root / LOCK_NAME, what, timeout_s, on_wait):
            self._locked = True
            try:
                yield
            finally:
                self._locked = False

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class WorkspaceStats:
    path: str
    schema_version: int
    datasets: list[dict]
    users: int
    items: int
    items_by_kind: dict[str, int]
    items_by_origin: dict[str, int]
    interactions: int
    events: dict[str, int]
    instructions: int
    media_files: int
    media_bytes: int
    density: float  # distinct (user, item) pairs / (users × items)


def workspace_stats(ws: Workspace) -> WorkspaceStats:
    counts = ws.items.counts()
    pairs = int(ws.db.scalar("SELECT COUNT(*) FROM (SELECT DISTINCT user_id, item_id FROM interactions)"))
    n_users, n_items = ws.users.count(), ws.items.count()
    return WorkspaceStats(
        path=str(ws.root), schema_version=ws.db.version,
        datasets=[{k: d[k] for k in ("name", "source", "split")} | {"size": d["params"].get("size")} for d in ws.datasets.all()],
        users=n_users, items=n_items, items_by_kind=counts["kind"], items_by_origin=counts["origin"],
        interactions=ws.interactions.count(), events=ws.interactions.counts(),
        instructions=ws.instructions.count(), media_files=ws.media.count(),
        media_bytes=ws.media.size_bytes(), density=pairs / max(1, n_users * n_items),
    )  # fmt: skip


@contextmanager
def fresh_workspace(root: str | Path, overwrite: bool = False) -> Iterator[Workspace]:
    """An empty workspace that appears at `root` only if the block succeeds.

    It is built beside `root` and renamed into place at the end, so a failed build leaves
    `root` as it was. An existing workspace at `root` is an error unless `overwrite`.
    """
    root = Path(root)
    if (root / DB_NAME).exists() and not overwrite:
        raise WorkspaceError(f"{root} already holds a workspace; pass --overwrite to replace it, or choose another --workspace")
    if root.exists() and not (root / DB_NAME).exists() and any(root.iterdir()):
        raise WorkspaceError(f"{root} is a non-empty directory that is not a workspace; refusing to write there")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.new-", dir=root.parent))
    ws = Workspace.open(tmp, create=True)
    try:
        yield ws
    except BaseException:
        ws.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    ws.close()
    old = None
    if root.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{root.name}.old-", dir=root.parent))
        os.replace(root, old / "ws")
    os.replace(tmp, root)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
