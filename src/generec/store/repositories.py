"""Repositories: typed reads and writes of one table each.

Writes of many rows take the caller's transaction (`db.transaction()`), so that a whole import
commits or rolls back as one. The SQL is one for SQLite and PostgreSQL (`db.Database`,
`postgres.PostgresDatabase`): `?` placeholders, the few differing words from the database object.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from generec.errors import InputError
from generec.store.db import Database
from generec.types import Event, Instruction, Interaction, Item, Kind, Media, Origin, User

_ITEM_COLUMNS = (
    "id, kind, title, text, tags, media_hash, media_mime, duration, fps, width, height, "
    "has_audio, cover_hash, cover_mime, origin, parent_id, uploader, created_at, provenance, "
    "fidelity, watermark_id"
)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def _item_row(item: Item) -> tuple:
    m, c = item.media, item.cover
    return (
        item.id, str(item.kind), item.title, item.text, json.dumps(item.tags),
        m and m.hash, m and m.mime, m and m.duration, m and m.fps, m and m.width,
        m and m.height, int(bool(m and m.has_audio)), c and c.hash, c and c.mime,
        str(item.origin), item.parent_id, item.uploader, item.created_at,
        _json(item.provenance), _json(item.fidelity), item.watermark_id,
    )  # fmt: skip


def _item_from_row(row: sqlite3.Row) -> Item:
    media = None
    if row["media_hash"] is not None:
        media = Media(
            hash=row["media_hash"], mime=row["media_mime"], duration=row["duration"],
            fps=row["fps"], width=row["width"], height=row["height"],
            has_audio=bool(row["has_audio"]),
        )  # fmt: skip
    cover = None
    if row["cover_hash"] is not None:
        cover = Media(hash=row["cover_hash"], mime=row["cover_mime"])
    return Item(
        id=row["id"], kind=Kind(row["kind"]), title=row["title"], text=row["text"],
        tags=json.loads(row["tags"]), media=media, cover=cover, origin=Origin(row["origin"]),
        parent_id=row["parent_id"], uploader=row["uploader"], created_at=row["created_at"],
        provenance=row["provenance"] and json.loads(row["provenance"]),
        fidelity=row["fidelity"] and json.loads(row["fidelity"]),
        watermark_id=row["watermark_id"],
    )  # fmt: skip


class Items:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_many(self, items: Iterable[Item]) -> int:
        rows = [_item_row(item) for item in items]
        with self.db.transaction() as conn:
            conn.executemany(
                f"INSERT INTO items ({_ITEM_COLUMNS}) VALUES ({', '.join('?' * 21)})", rows
            )
        return len(rows)

    def add(self, item: Item) -> None:
        self.add_many([item])

    def get(self, item_id: str) -> Item | None:
        rows = self.db.query(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ?", (item_id,))
        return _item_from_row(rows[0]) if rows else None

    def all(self, origin: Origin | None = None) -> list[Item]:
        """Every item in insertion order; with `origin`, only those of that origin."""
        where, args = ("WHERE origin = ?", (str(origin),)) if origin is not None else ("", ())
        rows = self.db.query(f"SELECT {_ITEM_COLUMNS} FROM items {where} ORDER BY rowid", args)
        return [_item_from_row(row) for row in rows]

    def ids(self, origin: Origin | None = None) -> list[str]:
        where, args = ("WHERE origin = ?", (str(origin),)) if origin is not None else ("", ())
        return [row[0] for row in self.db.query(f"SELECT id FROM items {where} ORDER BY rowid", args)]

    def children(self, parent_id: str) -> list[Item]:
        """Items made from `parent_id` (AI edits), oldest first."""
        rows = self.db.query(f"SELECT {_ITEM_COLUMNS} FROM items WHERE parent_id = ? ORDER BY rowid", (parent_id,))
        return [_item_from_row(row) for row in rows]

    def children_of(self, parent_ids: Sequence[str]) -> dict[str, list[Item]]:
        """`children` for several parents in one query: parent id -> its items, oldest first."""
        out: dict[str, list[Item]] = {}
        for start in range(0, len(parent_ids), 900):
            chunk = list(parent_ids[start : start + 900])
            marks = ", ".join("?" * len(chunk))
            for row in self.db.query(f"SELECT {_ITEM_COLUMNS} FROM items WHERE parent_id IN ({marks}) ORDER BY rowid", tuple(chunk)):
                item = _item_from_row(row)
                out.setdefault(item.parent_id, []).append(item)
        return out

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of `ids` are already stored."""
        found: set[str] = set()
        for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
            chunk = list(ids[start : start + 900])
            marks = ", ".join("?" * len(chunk))
            found.update(r[0] for r in self.db.query(f"SELECT id FROM items WHERE id IN ({marks})", tuple(chunk)))
        return found

    def by_watermark(self, watermark_id: str) -> Item | None:
        """The item whose media carry this watermark id (hex), if any."""
        row = self.db.conn.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE watermark_id = ?", (watermark_id,)).fetchone()
        return None if row is None else _item_from_row(row)

    def set_fidelity(self, item_id: str, report: dict[str, Any]) -> None:
        """Replace an item's fidelity report (a reviewer's decision), in one transaction."""
        with self.db.transaction() as conn:
            changed = conn.execute("UPDATE items SET fidelity = ? WHERE id = ?", (_json(report), item_id)).rowcount
        if not changed:
            raise InputError(f"unknown item {item_id!r}")

    def review_queue(self) -> list[Item]:
        """AI items flagged by the fidelity policy and not yet reviewed, oldest first."""
        decision, review = self.db.json_text("fidelity", "decision"), self.db.json_text("fidelity", "review")
        rows = self.db.query(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE origin != 'human' AND {decision} = 'flag' "
            f"AND {review} = 'pending' ORDER BY rowid"
        )
        return [_item_from_row(row) for row in rows]

    def decisions(self) -> list[tuple[str, str, int]]:
        """(origin, fidelity decision or "none", items), for every pair that occurs."""
        decision = self.db.json_text("fidelity", "decision")
        return [tuple(r) for r in self.db.query(f"SELECT origin, COALESCE({decision}, 'none'), COUNT(*) FROM items GROUP BY 1, 2")]

    def count(self) -> int:
        return int(self.db.scalar("SELECT COUNT(*) FROM items"))

    def counts(self) -> dict[str, dict[str, int]]:
        """Item counts by kind and by origin."""
        by_kind = dict(self.db.query("SELECT kind, COUNT(*) FROM items GROUP BY kind"))
        by_origin = dict(self.db.query("SELECT origin, COUNT(*) FROM items GROUP BY origin"))
        return {"kind": by_kind, "origin": by_origin}


