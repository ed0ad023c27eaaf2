"""The database layer: the engine-independent tests run on SQLite and PostgreSQL (`db_url`), the
rest are about SQLite's file."""

import sqlite3

import pytest

from generec.errors import WorkspaceError
from generec.store import schema
from generec.store.db import Database
from generec.store.postgres import PostgresDatabase
from generec.types import User
from generec.store.repositories import Users


def _open(db_url: str, tmp_path):
    return Database(tmp_path / "g.db") if db_url == "sqlite" else PostgresDatabase(db_url)


def _tables(db) -> set[str]:
    if db.engine == "sqlite":
        return {r[0] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {r[0] for r in db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}


def _columns(db, table: str) -> list[str]:
    if db.engine == "sqlite":
        return [r[1] for r in db.query(f"PRAGMA table_info({table})")]
    rows = db.query("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position", (table,))
    return [r[0] for r in rows if r[0] != "rowid"]  # PostgreSQL's explicit insertion order


def _indexes(db) -> set[str]:
    if db.engine == "sqlite":
        return {r[0] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    return {r[0] for r in db.query("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%pkey'")}


def _set_version(db, version: int) -> None:
    if db.engine == "sqlite":
        db.conn.execute(f"PRAGMA user_version = {version}")
    else:
        db.conn.execute("UPDATE schema_version SET version = ?", (version,))


def test_new_database_is_at_current_schema(db_url, tmp_path):
    db = _open(db_url, tmp_path)
    assert db.version == schema.SCHEMA_VERSION
    assert set(schema.TABLES) <= _tables(db)
    db.close()


def test_both_engines_have_the_same_schema(postgres, tmp_path):
    lite, pg = Database(tmp_path / "g.db"), PostgresDatabase(postgres.new_database())
    assert _tables(pg) - {"schema_version"} == _tables(lite) == set(schema.TABLES)
    for table in schema.TABLES:
        assert _columns(pg, table) == _columns(lite, table), table
    assert _indexes(pg) == _indexes(lite)
    lite.close(), pg.close()


def test_migration_is_applied_to_an_older_database(db_url, tmp_path, monkeypatch):
    _open(db_url, tmp_path).close()  # at the current version
    current = schema.SCHEMA_VERSION
    import generec.store.db as dbmod
    import generec.store.postgres as pgmod

    monkeypatch.setattr(dbmod, "MIGRATIONS", schema.MIGRATIONS + ["ALTER TABLE users ADD COLUMN nickname TEXT;"])
    monkeypatch.setattr(pgmod, "POSTGRES_MIGRATIONS", schema.POSTGRES_MIGRATIONS + ["ALTER TABLE users ADD COLUMN nickname TEXT;"])
    for module in (dbmod, pgmod):
        monkeypatch.setattr(module, "SCHEMA_VERSION", current + 1)
    db = _open(db_url, tmp_path)
    assert db.version == current + 1
    assert "nickname" in _columns(db, "users")
    db.close()


def test_newer_database_is_refused(db_url, tmp_path):
    db = _open(db_url, tmp_path)
    _set_version(db, schema.SCHEMA_VERSION + 1)
    db.close()
    with pytest.raises(WorkspaceError, match=f"has schema version {schema.SCHEMA_VERSION + 1}, newer than this generec"):
        _open(db_url, tmp_path)
    if db_url == "sqlite":  # left as it was
        assert sqlite3.connect(tmp_path / "g.db").execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION + 1
    else:
        import psycopg

        with psycopg.connect(db_url) as conn:
            assert conn.execute("SELECT version FROM schema_version").fetchall() == [(schema.SCHEMA_VERSION + 1,)]


def test_failed_transaction_leaves_file_byte_identical(tmp_path):
    path = tmp_path / "g.db"
    db = Database(path)
    Users(db).add_many([User("a")])
    before = path.read_bytes()
    with pytest.raises(sqlite3.IntegrityError):
        with db.transaction():
            Users(db).add_many([User("b"), User("c")])
            Users(db).add_many([User("a")])  # duplicate id: the whole block rolls back
    assert Users(db).ids() == ["a"]
    assert path.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path):
    path = tmp_path / "g.db"
    path.write_text("these are my notes, not a database\n" * 20)
    with pytest.raises(WorkspaceError, match="g.db is not a readable generec database: expected an SQLite file"):
        Database(path)
    assert path.read_text().startswith("these are my notes")


@pytest.mark.parametrize("data", [b"x", b"SQLite format 2\x00" + bytes(90)], ids=["one_byte", "shorter_than_a_header"])
def test_a_short_file_that_is_not_sqlite_is_refused_not_overwritten(tmp_path, data):
    # SQLite takes a file under its 100-byte header for an empty database and writes a schema over it.
    path = tmp_path / "g.db"
    path.write_bytes(data)
    with pytest.raises(WorkspaceError, match="g.db is not a readable generec database"):
        Database(path)
    assert path.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.db"]  # no journal either


def test_a_version_1_database_gets_the_watermark_index(db_url, tmp_path):
    if db_url == "sqlite":
        conn = sqlite3.connect(tmp_path / "g.db")
        conn.executescript(schema.MIGRATIONS[0] + "PRAGMA user_version = 1;")
        conn.close()
    else:
        import psycopg

        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(schema.POSTGRES_MIGRATIONS[0] + "; CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);")
    db = _open(db_url, tmp_path)
    assert db.version == schema.SCHEMA_VERSION
    assert {"items_watermark", "interactions_event_id", "api_keys_user"} <= _indexes(db)
    db.close()


def test_wal_mode_reaches_every_threads_connection(tmp_path):
    """`synchronous` belongs to a connection: the service's worker threads open their own after
    `enable_wal`, and each must commit without an fsync (NORMAL = 1), as the first one does."""
    import threading

    db = Database(tmp_path / "g.db")
    try:
        assert db.query("PRAGMA synchronous")[0][0] == 2  # FULL: a CLI command's default
        assert db.enable_wal()
        seen = []
        t = threading.Thread(target=lambda: seen.append((db.query("PRAGMA journal_mode")[0][0], db.query("PRAGMA synchronous")[0][0])))
        t.start()
        t.join()
        assert db.query("PRAGMA synchronous")[0][0] == 1 and seen == [("wal", 1)]
    finally:
        db.close()
