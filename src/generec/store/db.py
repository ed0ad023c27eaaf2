"""A SQLite connection with explicit transactions and migrations on open."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from generec.errors import WorkspaceError, os_reason
from generec.store.schema import MIGRATIONS, SCHEMA_VERSION


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


class Database:
    """One connection to `generec.db`.

    Writes go through `transaction()`: every multi-row write commits whole or not at all. The
    rollback journal (not WAL) keeps the file untouched by a transaction that rolled back.
    """

    def __init__(self, path: str | Path, lock: Callable[[], AbstractContextManager] | None = None) -> None:
        """`lock()`: held while migrating, so that two processes never migrate the same file."""
        self.path = Path(path)
        check_database_file(self.path)
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self._depth = 0
        try:
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.migrate(lock)
        except sqlite3.DatabaseError as exc:  # e.g. a file that is not SQLite at all
            self.conn.close()
            raise WorkspaceError(f"{self.path} is not a readable generec database: {exc}") from None
        except BaseException:
            self.conn.close()
            raise

    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

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

        Nested use joins the outer transaction.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")
        finally:
            self._depth = 0

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: tuple | dict = ()) -> object:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        self.conn.close()