class Users:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_many(self, users: Iterable[User]) -> int:
        rows = [(u.id, u.created_at, json.dumps(u.attrs, sort_keys=True)) for u in users]
        with self.db.transaction() as conn:
            conn.executemany("INSERT INTO users (id, created_at, attrs) VALUES (?, ?, ?)", rows)
        return len(rows)

    def get(self, user_id: str) -> User | None:
        rows = self.db.query("SELECT id, created_at, attrs FROM users WHERE id = ?", (user_id,))
        return User(rows[0][0], rows[0][1], json.loads(rows[0][2])) if rows else None

    def ids(self) -> list[str]:
        return [row[0] for row in self.db.query("SELECT id FROM users ORDER BY rowid")]

    def existing(self, ids: Sequence[str]) -> set[str]:
        known = set(self.ids()) if len(ids) > 900 else None
        if known is not None:
            return known & set(ids)
        marks = ", ".join("?" * len(ids))
        return {r[0] for r in self.db.query(f"SELECT id FROM users WHERE id IN ({marks})", tuple(ids))} if ids else set()

    def count(self) -> int:
        return int(self.db.scalar("SELECT COUNT(*) FROM users"))


class Interactions:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_many(self, interactions: Iterable[Interaction]) -> int:
        rows = [
            (i.user_id, i.item_id, i.ts, str(i.event), i.value, i.source) for i in interactions
        ]
        with self.db.transaction() as conn:
            self.db.log_order(conn)
            conn.executemany(
                "INSERT INTO interactions (user_id, item_id, ts, event, value, source) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def add(self, interaction: Interaction) -> None:
        self.add_many([interaction])

    def add_once(self, interactions: Sequence[Interaction]) -> tuple[int, int]:
        """Store events in one transaction, each (user, event id) at most once: (stored, duplicates).
        Rows must already be valid (known user and item): only a repeated event id is skipped."""
        rows = [(i.user_id, i.item_id, i.ts, str(i.event), i.value, i.source, i.event_id) for i in interactions]
        with self.db.transaction() as conn:
            self.db.log_order(conn)
            stored = conn.executemany(
                "INSERT INTO interactions (user_id, item_id, ts, event, value, source, event_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, event_id) WHERE event_id IS NOT NULL DO NOTHING",
                rows,
            ).rowcount if rows else 0
        return stored, len(rows) - stored

    def since(self, user_id: str, after_id: int = 0) -> list[tuple[int, Interaction]]:
        """The user's feedback (impressions aside) with a row id above `after_id`, in log order: (row id, event)."""
        rows = self.db.query(
            "SELECT id, user_id, item_id, ts, event, value, source, event_id FROM interactions "
            "WHERE user_id = ? AND event != 'impression' AND id > ? ORDER BY id", (user_id, after_id),
        )  # fmt: skip
        return [(r[0], Interaction(r[1], r[2], r[3], Event(r[4]), r[5], r[6], r[7])) for r in rows]

    def last_id(self) -> int:
        return int(self.db.scalar("SELECT COALESCE(MAX(id), 0) FROM interactions"))

    def frame(self, events: Sequence[Event] | None = None) -> pd.DataFrame:
        """Interactions as a DataFrame (user_id, item_id, ts, event, value, source), by time."""
        sql = "SELECT user_id, item_id, ts, event, value, source FROM interactions"
        params: tuple = ()
        if events:
            sql += f" WHERE event IN ({', '.join('?' * len(events))})"
            params = tuple(str(e) for e in events)
        return self.db.frame(sql + " ORDER BY ts, id", params)

    def for_user(self, user_id: str, feedback_only: bool = False, last: int | None = None) -> list[Interaction]:
        """The user's events by time; `feedback_only`: without impressions (an index holds those
        rows alone); `last`: only the n logged last."""
        where = "WHERE user_id = ?" + (" AND event != 'impression'" if feedback_only else "")
        if last is None:
            rows = self.db.query(f"SELECT user_id, item_id, ts, event, value, source FROM interactions {where} ORDER BY ts, id", (user_id,))
        else:
            rows = self.db.query(f"SELECT user_id, item_id, ts, event, value, source FROM interactions {where} ORDER BY id DESC LIMIT ?", (user_id, int(last)))
            rows = sorted(rows, key=lambda r: r[2])
        return [Interaction(r[0], r[1], r[2], Event(r[3]), r[4], r[5]) for r in rows]

    def count(self) -> int:
        return int(self.db.scalar("SELECT COUNT(*) FROM interactions"))

    def counts(self) -> dict[str, int]:
        return dict(self.db.query("SELECT event, COUNT(*) FROM interactions GROUP BY event"))


class Instructions:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, instruction: Instruction) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO instructions (user_id, session_id, ts, text, guidance) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    instruction.user_id, instruction.session_id, instruction.ts,
                    instruction.text, json.dumps(instruction.guidance, sort_keys=True),
                ),
            )  # fmt: skip

    def for_session(self, user_id: str, session_id: str) -> list[Instruction]:
        rows = self.db.query(
            "SELECT user_id, session_id, ts, text, guidance FROM instructions "
            "WHERE user_id = ? AND session_id = ? ORDER BY ts, id",
            (user_id, session_id),
        )
        return [Instruction(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def count(self) -> int:
        return int(self.db.scalar("SELECT COUNT(*) FROM instructions"))


class Datasets:
    """What data set(s) a workspace holds, with their parameters and split."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, name: str, source: str, params: dict, split: dict | None = None) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO datasets (name, source, params, split, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, source, json.dumps(params, sort_keys=True), _json(split), time.time()),
            )

    def all(self) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT name, source, params, split FROM datasets ORDER BY created_at")
        return [
            {"name": r[0], "source": r[1], "params": json.loads(r[2]),
             "split": r[3] and json.loads(r[3])}
            for r in rows
        ]  # fmt: skip
