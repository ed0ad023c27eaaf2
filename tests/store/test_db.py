import sqlite3

import pytest

from generec.errors import WorkspaceError
from generec.store import schema
from generec.store.db import Database
from generec.types import User
from generec.store.repositories import Users


def test_new_database_is_at_current_schema(tmp_path):
    db = Database(tmp_path / "g.db")
    assert db.version == schema.SCHEMA_VERSION
    tables = {r[0] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"users", "items", "interactions", "instructions", "datasets"} <= tables


def test_migration_is_applied_to_an_older_database(tmp_path, monkeypatch):
    path = tmp_path / "g.db"
    Database(path).close()  # at the current version
    current = schema.SCHEMA_VERSION
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS + ["ALTER TABLE users ADD COLUMN nickname TEXT;"])
    import generec.store.db as dbmod

    monkeypatch.setattr(dbmod, "MIGRATIONS", schema.MIGRATIONS)
    monkeypatch.setattr(dbmod, "SCHEMA_VERSION", len(schema.MIGRATIONS))
    db = Database(path)
    assert db.version == current + 1
    assert "nickname" in {r[1] for r in db.query("PRAGMA table_info(users)")}


def test_newer_database_is_refused(tmp_path):
    path = tmp_path / "g.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(WorkspaceError, match="newer than this generec"):
        Database(path)


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


def test_a_version_1_database_gets_the_watermark_index(tmp_path):
    path = tmp_path / "g.db"
    conn = sqlite3.connect(path)
    conn.executescript(schema.MIGRATIONS[0] + "PRAGMA user_version = 1;")
    conn.close()
    db = Database(path)
    assert db.version == schema.SCHEMA_VERSION
    assert "items_watermark" in {r[0] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
