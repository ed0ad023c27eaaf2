"""PostgreSQL as the store: `db.Database`'s interface over a server that several nodes share.

The repositories write one SQL for both engines, in SQLite's words; what differs is translated here:

- placeholders: `?` becomes psycopg's `%s` and a literal `%` is doubled (`to_pyformat`, cached);
- insertion order: users and items have an explicit `rowid` identity column (schema.py), so
  `ORDER BY rowid` reads the same; interactions and instructions have identity `id`s;
- JSON: `json_text(column, key)` is `(column::jsonb ->> 'key')`;
- `INSERT ... ON CONFLICT (user_id, event_id) WHERE event_id IS NOT NULL DO NOTHING` is PostgreSQL's own
  syntax, and changed-row counts come from `cursor.rowcount` on both;
- the schema version is a one-row `schema_version` table.

Connections: one per thread, in autocommit mode, so that a read never holds a transaction open;
`transaction()` is BEGIN ... COMMIT (ROLLBACK on any error). Writers in several processes rely on
PostgreSQL's own row locks; no process-local lock is taken. The one place that relies on a single
writer, the interaction log read by id (`Interactions.since`), takes a transaction-level advisory
lock (`log_order`), so that its ids commit in id order, as they do with SQLite's one writer.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg.conninfo import conninfo_to_dict

from generec.errors import WorkspaceError
from generec.store.dburl import password_of, redact
from generec.store.memo import ReadMemo
from generec.store.schema import POSTGRES_MIGRATIONS, SCHEMA_VERSION, TABLES

if TYPE_CHECKING:
    import pandas as pd

CONNECT_TIMEOUT_S = 10  # unless the URL says otherwise
LOCK_TIMEOUT_MS = 30_000  # a writer waits this long for a lock, like SQLite's busy timeout
_LOCKS = 1734700658  # "genr": generec's advisory locks are (_LOCKS, n)
_MIGRATE_LOCK, _LOG_LOCK = 1, 2
_COPY_ORDER = {"users": "rowid", "items": "rowid", "interactions": "id", "instructions": "id", "datasets": "created_at", "api_keys": "created_at"}


def _reason(exc: BaseException, url: str = "") -> str:
    """One line of an error's text, with no trace of `url`'s password."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    password = password_of(url)
    text = text.replace(password, "***") if password else text
    return text if len(text) <= 300 else text[:297] + "..."


_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[?%]")


@functools.lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """SQLite's `?` placeholders as psycopg's `%s`. psycopg reads every `%` as a placeholder, so a
    literal one is doubled, inside quotes too; a `?` inside quotes is kept."""
    return _TOKEN.sub(lambda m: "%s" if m[0] == "?" else m[0].replace("%", "%%"), sql)


class Row(tuple):
    """A result row, read by position or by column name, like `sqlite3.Row`."""

    __slots__ = ()
    columns: dict[str, int] = {}

    def __getitem__(self, key):
        return tuple.__getitem__(self, self.columns[key] if isinstance(key, str) else key)

    def keys(self) -> list[str]:
        return list(self.columns)


@functools.lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "columns": {n: i for i, n in enumerate(names)}})


def _row_factory(cursor: psycopg.Cursor) -> type[Row]:
    return _row_class(tuple(c.name for c in cursor.description or ()))


