"""A workspace: one directory with the database, media, feature cache, models and reports.

```
workspace/
  generec.db   SQLite: users, items, interactions, instructions, datasets, API keys
  generec.lock held (flock) by the one process writing a multi-step change, e.g. an import
  media/       content-addressed files
  features/    encoder cache keyed by media hash + encoder version
  models/      checkpoints with their config and data hash
  reports/     benchmark and evaluation output
  oracle/      simulator ground truth; never read by the system under test
```

With `db="postgresql://..."` (or `$GENEREC_DB`, or `generec --db`), the rows live in that
PostgreSQL database instead of `generec.db`, and several nodes that mount the same directory
(media, models) share them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from generec.errors import InputError, WorkspaceError
from generec.store.api_keys import ApiKeys
from generec.store.db import Database, check_database_file
from generec.store.dburl import is_postgres_url, redact
from generec.store.lock import exclusive
from generec.store.media import MediaStore
from generec.store.repositories import Datasets, Instructions, Interactions, Items, Users

DB_NAME = "generec.db"
LOCK_NAME = "generec.lock"
LOCK_TIMEOUT_S = 600.0
SUBDIRS = ("media", "features", "models", "reports")
SQLITE = "sqlite"  # `db=`: the workspace's own generec.db


def default_path() -> Path:
    """`$GENEREC_HOME`, else `./workspace`."""
    return Path(os.environ.get("GENEREC_HOME") or "workspace")


def resolve_db(db: str | None = None) -> str:
    """Where a workspace's rows live: `db`, else `$GENEREC_DB`, else "sqlite" (its generec.db);
    a PostgreSQL database is named by a `postgresql://` URL."""
    value = (db if db is not None else os.environ.get("GENEREC_DB", "")).strip() or SQLITE
    if value != SQLITE and not is_postgres_url(value):
        raise InputError(f"database {redact(value)!r} (--db / GENEREC_DB): expected a postgresql://user@host/dbname URL, or {SQLITE!r} for the workspace's own {DB_NAME}")
    return value


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
    def open(cls, root: str | Path | None = None, create: bool = False, db: str | None = None) -> Workspace:
        """Open the workspace at `root`; with `create`, make it if it does not exist.

        `db`: where its rows live, `resolve_db`'s way: the workspace's generec.db, or a
        `postgresql://` URL (the media, features and models stay in `root`)."""
        root = Path(root) if root is not None else default_path()
        url = resolve_db(db)
        db_path, database = root / DB_NAME, None
        if url == SQLITE:
            check_database_file(db_path)  # before anything is created beside it
        if url == SQLITE and not db_path.exists() and not create:
            raise WorkspaceError(
                f"no workspace at {root} (no {DB_NAME}); build or load a data set first, "
                "e.g. `generec data build microvideo --size tiny`"
            )
        if url != SQLITE and not create and not root.is_dir():
            raise WorkspaceError(f"no workspace directory at {root} (the media and models beside the database); mount it there, or pass --workspace")
        if root.exists() and not root.is_dir():
            raise WorkspaceError(f"workspace path {root} exists and is not a directory")
        if url != SQLITE:
            from generec.store.postgres import PostgresDatabase

            database = PostgresDatabase(url, create=create)  # first: a server that cannot be reached leaves nothing written
        try:
            root.mkdir(parents=True, exist_ok=True)
            for sub in SUBDIRS:
                if (root / sub).exists() and not (root / sub).is_dir():
                    raise WorkspaceError(f"workspace {root}: {sub} exists and is not a directory")
                (root / sub).mkdir(exist_ok=True)
        except BaseException:
            if database is not None:
                database.close()
            raise
        lock_path = root / LOCK_NAME
        try:
            lock_path.touch(exist_ok=True)  # present from the start, so a command that fails leaves the tree as it was
        except OSError:
            pass  # a read-only workspace can still be read
        # two processes opening a new workspace at once: only one runs the migrations
        return cls(root, database or Database(db_path, lock=lambda: exclusive(lock_path, "set up its database")))

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
    pairs = int(ws.db.scalar("SELECT COUNT(*) FROM (SELECT DISTINCT user_id, item_id FROM interactions) AS pairs"))
    n_users, n_items = ws.users.count(), ws.items.count()
    return WorkspaceStats(
        path=str(ws.root), schema_version=ws.db.version,
        datasets=[{k: d[k] for k in ("name", "source", "split")} | {"size": d["params"].get("size")} for d in ws.datasets.all()],
        users=n_users, items=n_items, items_by_kind=counts["kind"], items_by_origin=counts["origin"],
        interactions=ws.interactions.count(), events=ws.interactions.counts(),
        instructions=ws.instructions.count(), media_files=ws.media.count(),
        media_bytes=ws.media.size_bytes(), density=pairs / max(1, n_users * n_items),
    )  # fmt: skip


def holds_workspace(root: str | Path, db: str | None = None) -> bool:
    """Whether `root` holds a workspace: its generec.db, or (PostgreSQL) users or items in the database."""
    url = resolve_db(db)
    if url == SQLITE:
        return (Path(root) / DB_NAME).exists()
    from generec.store.postgres import PostgresDatabase

    try:
        database = PostgresDatabase(url, create=False)  # a check: never creates the schema
    except WorkspaceError as exc:
        if "no generec schema" in str(exc):
            return False
        raise
    try:
        return bool(database.scalar("SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM items)"))
    finally:
        database.close()


@contextmanager
def _rows_replaced(ws: Workspace, overwrite: bool) -> Iterator[None]:
    """A shared database's part of `fresh_workspace`: the block's rows in one transaction, which
    first deletes the rows already there (only with `overwrite`)."""
    with ws.db.transaction():
        if not ws.is_empty() or ws.datasets.all():
            if not overwrite:
                raise WorkspaceError(f"{ws.db.name} already holds a workspace; pass --overwrite to replace it, or choose another --db")
            ws.db.clear()
        yield


@contextmanager
def fresh_workspace(root: str | Path, overwrite: bool = False, db: str | None = None) -> Iterator[Workspace]:
    """An empty workspace that appears at `root` only if the block succeeds.

    It is built beside `root` and renamed into place at the end, so a failed build leaves
    `root` as it was. An existing workspace at `root` is an error unless `overwrite`. With a
    PostgreSQL `db` (`resolve_db`'s way), the rows are written in one transaction that commits
    only if the block succeeds, and `overwrite` replaces the rows already in that database.
    """
    root, url = Path(root), resolve_db(db)
    held = (root / DB_NAME).exists() or (url != SQLITE and (root / "media").is_dir())
    if held and not overwrite:
        raise WorkspaceError(f"{root} already holds a workspace; pass --overwrite to replace it, or choose another --workspace")
    if root.exists() and not held and any(root.iterdir()):
        raise WorkspaceError(f"{root} is a non-empty directory that is not a workspace; refusing to write there")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.new-", dir=root.parent))
    try:
        ws = Workspace.open(tmp, create=True, db=url)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        with nullcontext() if url == SQLITE else _rows_replaced(ws, overwrite):
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
