"""The schema and its migrations, for SQLite and for PostgreSQL.

Migration `n` takes a database from version `n - 1` to `n`; a new column or table is one new
entry at the end of `MIGRATIONS` and one at the end of `POSTGRES_MIGRATIONS` (the same change in
PostgreSQL's words), never an edit of an old one. SQLite keeps the version in `PRAGMA
user_version`, PostgreSQL in a one-row `schema_version` table.

PostgreSQL's words for SQLite's: REAL (8 bytes in SQLite) is DOUBLE PRECISION; `INTEGER PRIMARY
KEY` (SQLite's row id) is an identity column; users and items get an explicit `rowid` identity
column, so that `ORDER BY rowid` (insertion order) reads the same on both.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the initial schema
    """
    CREATE TABLE users (
        id          TEXT PRIMARY KEY,
        created_at  REAL NOT NULL DEFAULT 0,
        attrs       TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE items (
        id            TEXT PRIMARY KEY,
        kind          TEXT NOT NULL CHECK (kind IN ('video', 'image', 'text')),
        title         TEXT NOT NULL DEFAULT '',
        text          TEXT NOT NULL DEFAULT '',
        tags          TEXT NOT NULL DEFAULT '[]',
        media_hash    TEXT,
        media_mime    TEXT,
        duration      REAL,
        fps           REAL,
        width         INTEGER,
        height        INTEGER,
        has_audio     INTEGER NOT NULL DEFAULT 0,
        cover_hash    TEXT,
        cover_mime    TEXT,
        origin        TEXT NOT NULL DEFAULT 'human'
                      CHECK (origin IN ('human', 'ai_edited', 'ai_created')),
        parent_id     TEXT REFERENCES items(id),
        uploader      TEXT,
        created_at    REAL NOT NULL DEFAULT 0,
        provenance    TEXT,
        fidelity      TEXT,
        watermark_id  TEXT,
        CHECK (origin = 'human' OR provenance IS NOT NULL)
    );
    CREATE INDEX items_parent ON items(parent_id);
    CREATE TABLE interactions (
        id       INTEGER PRIMARY KEY,
        user_id  TEXT NOT NULL REFERENCES users(id),
        item_id  TEXT NOT NULL REFERENCES items(id),
        ts       REAL NOT NULL,
        event    TEXT NOT NULL CHECK (event IN
                 ('impression', 'click', 'like', 'dislike', 'skip', 'watch', 'rate')),
        value    REAL,
        source   TEXT
    );
    CREATE INDEX interactions_user_ts ON interactions(user_id, ts);
    CREATE INDEX interactions_item ON interactions(item_id);
    CREATE TABLE instructions (
        id          INTEGER PRIMARY KEY,
        user_id     TEXT NOT NULL REFERENCES users(id),
        session_id  TEXT NOT NULL,
        ts          REAL NOT NULL,
        text        TEXT NOT NULL,
        guidance    TEXT NOT NULL
    );
    CREATE INDEX instructions_user_session ON instructions(user_id, session_id, ts);
    CREATE TABLE datasets (
        name        TEXT PRIMARY KEY,
        source      TEXT NOT NULL,
        params      TEXT NOT NULL DEFAULT '{}',
        split       TEXT,
        created_at  REAL NOT NULL
    );
    """,
    # 2: look items up by the watermark id read back from a file (`generec verify`)
    """
    CREATE INDEX items_watermark ON items(watermark_id);
    """,
    # 3: the service: API keys (stored hashed); an event id that makes a feedback event
    #    idempotent (a client's retry is stored once); a user's feedback without their
    #    impressions (which a feed logs ten at a time), in log order, for the live fold-in
    """
    CREATE TABLE api_keys (
        key_hash    TEXT PRIMARY KEY,
        user_id     TEXT REFERENCES users(id),
        role        TEXT NOT NULL CHECK (role IN ('user', 'admin')),
        created_at  REAL NOT NULL,
        revoked     INTEGER NOT NULL DEFAULT 0,
        CHECK (role = 'admin' OR user_id IS NOT NULL)
    );
    CREATE INDEX api_keys_user ON api_keys(user_id);
    ALTER TABLE interactions ADD COLUMN event_id TEXT;
    CREATE UNIQUE INDEX interactions_event_id ON interactions(event_id) WHERE event_id IS NOT NULL;
    CREATE INDEX interactions_feedback ON interactions(user_id, id) WHERE event != 'impression';
    """,
    # 4: an event id is the client's, so it is unique per user: one user's id never makes
    #    another user's event a "duplicate" (nor tells them which ids others have used)
    """
    DROP INDEX interactions_event_id;
    CREATE UNIQUE INDEX interactions_event_id ON interactions(user_id, event_id) WHERE event_id IS NOT NULL;
    """,
]

POSTGRES_MIGRATIONS: list[str] = [
    # 1: the initial schema
    """
    CREATE TABLE users (
        id          TEXT PRIMARY KEY,
        created_at  DOUBLE PRECISION NOT NULL DEFAULT 0,
        attrs       TEXT NOT NULL DEFAULT '{}',
        rowid       BIGINT GENERATED ALWAYS AS IDENTITY
    );
    CREATE TABLE items (
        id            TEXT PRIMARY KEY,
        kind          TEXT NOT NULL CHECK (kind IN ('video', 'image', 'text')),
        title         TEXT NOT NULL DEFAULT '',
        text          TEXT NOT NULL DEFAULT '',
        tags          TEXT NOT NULL DEFAULT '[]',
        media_hash    TEXT,
        media_mime    TEXT,
        duration      DOUBLE PRECISION,
        fps           DOUBLE PRECISION,
        width         INTEGER,
        height        INTEGER,
        has_audio     INTEGER NOT NULL DEFAULT 0,
        cover_hash    TEXT,
        cover_mime    TEXT,
        origin        TEXT NOT NULL DEFAULT 'human'
                      CHECK (origin IN ('human', 'ai_edited', 'ai_created')),
        parent_id     TEXT REFERENCES items(id),
        uploader      TEXT,
        created_at    DOUBLE PRECISION NOT NULL DEFAULT 0,
        provenance    TEXT,
        fidelity      TEXT,
        watermark_id  TEXT,
        rowid         BIGINT GENERATED ALWAYS AS IDENTITY,
        CHECK (origin = 'human' OR provenance IS NOT NULL)
    );
    CREATE INDEX items_parent ON items(parent_id);
    CREATE TABLE interactions (
        id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id  TEXT NOT NULL REFERENCES users(id),
        item_id  TEXT NOT NULL REFERENCES items(id),
        ts       DOUBLE PRECISION NOT NULL,
        event    TEXT NOT NULL CHECK (event IN
                 ('impression', 'click', 'like', 'dislike', 'skip', 'watch', 'rate')),
        value    DOUBLE PRECISION,
        source   TEXT
    );
    CREATE INDEX interactions_user_ts ON interactions(user_id, ts);
    CREATE INDEX interactions_item ON interactions(item_id);
    CREATE TABLE instructions (
        id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id     TEXT NOT NULL REFERENCES users(id),
        session_id  TEXT NOT NULL,
        ts          DOUBLE PRECISION NOT NULL,
        text        TEXT NOT NULL,
        guidance    TEXT NOT NULL
    );
    CREATE INDEX instructions_user_session ON instructions(user_id, session_id, ts);
    CREATE TABLE datasets (
        name        TEXT PRIMARY KEY,
        source      TEXT NOT NULL,
        params      TEXT NOT NULL DEFAULT '{}',
        split       TEXT,
        created_at  DOUBLE PRECISION NOT NULL
    );
    """,
    # 2: look items up by the watermark id
    """
    CREATE INDEX items_watermark ON items(watermark_id);
    """,
    # 3: API keys, idempotent event ids, a user's feedback in log order
    """
    CREATE TABLE api_keys (
        key_hash    TEXT PRIMARY KEY,
        user_id     TEXT REFERENCES users(id),
        role        TEXT NOT NULL CHECK (role IN ('user', 'admin')),
        created_at  DOUBLE PRECISION NOT NULL,
        revoked     INTEGER NOT NULL DEFAULT 0,
        CHECK (role = 'admin' OR user_id IS NOT NULL)
    );
    CREATE INDEX api_keys_user ON api_keys(user_id);
    ALTER TABLE interactions ADD COLUMN event_id TEXT;
    CREATE UNIQUE INDEX interactions_event_id ON interactions(event_id) WHERE event_id IS NOT NULL;
    CREATE INDEX interactions_feedback ON interactions(user_id, id) WHERE event != 'impression';
    """,
    # 4: an event id is the client's, so it is unique per user: one user's id never makes
    #    another user's event a "duplicate" (nor tells them which ids others have used)
    """
    DROP INDEX interactions_event_id;
    CREATE UNIQUE INDEX interactions_event_id ON interactions(user_id, event_id) WHERE event_id IS NOT NULL;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
assert len(POSTGRES_MIGRATIONS) == SCHEMA_VERSION, "every migration is written for both engines"

# every table, parents before children (the order a copy inserts in, and the reverse of a wipe's)
TABLES = ("users", "items", "interactions", "instructions", "datasets", "api_keys")
