"""The SQLite schema and its migrations.

The schema version lives in `PRAGMA user_version`. Migration `n` takes a database from version
`n - 1` to `n`; a new column or table is one new entry at the end of `MIGRATIONS`, never an edit
of an old one.
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
]

SCHEMA_VERSION = len(MIGRATIONS)
