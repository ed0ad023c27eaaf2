"""A SQLite connection with explicit transactions and migrations on open."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generec.errors import WorkspaceError
from generec.store.schema import MIGRATIONS, SCHEMA_VERSION


class Database:
    """One connection to `generec.db`.

    Writes go through `transaction()`: every multi-row write commits whole or not at all. The
    rollback journal (not WAL) keeps the file untouched by a transaction that rolled back.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA foreign_keys = ON")
        self._depth = 0
        self.migrate()

    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Bring the schema to `SCHEMA_VERSION`, one migration per transaction."""
        current = self.version
        if current > SCHEMA_VERSION:
            raise WorkspaceError(
                f"{self.path} has schema version {current}, newer than this generec "
                f"(version {SCHEMA_VERSION}); upgrade generec to open it"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            # executescript commits first, so BEGIN/COMMIT are part of the script itself.
            self.conn.executescript(
                f"BEGIN IMMEDIATE;\n{MIGRATIONS[version - 1]}\n"
                f"PRAGMA user_version = {version};\nCOMMIT;"
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