class Connection:
    """One thread's connection, taking the repositories' SQL (`?` placeholders)."""

    __slots__ = ("raw",)

    def __init__(self, raw: psycopg.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence = ()) -> psycopg.Cursor:
        return self.raw.execute(to_pyformat(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> psycopg.Cursor:
        cur = self.raw.cursor()
        cur.executemany(to_pyformat(sql), rows)  # rowcount: the sum over the rows
        return cur


class PostgresDatabase(ReadMemo):
    """A PostgreSQL database (`postgresql://user:password@host:port/dbname`) holding one workspace's rows."""

    engine = "postgresql"
    IntegrityError = psycopg.IntegrityError

    def __init__(self, url: str, create: bool = True) -> None:
        """Connect and bring the schema to `SCHEMA_VERSION`; without `create`, a database without
        the generec schema is refused, unchanged."""
        self.url, self.name = url, redact(url)
        self._local = threading.local()
        self._all: list[tuple[threading.Thread, psycopg.Connection]] = []  # every open connection, by its thread
        self._guard = threading.Lock()  # guards `_all`
        self._closed = False
        self._connect()
        try:
            self.migrate(create)
        except BaseException:
            self.close()
            raise

    def _connect(self) -> Connection:
        try:
            given = conninfo_to_dict(self.url)
        except psycopg.Error as exc:
            raise WorkspaceError(f"{self.name} is not a valid PostgreSQL URL: {_reason(exc, self.url)}") from None
        extra = {} if "connect_timeout" in given else {"connect_timeout": CONNECT_TIMEOUT_S}
        try:
            raw = psycopg.connect(self.url, autocommit=True, row_factory=_row_factory, **extra)
        except psycopg.Error as exc:
            raise WorkspaceError(f"cannot reach the database {self.name}: {_reason(exc, self.url)}") from None
        raw.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
        conn = Connection(raw)
        self._local.conn, self._local.depth = conn, 0
        me = threading.current_thread()
        with self._guard:
            # a thread that ended (a server's idle worker thread) or a connection replaced here
            # (the server dropped it) holds a server slot until it is closed: close those now
            done = [(t, c) for t, c in self._all if not t.is_alive() or t is me]
            self._all = [(t, c) for t, c in self._all if t.is_alive() and t is not me] + [(me, raw)]
        for _, old in done:
            try:
                old.close()
            except psycopg.Error:
                pass
        return conn

    @property
    def conn(self) -> Connection:
        """This thread's connection (opened on first use, and again after the server dropped it)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and (not conn.raw.broken or self._local.depth):  # inside a transaction: fail, never go on elsewhere
            return conn
        if self._closed:
            raise WorkspaceError(f"{self.name}: the database was closed")
        return self._connect()

    @property
    def version(self) -> int:
        if not self.scalar("SELECT to_regclass('schema_version') IS NOT NULL"):
            return 0
        return int(self.scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version"))

    def migrate(self, create: bool = True) -> None:
        """Bring the schema to `SCHEMA_VERSION`, one migration per transaction, under an advisory
        lock, so that two processes never migrate the same database."""
        current = self.version
        self._check_version(current)
        if current == SCHEMA_VERSION:
            return
        if current == 0 and not create:
            raise WorkspaceError(
                f"no workspace in {self.name} (no generec schema there); build or load a data set first, "
                "e.g. `generec data build microvideo --size tiny`"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            try:
                with self.transaction() as conn:
                    conn.raw.execute(f"SELECT pg_advisory_xact_lock({_LOCKS}, {_MIGRATE_LOCK})")
                    conn.raw.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                    now = int(conn.raw.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])
                    self._check_version(now)
                    if now < version:  # else another process migrated while we waited
                        conn.raw.execute(POSTGRES_MIGRATIONS[version - 1])
                        conn.raw.execute("DELETE FROM schema_version")
                        conn.raw.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
            except psycopg.Error as exc:
                raise WorkspaceError(f"{self.name}: could not bring the generec schema to version {version}: {_reason(exc)}") from None

    def _check_version(self, current: int) -> None:
        if current > SCHEMA_VERSION:
            raise WorkspaceError(
                f"{self.name} has schema version {current}, newer than this generec "
                f"(version {SCHEMA_VERSION}); upgrade generec to open it"
            )

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
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
        self._local.depth = 1
        try:
            with conn.raw.transaction():
                yield conn
        finally:
            self._local.depth = 0

    def query(self, sql: str, params: Sequence = ()) -> list[Row]:
        return self._memoised("query", sql, params, lambda: self.conn.execute(sql, params).fetchall())

    def scalar(self, sql: str, params: Sequence = ()) -> object:
        return self._memoised("scalar", sql, params, lambda: self._scalar(sql, params))

    def _scalar(self, sql: str, params: Sequence) -> object:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def frame(self, sql: str, params: Sequence = ()) -> pd.DataFrame:
        """A query's rows as a DataFrame, with the columns and dtypes pandas' SQLite reader gives."""
        import pandas as pd

        cur = self.conn.execute(sql, params)
        return pd.DataFrame.from_records(cur.fetchall(), columns=[c.name for c in cur.description], coerce_float=True)

    @staticmethod
    def json_text(column: str, key: str) -> str:
        """SQL for the text at `key` of the JSON object in `column` (a TEXT column here too)."""
        return f"({column}::jsonb ->> '{key}')"

    def log_order(self, conn: Connection) -> None:
        """Called in a transaction before it appends to the interaction log: held until it commits,
        so that log ids are taken and committed one writer at a time, in id order."""
        conn.raw.execute(f"SELECT pg_advisory_xact_lock({_LOCKS}, {_LOG_LOCK})")

    def enable_wal(self) -> bool:
        """Nothing to do: PostgreSQL's readers never wait for a writer."""
        return True

    def integrity(self) -> str:
        """"ok" when the server answers; PostgreSQL checks its own pages and every constraint."""
        return "ok" if self.scalar("SELECT 1") == 1 else "no answer"

    def clear(self) -> None:
        """Delete every row of every table, in the caller's transaction if there is one."""
        with self.transaction() as conn:
            for table in reversed(TABLES):
                conn.execute(f"DELETE FROM {table}")

    def copy_to(self, path: str | Path) -> None:
        """A consistent SQLite copy of the whole database at `path` (one snapshot of every table)."""
        from generec.store.db import Database

        dst = Database(path)
        try:
            with self.transaction() as src, dst.transaction() as out:
                src.raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                for table in TABLES:
                    columns = ", ".join(r[1] for r in dst.query(f"PRAGMA table_info({table})"))
                    rows = src.execute(f"SELECT {columns} FROM {table} ORDER BY {_COPY_ORDER[table]}").fetchall()
                    out.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(columns.split(', ')))})", rows)
        finally:
            dst.close()

    def close(self) -> None:
        with self._guard:
            conns, self._all = self._all, []
        for _, conn in conns:
            conn.close()
        self._local = threading.local()
        self._closed = True
