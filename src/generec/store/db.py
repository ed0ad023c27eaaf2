"""A SQLite connection with explicit transactions and migrations on open."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from generec.errors import WorkspaceError, os_reason
from generec.store.memo import ReadMemo
from generec.store.schema import MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    import pandas as pd


SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite 3 database file


def check_database_file(path: str | Path) -> None:
    """WorkspaceError when `path` is a non-empty file that is not an SQLite database. SQLite
    itself takes a file shorter than its 100-byte header for an empty database and writes a
    fresh schema over it; this refuses before anything is opened or written."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise WorkspaceError(f"{path} is not a readable generec database: {os_reason(exc)}") from None
    if head and head != SQLITE_HEADER:
        raise WorkspaceError(
            f"{path} is not a readable generec database: expected an SQLite file, found one "
            f"starting {head!r}; restore it from a backup or move it away"
        )


class Database(ReadMemo):
    """`generec.db`, one connection per thread.

    Writes go through `transaction()`: every multi-row write commits whole or not at all, and one
    that rolled back leaves the file as it was. The service puts the file in WAL mode
    (`enable_wal`), so that feeds are read while feedback is written. Within a
    process, write transactions take one lock: one writer path, no busy waits between threads;
    between processes (service workers, a CLI beside the service) SQLite's busy timeout
    serialises them.

    `store.postgres.PostgresDatabase` has the same interface; the repositories' SQL (`?`
    placeholders) runs on both, and the few words that differ come from the class attributes
    and methods below (`json_text`, `log_order`).
    """

    engine = "sqlite"
    IntegrityError = sqlite3.IntegrityError  # what a violated constraint raises
    BUSY_TIMEOUT_MS = 30_000

    def __init__(self, path: str | Path, lock: Callable[[], AbstractContextManager] | None = None) -> None:
        """`lock()`: held while migrating, so that two processes never migrate the same file."""
        self.path = Path(path)
        check_database_file(self.path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._guard = threading.Lock()  # guards `_all`
        self.write_lock = threading.RLock()  # the process's one writer path
        self._closed = False
        self._synchronous: str | None = None  # set by enable_wal for every connection, this thread's and later ones
        conn = self._connect()
        try:
            self.migrate(lock)
        except sqlite3.DatabaseError as exc:  # e.g. a file that is not SQLite at all
            self.close()
            raise WorkspaceError(f"{self.path} is not a readable generec database: {exc}") from None
        except BaseException:
            self.close()
            raise

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=self.BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {self.BUSY_TIMEOUT_MS}")
            if self._synchronous:
                conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise WorkspaceError(f"{self.path} is not a readable generec database: {exc}") from None
        self._local.conn, self._local.depth = conn, 0
        with self._guard:
            self._all.append(conn)
        return conn

    def enable_wal(self) -> bool:
        """Put the file in WAL mode (persistent; the service does this): readers no longer wait
        for a writer. A command that only reads leaves a rollback-journal file byte for byte as
        it was, which is why this is not done on every open. False when the file is read-only.
        `synchronous = NORMAL` reaches this thread's connection and every one opened after it (the
        service calls this before its worker threads exist); other threads' open ones keep FULL."""
        try:
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError:
            return False
        if str(mode).lower() != "wal":
            return False
        # in WAL mode: a commit is not fsynced (durable at each checkpoint), the file is never corrupt. The
        # setting belongs to a connection, and each thread has its own: later ones get it in `_connect`
        # (without that, the service's worker threads fsynced every feed's impressions: 12 % of its time).
        self._synchronous = "NORMAL"
        self.conn.execute("PRAGMA synchronous = NORMAL")
        return True

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise WorkspaceError(f"{self.path}: the database was closed")
        return self._connect()

    @property
    def name(self) -> str:
        """Where the data is, for messages."""
        return str(self.path)

    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    @staticmethod
    def json_text(column: str, key: str) -> str:
        """SQL for the text at `key` of the JSON object in `column`."""
        return f"json_extract({column}, '$.{key}')"

    def log_order(self, conn: sqlite3.Connection) -> None:
        """Called in a transaction before it appends to the interaction log, so that row ids
        commit in id order (a reader that follows the log by id misses no row). SQLite's writers
        are serial already."""

    def copy_to(self, path: str | Path) -> None:
        """A consistent SQLite copy of the whole database at `path` (SQLite's backup API)."""
        dst = sqlite3.connect(path)
        try:
            self.conn.backup(dst)
        finally:
            dst.close()

    def migrate(self, lock: Callable[[], AbstractContextManager] | None = None) -> None:
        """Bring the schema to `SCHEMA_VERSION`, one migration per transaction."""
        self._check_version(self.version)
        if self.version == SCHEMA_VERSION:
            return
        with (lock or nullcontext)():
            current = self.version  # again: another process may have migrated while we waited
            self._check_version(current)
            for version in range(current + 1, SCHEMA_VERSION + 1):
                # executescript commits first, so BEGIN/COMMIT are part of the script itself.
                self.conn.executescript(
                    f"BEGIN IMMEDIATE;\n{MIGRATIONS[version - 1]}\n"
                    f"PRAGMA user_version = {version};\nCOMMIT;"
                )

    def _check_version(self, current: int) -> None:
        if current > SCHEMA_VERSION:
            raise WorkspaceError(
                f"{self.path} has schema version {current}, newer than this generec "
                f"(version {SCHEMA_VERSION}); upgrade generec to open it"
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """`with db.transaction() as conn:` commits on success, rolls back on any error.

        Nested use (in the same thread) joins the outer transaction.
        """
        conn = self.conn
        if self._local.depth:
            self._local.depth += 1
            try:
                yield conn
            finally:
                self._local.depth -= 1
            return
        self._forget_reads()
        with self.write_lock:
            conn.execute("BEGIN IMMEDIATE")
            self._local.depth = 1
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
            finally:
                self._local.depth = 0

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self._memoised("query", sql, params, lambda: self.conn.execute(sql, params).fetchall())

    def scalar(self, sql: str, params: tuple | dict = ()) -> object:
        return self._memoised("scalar", sql, params, lambda: self._scalar(sql, params))

    def _scalar(self, sql: str, params: tuple | dict) -> object:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def frame(self, sql: str, params: tuple | dict = ()) -> pd.DataFrame:
        """A query's rows as a DataFrame (pandas' own SQLite reader, its fastest path)."""
        import pandas as pd

        return pd.read_sql_query(sql, self.conn, params=params)

    def integrity(self) -> str:
        """`PRAGMA integrity_check`: "ok", or the problems SQLite found."""
        return "; ".join(str(r[0]) for r in self.query("PRAGMA integrity_check"))

    def close(self) -> None:
        self._closed = True  # first: a thread asking now gets an error, not a connection nobody closes
        with self._guard:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
