"""PostgreSQL's own part of the store, on a real throwaway cluster (the `postgres` fixture)."""

from __future__ import annotations

import threading

import pytest

from generec.errors import WorkspaceError
from generec.store.postgres import PostgresDatabase, to_pyformat
from generec.store.schema import SCHEMA_VERSION
from generec.types import Event, Interaction, Item, Kind, Origin, User
from generec.workspace import SQLITE, Workspace
from helpers import db_snapshot, generec


def test_placeholders_become_psycopg_ones_outside_quotes():
    assert to_pyformat("SELECT a FROM t WHERE b = ? AND c IN (?, ?)") == "SELECT a FROM t WHERE b = %s AND c IN (%s, %s)"
    assert to_pyformat("SELECT '?', \"odd?\", '50%' FROM t WHERE x LIKE 'a%' AND y = ?") == "SELECT '?', \"odd?\", '50%%' FROM t WHERE x LIKE 'a%%' AND y = %s"
    assert to_pyformat("SELECT 'it''s ?' || ?") == "SELECT 'it''s ?' || %s"


def test_rows_read_by_position_and_by_name(postgres):
    db = PostgresDatabase(postgres.new_database())
    row = db.query("SELECT 1 AS one, 'x?%' AS two, ? AS three", ("y",))[0]
    assert (row[0], row["two"], row[2], row["three"], tuple(row), row.keys()) == (1, "x?%", "y", "y", (1, "x?%", "y"), ["one", "two", "three"])
    assert dict(db.query("SELECT 'a', 1 UNION ALL SELECT 'b', 2")) == {"a": 1, "b": 2}
    db.close()


UNREACHABLE = "postgresql://gen:hunter2@/generec?host=/nonexistent-generec-socket-dir&connect_timeout=3"
SHOWN = "postgresql://gen@/generec?host=/nonexistent-generec-socket-dir&connect_timeout=3"


def test_an_unreachable_database_is_one_clear_line_and_writes_nothing(tmp_path):
    with pytest.raises(WorkspaceError) as info:
        Workspace.open(tmp_path / "ws", create=True, db=UNREACHABLE)
    message = str(info.value)
    assert message.startswith(f"cannot reach the database {SHOWN}: ") and "hunter2" not in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []
    # the command line: --db, or GENEREC_DB; a new workspace, and an existing directory
    import os

    (tmp_path / "mounted").mkdir()
    for run in (generec("--db", UNREACHABLE, "data", "stats", "-w", tmp_path / "mounted"),
                generec("data", "import", "--items", tmp_path / "i.csv", "--interactions", tmp_path / "x.csv", "-w", tmp_path / "ws", env={**os.environ, "GENEREC_DB": UNREACHABLE})):  # fmt: skip
        lines = run.stderr.strip().splitlines()
        assert run.returncode == 1 and len(lines) == 1 and lines[0].startswith(f"error: cannot reach the database {SHOWN}"), run.stderr
        assert "hunter2" not in run.stderr + run.stdout
    assert [p.name for p in tmp_path.rglob("*")] == ["mounted"]


def test_a_db_value_that_is_not_a_postgresql_url_is_refused(tmp_path):
    run = generec("--db", "mysql://u:pw@host/db", "data", "stats", "-w", tmp_path / "ws")
    assert run.returncode == 1 and "expected a postgresql://user@host/dbname URL" in run.stderr and "pw@" not in run.stderr


def test_a_database_without_the_schema_is_not_a_workspace(postgres, tmp_path):
    url = postgres.new_database()
    (tmp_path / "ws").mkdir()
    with pytest.raises(WorkspaceError, match="no workspace in postgresql://postgres@/generec.*build or load a data set first"):
        Workspace.open(tmp_path / "ws", db=url)
    with pytest.raises(WorkspaceError, match="no workspace directory at"):
        Workspace.open(tmp_path / "elsewhere", db=url)
    assert list((tmp_path / "ws").iterdir()) == [] and not (tmp_path / "elsewhere").exists()
    import psycopg

    with psycopg.connect(url) as conn:  # nothing was created in the database either
        assert conn.execute("SELECT to_regclass('schema_version') IS NULL").fetchone()[0]


def test_many_openers_migrate_a_new_database_once(postgres):
    url, errors, versions = postgres.new_database(), [], []

    def open_it() -> None:
        try:
            db = PostgresDatabase(url)
            versions.append(db.version)
            db.close()
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and versions == [SCHEMA_VERSION] * 6


def test_an_sqlite_copy_holds_every_row(postgres, tmp_path):
    ws = Workspace.open(tmp_path / "ws", create=True, db=postgres.new_database())
    ws.users.add_many([User("u2", 1.0, {"a": 1}), User("u1")])
    ws.items.add_many([Item(id="b", kind=Kind.TEXT, tags=["x"]), Item(id="a", kind=Kind.TEXT)])
    ws.items.add(Item(id="b-e", kind=Kind.TEXT, origin=Origin.AI_EDITED, parent_id="b", provenance={"op": "clip"}, fidelity={"decision": "pass"}))
    ws.interactions.add_once([Interaction("u1", "a", 2.0, Event.LIKE, event_id="e1"), Interaction("u2", "b-e", 1.0, Event.RATE, 3.5)])
    ws.api_keys.create("u1")
    ws.datasets.add("d", "src", {"k": 1})
    (tmp_path / "copy").mkdir()
    ws.db.copy_to(tmp_path / "copy" / "generec.db")
    with Workspace.open(tmp_path / "copy", db=SQLITE) as copy:
        assert copy.items.all() == ws.items.all() and copy.users.ids() == ["u2", "u1"]
        assert copy.interactions.since("u1") == ws.interactions.since("u1") and copy.datasets.all() == ws.datasets.all()
        assert copy.api_keys.count() == 1 and copy.db.integrity() == "ok"
        assert {t: len(v) for t, v in db_snapshot(copy).items()} == {t: len(v) for t, v in db_snapshot(ws).items()}
    ws.close()


def test_a_dropped_connection_fails_one_call_then_reconnects(postgres, tmp_path):
    import psycopg

    ws = Workspace.open(tmp_path / "ws", create=True, db=postgres.new_database())
    ws.users.add_many([User("u1")])
    pid = ws.db.scalar("SELECT pg_backend_pid()")
    with psycopg.connect(postgres.url("postgres"), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))  # a server restart, a proxy's idle timeout ...
    with pytest.raises(psycopg.OperationalError):
        ws.users.ids()
    assert ws.users.ids() == ["u1"] and ws.db.scalar("SELECT pg_backend_pid()") != pid
    ws.close()


def test_connections_of_ended_threads_are_closed(postgres):
    import threading

    db = PostgresDatabase(postgres.new_database())
    try:
        def use() -> None:
            db.scalar("SELECT 1")

        for _ in range(5):  # five short-lived threads, one after another (a server's idle workers)
            t = threading.Thread(target=use)
            t.start()
            t.join()
        seen = [c for _, c in db._all]
        db.scalar("SELECT 1")
        assert len(db._all) <= 2  # this thread's, and at most the last ended thread's (closed on the next connect)
        assert all(c.closed for c in seen if all(c is not k for _, k in db._all))
    finally:
        db.close()
