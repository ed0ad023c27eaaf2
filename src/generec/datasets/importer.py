"""Import a user's own catalogue: an items table, an interactions table and a media folder.

Formats: `csv`, `parquet`, and `microlens` (the public MicroLens layout: a pairs CSV of
user, item, timestamp; a titles CSV of item, title; media named `<item>.mp4` / `<item>.jpg`).
Every bad row is reported with its line number, and the import is all or nothing: on any error
the database and the media store are left byte for byte as they were.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from generec.config import MediaLimits
from generec.errors import InputError, MediaError
from generec.media.image import encode_image, load_image, probe_image
from generec.media.video import frames_at, probe
from generec.types import Event, Interaction, Item, Kind, Media, User
from generec.workspace import Workspace

FORMATS = ("csv", "parquet", "microlens")
MAX_REPORTED = 50
VIDEO_EXT = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm"}
IMAGE_EXT = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
# column aliases of the MicroLens files -> ours
MICROLENS_COLUMNS = {"user": "user_id", "userID": "user_id", "item": "item_id", "videoID": "item_id", "item_id": "item_id"}


@dataclass
class ImportReport:
    n_items: int
    n_users: int
    n_interactions: int
    n_media: int


class _Problems:
    """Collects every bad row before failing, so one run reports them all."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.lines.append(f"{where}: {message}")

    def raise_if_any(self, what: str) -> None:
        if self.lines:
            shown = self.lines[:MAX_REPORTED]
            more = len(self.lines) - len(shown)
            tail = f"\n  ... and {more} more" if more else ""
            raise InputError(f"{what} failed, nothing was imported ({len(self.lines)} problem(s)):\n  " + "\n  ".join(shown) + tail)


def _read_table(path: Path, fmt: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"{path} does not exist")
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
            return frame.astype(object).where(frame.notna(), "").astype(str)
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not a readable {fmt} table: {exc}") from None


def _where(path: Path, fmt: str, index: int) -> str:
    # a CSV's header is line 1, so data row i (0-based) is line i + 2
    return f"{path.name} row {index + 1}" if fmt == "parquet" else f"{path.name} line {index + 2}"


def _require(frame: pd.DataFrame, path: Path, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; found: {', '.join(frame.columns) or '(none)'}")


def _parse_time(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return pd.Timestamp(text).timestamp()
    except (ValueError, TypeError):
        return None


def import_data(
    workspace: Workspace,
    items_path: str | Path,
    interactions_path: str | Path,
    media_dir: str | Path | None = None,
    users_path: str | Path | None = None,
    fmt: str = "csv",
    limits: MediaLimits = MediaLimits(),
    progress: Callable[[str, int, int], None] | None = None,
) -> ImportReport:
    # 1. check inputs
    if fmt not in FORMATS:
        raise InputError(f"unknown import format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    items_path, interactions_path = Path(items_path), Path(interactions_path)
    media_root = Path(media_dir) if media_dir is not None else None
    if media_root is not None and not media_root.is_dir():
        raise InputError(f"media folder {media_root} does not exist")
    table_fmt = "csv" if fmt == "microlens" else fmt
    items = _read_table(items_path, table_fmt)
    inter = _read_table(interactions_path, table_fmt)
    if fmt == "microlens":
        items = items.rename(columns=MICROLENS_COLUMNS)
        inter = inter.rename(columns=MICROLENS_COLUMNS)
    _require(items, items_path, ("item_id",))
    _require(inter, interactions_path, ("user_id", "item_id", "timestamp"))
    known_users: set[str] | None = None
    if users_path is not None:
        users_path = Path(users_path)
        users_table = _read_table(users_path, table_fmt)
        _require(users_table, users_path, ("user_id",))
        known_users = set(users_table["user_id"].str.strip()) | set(workspace.users.ids())
    problems = _Problems()

    # 2. items: ids, kinds, media files
    item_rows = []
    first_line: dict[str, str] = {}
    stored_items = workspace.items.existing(list(items["item_id"].str.strip()))
    for i, row in enumerate(items.to_dict("records")):
        where = _where(items_path, table_fmt, i)
        item_id = row["item_id"].strip()
        if not item_id:
            problems.add(where, "empty item_id")
            continue
        if item_id in first_line:
            problems.add(where, f"duplicate item_id {item_id!r} (first on {first_line[item_id]})")
            continue
        first_line[item_id] = where
        if item_id in stored_items:
            problems.add(where, f"item_id {item_id!r} is already in the workspace")
            continue
        media_file = _media_file(row, item_id, media_root, fmt)
        if isinstance(media_file, str):
            problems.add(where, media_file)
            continue
        kind = (row.get("kind") or "").strip() or _kind_of(media_file)
        if kind not in {k.value for k in Kind}:
            problems.add(where, f"kind {kind!r} is not one of video, image, text")
            continue
        created = _parse_time(row.get("created_at") or "0")
        if created is None:
            problems.add(where, f"created_at {row.get('created_at')!r} is not a number or a date")
            continue
        item_rows.append((where, item_id, Kind(kind), media_file, row, created))

    # 3. interactions: ids known, times and events valid
    new_items = set(first_line)
    existing_items = workspace.items.existing(list(set(inter["item_id"].str.strip()) - new_items))
    stored_users = workspace.users.existing(list(set(inter["user_id"].str.strip())))
    interactions: list[Interaction] = []
    for i, row in enumerate(inter.to_dict("records")):
        where = _where(interactions_path, table_fmt, i)
        user_id, item_id = row["user_id"].strip(), row["item_id"].strip()
        if not user_id or not item_id:
            problems.add(where, "empty user_id or item_id")
            continue
        if item_id not in new_items and item_id not in existing_items:
            problems.add(where, f"unknown item_id {item_id!r} (not in {items_path.name} nor the workspace)")
            continue
        if known_users is not None and user_id not in known_users:
            problems.add(where, f"unknown user_id {user_id!r} (not in {users_path.name} nor the workspace)")
            continue
        ts = _parse_time(row["timestamp"].strip())
        if ts is None:
            problems.add(where, f"timestamp {row['timestamp']!r} is not a number or a date")
            continue
        event = (row.get("event") or "click").strip()
        if event not in {e.value for e in Event}:
            problems.add(where, f"event {event!r} is not one of {', '.join(e.value for e in Event)}")
            continue
        value = None
        if (row.get("value") or "").strip():
            try:
                value = float(row["value"])
            except ValueError:
                problems.add(where, f"value {row['value']!r} is not a number")
                continue
        interactions.append(Interaction(user_id, item_id, ts, Event(event), value, "import"))
    problems.raise_if_any(f"import of {items_path.name} + {interactions_path.name}")

    # 4. probe every media file (a corrupt or oversized file fails the whole import)
    media: dict[str, tuple[Media, bytes | None]] = {}
    for done, (where, item_id, kind, media_file, _, _) in enumerate(item_rows, 1):
        if media_file is not None:
            try:
                media[item_id] = _probe_media(media_file, kind, limits)
            except MediaError as exc:
                problems.add(where, str(exc))
        if progress:
            progress("probe", done, len(item_rows))
    problems.raise_if_any(f"import of {items_path.name}")

    # 5. write media and rows: all or nothing
    new_users = sorted({x.user_id for x in interactions} - stored_users, key=lambda u: (len(u), u))
    first_seen = {}
    for x in interactions:
        first_seen[x.user_id] = min(first_seen.get(x.user_id, x.ts), x.ts)
    records = []
    with workspace.media.staging(), workspace.db.transaction():
        for where, item_id, kind, media_file, row, created in item_rows:
            item_media = cover = None
            if item_id in media:
                probed, cover_png = media[item_id]
                digest, _ = workspace.media.put_file(media_file, probed.mime)
                item_media = Media(digest, probed.mime, probed.duration, probed.fps, probed.width, probed.height, probed.has_audio)
                if cover_png is not None:
                    cover = Media(workspace.media.put_bytes(cover_png, "image/png"), "image/png", width=probed.width, height=probed.height)
            title = (row.get("title") or "").strip()
            records.append(Item(
                id=item_id, kind=kind, title=title, text=(row.get("text") or title).strip(),
                tags=[t.strip() for t in re.split(r"[|;,]", row.get("tags") or "") if t.strip()],
                media=item_media, cover=cover, uploader=(row.get("uploader") or "").strip() or None,
                created_at=created,
            ))  # fmt: skip
        workspace.items.add_many(records)
        workspace.users.add_many(User(u, first_seen[u]) for u in new_users)
        workspace.interactions.add_many(interactions)
    return ImportReport(len(records), len(new_users), len(interactions), len(media))


def _media_file(row: dict, item_id: str, media_root: Path | None, fmt: str) -> Path | None | str:
    """The item's media file, None for a text item, or a problem (str)."""
    name = (row.get("media") or row.get("media_path") or "").strip()
    if fmt == "microlens" and not name and media_root is not None:
        for ext in (".mp4", ".jpg", ".png"):
            if (media_root / f"{item_id}{ext}").is_file():
                return media_root / f"{item_id}{ext}"
        return None
    if not name:
        return None
    path = Path(name)
    if not path.is_absolute():
        if media_root is None:
            return f"media {name!r} is a relative path but no --media-dir was given"
        path = media_root / path
    if not path.is_file():
        return f"media file {path} does not exist"
    return path


def _kind_of(path: Path | None) -> str:
    if path is None:
        return "text"
    ext = path.suffix.lower()
    return "video" if ext in VIDEO_EXT else "image" if ext in IMAGE_EXT else "video"


def _probe_media(path: Path, kind: Kind, limits: MediaLimits) -> tuple[Media, bytes | None]:
    if kind == Kind.VIDEO:
        info = probe(path, limits)
        cover = frames_at(path, [0.0]).images[0]  # the uploader's cover: the first frame
        mime = mimetypes.guess_type(path.name)[0] or "video/mp4"
        return Media("", mime, info.duration, info.fps, info.width, info.height, info.has_audio), encode_image(cover, "PNG")
    if kind == Kind.IMAGE:
        info = probe_image(path, limits)
        load_image(path)
        mime = mimetypes.guess_type(path.name)[0] or "image/png"
        return Media("", mime, width=info.width, height=info.height), None
    raise MediaError(f"{path}: a text item cannot have a media file")
