"""Import a user's own catalogue: an items table, an interactions table and a media folder.

Formats: `csv`, `parquet`, and `microlens` (the public MicroLens layout: a pairs CSV of
user, item, timestamp; a titles CSV of item, title; media named `<item>.mp4` / `<item>.jpg`).
Every bad row and media file is reported in one pass with its line number, and the import is all
or nothing: on any error the database and the media store are left byte for byte as they were.
Media paths must stay inside `--media-dir` (no `..`, no absolute paths elsewhere, no symbolic
links) unless `ImportConfig.allow_outside_media_dir`. The import holds the workspace's lock, so two
imports at once run one after the other.
"""

from __future__ import annotations

import errno
import math
import mimetypes
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import av
import pandas as pd

from generec.config import MediaLimits
from generec.errors import GenerecError, InputError, MediaError, describe_os_error, os_reason
from generec.media.image import ImageInfo, encode_image, load_image, probe_image
from generec.media.video import VideoInfo, apply_rotation, downscale, frames_at, probe
from generec.types import Event, Interaction, Item, Kind, Media, User
from generec.workspace import Workspace

FORMATS = ("csv", "parquet", "microlens")
MAX_REPORTED = 20
VIDEO_EXT = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm"}
IMAGE_EXT = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
# column aliases of the MicroLens files -> ours
MICROLENS_COLUMNS = {"user": "user_id", "userID": "user_id", "item": "item_id", "videoID": "item_id", "item_id": "item_id"}


@dataclass
class ImportConfig:
    allow_outside_media_dir: bool = False  # take media paths as written: `..`, absolute paths elsewhere, symlinks
    lock_timeout_s: float = 600.0  # wait this long for another process writing to the workspace


@dataclass
class ImportReport:
    n_items: int
    n_users: int
    n_interactions: int
    n_media: int


@dataclass(frozen=True, order=True)
class _Where:
    """A data row: reported as `items.csv line 3` (a CSV's header is line 1) or `items.parquet row 2`."""

    table: int  # 0 items, 1 interactions: the report's order
    index: int  # 0-based data row
    name: str = field(compare=False)
    parquet: bool = field(compare=False)

    def __str__(self) -> str:
        return f"{self.name} row {self.index + 1}" if self.parquet else f"{self.name} line {self.index + 2}"


class _Problems:
    """Collects every bad row and media file before failing, so one run reports them all."""

    def __init__(self) -> None:
        self.lines: list[tuple[_Where, str]] = []

    def add(self, where: _Where, message: str) -> None:
        self.lines.append((where, message))

    def raise_if_any(self, what: str) -> None:
        if self.lines:
            lines = [f"{where}: {message}" for where, message in sorted(self.lines, key=lambda x: x[0])]
            shown = lines[:MAX_REPORTED]
            more = len(lines) - len(shown)
            tail = f"\n  ... and {more} more" if more else ""
            raise InputError(f"{what} failed, nothing was imported ({len(lines)} problem(s)):\n  " + "\n  ".join(shown) + tail)


def _read_table(path: Path, fmt: str, what: str) -> pd.DataFrame:
    if path.is_dir():
        raise InputError(f"{what} {path} is a directory, expected a {fmt} file")
    if not path.is_file():
        raise InputError(f"{what} {path} does not exist")
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
            return frame.astype(object).where(frame.notna(), "").astype(str)
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except OSError as exc:
        raise InputError(f"{describe_os_error(exc, 'read')} ({what})") from None
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {path} is not a readable {fmt} table: {exc}") from None


def _missing(frame: pd.DataFrame, path: Path, columns: tuple[str, ...]) -> str | None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        return f"{path}: missing column(s) {', '.join(missing)}; found: {', '.join(frame.columns) or '(none)'}"
    return None


# ISO-8601 dates and times: 2024-05-01, 2024-05-01T12:00, 2024-05-01 12:00:00.5Z, ...+02:00.
# Only these reach pd.Timestamp, which would also take 'now', 'today' or '05/01/2024'.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?")


def _parse_number(column: str, text: str, dates: bool = True) -> float | str:
    """A finite number (or with `dates`, an ISO-8601 date as Unix seconds, UTC unless it says
    otherwise), else the problem."""
    text = text.strip()
    if not text:
        return f"{column} is empty"
    try:
        value = float(text)  # also takes 'nan', 'inf' and '1e400' (= inf), refused below
    except ValueError:
        value = None
    if value is not None:
        return value if math.isfinite(value) else f"{column} {text!r} is not a finite number"
    if dates and _ISO_DATE.fullmatch(text):
        try:
            return float(pd.Timestamp(text.replace(",", ".")).timestamp())
        except (ValueError, TypeError, OverflowError):
            return f"{column} {text!r} is not a valid date"
    return f"{column} {text!r} is not a number" + (" or an ISO-8601 date (e.g. 2024-05-01T12:00:00Z)" if dates else "")


def import_data(
    workspace: Workspace,
    items_path: str | Path,
    interactions_path: str | Path,
    media_dir: str | Path | None = None,
    users_path: str | Path | None = None,
    fmt: str = "csv",
    limits: MediaLimits = MediaLimits(),
    progress: Callable[[str, int, int], None] | None = None,
    config: ImportConfig = ImportConfig(),
) -> ImportReport:
    # 1. check inputs
    if fmt not in FORMATS:
        raise InputError(f"unknown import format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    items_path, interactions_path = Path(items_path), Path(interactions_path)
    media_root = Path(media_dir) if media_dir is not None else None
    if media_root is not None and not media_root.is_dir():
        raise InputError(f"media folder {media_root} " + ("is not a directory" if media_root.exists() else "does not exist"))
    table_fmt = "csv" if fmt == "microlens" else fmt
    items = _read_table(items_path, table_fmt, "items table")
    inter = _read_table(interactions_path, table_fmt, "interactions table")
    users_table = _read_table(Path(users_path), table_fmt, "users table") if users_path is not None else None
    if fmt == "microlens":
        items = items.rename(columns=MICROLENS_COLUMNS)
        inter = inter.rename(columns=MICROLENS_COLUMNS)
    missing = [_missing(items, items_path, ("item_id",)), _missing(inter, interactions_path, ("user_id", "item_id", "timestamp"))]
    if users_table is not None:
        missing.append(_missing(users_table, Path(users_path), ("user_id",)))
    if any(missing):
        raise InputError("\n".join(m for m in missing if m))
    # the workspace's lock: what is checked against the store below is still true when it is written
    with workspace.lock(f"import {items_path.name}", config.lock_timeout_s):
        return _import_locked(workspace, items_path, interactions_path, items, inter, users_path, users_table, media_root, fmt, limits, progress, config)


def _import_locked(
    workspace: Workspace, items_path: Path, interactions_path: Path, items: pd.DataFrame, inter: pd.DataFrame,
    users_path: str | Path | None, users_table: pd.DataFrame | None, media_root: Path | None, fmt: str, limits: MediaLimits,
    progress: Callable[[str, int, int], None] | None, config: ImportConfig,
) -> ImportReport:  # fmt: skip
    table_fmt = "csv" if fmt == "microlens" else fmt
    known_users: set[str] | None = None
    if users_table is not None:
        known_users = set(users_table["user_id"].str.strip()) | set(workspace.users.ids())
    problems = _Problems()

    # 2. items: ids, kinds, media files
    item_rows = []
    first_line: dict[str, _Where] = {}
    stored_items = workspace.items.existing(list(items["item_id"].str.strip()))
    for i, row in enumerate(items.to_dict("records")):
        where = _Where(0, i, items_path.name, table_fmt == "parquet")
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
        media_file = _media_file(row, item_id, media_root, fmt, config.allow_outside_media_dir)
        if isinstance(media_file, str):
            problems.add(where, media_file)
            continue
        kind = (row.get("kind") or "").strip() or _kind_of(media_file)
        if kind not in {k.value for k in Kind}:
            problems.add(where, f"kind {kind!r} is not one of video, image, text")
            continue
        created = _parse_number("created_at", row.get("created_at") or "0")
        if isinstance(created, str):
            problems.add(where, created)
            continue
        item_rows.append((where, item_id, Kind(kind), media_file, row, created))

    # 3. interactions: ids known, times and events valid
    new_items = set(first_line)
    existing_items = workspace.items.existing(list(set(inter["item_id"].str.strip()) - new_items))
    stored_users = workspace.users.existing(list(set(inter["user_id"].str.strip())))
    interactions: list[Interaction] = []
    for i, row in enumerate(inter.to_dict("records")):
        where = _Where(1, i, interactions_path.name, table_fmt == "parquet")
        user_id, item_id = row["user_id"].strip(), row["item_id"].strip()
        if not user_id or not item_id:
            problems.add(where, "empty user_id or item_id")
            continue
        if item_id not in new_items and item_id not in existing_items:
            problems.add(where, f"unknown item_id {item_id!r} (not in {items_path.name} nor the workspace)")
            continue
        if known_users is not None and user_id not in known_users:
            problems.add(where, f"unknown user_id {user_id!r} (not in {Path(users_path).name} nor the workspace)")
            continue
        ts = _parse_number("timestamp", row["timestamp"])
        if isinstance(ts, str):
            problems.add(where, ts)
            continue
        event = (row.get("event") or "click").strip()
        if event not in {e.value for e in Event}:
            problems.add(where, f"event {event!r} is not one of {', '.join(e.value for e in Event)}")
            continue
        value = None
        if (row.get("value") or "").strip():
            value = _parse_number("value", row["value"], dates=False)
            if isinstance(value, str):
                problems.add(where, value)
                continue
        interactions.append(Interaction(user_id, item_id, ts, Event(event), value, "import"))

    # 4. probe every media file (a corrupt or oversized file fails the whole import); every
    #    problem so far and these are reported together
    what = f"import of {items_path.name} + {interactions_path.name}"
    checked: dict[str, tuple[_Where, Path, VideoInfo | ImageInfo]] = {}
    for done, (where, item_id, kind, media_file, _, _) in enumerate(item_rows, 1):
        if media_file is not None:
            with _row_problems(problems, where, media_file):
                checked[item_id] = (where, media_file, _check_media(media_file, kind, limits))
        if progress:
            progress("probe", done, len(item_rows))
    problems.raise_if_any(what)
    # 4b. only now, with nothing to report: shrink oversized videos, take covers
    media: dict[str, _Probed] = {}
    for item_id, (where, media_file, info) in checked.items():
        with _row_problems(problems, where, media_file):
            media[item_id] = _prepare_media(media_file, limits, info)
    problems.raise_if_any(what)

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
                probed, cover_png = media[item_id].media, media[item_id].cover_png
                digest, _ = workspace.media.put_file(media[item_id].file, probed.mime)
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


def _media_file(row: dict, item_id: str, media_root: Path | None, fmt: str, allow_outside: bool) -> Path | None | str:
    """The item's media file, None for a text item, or a problem (str)."""
    name = (row.get("media") or row.get("media_path") or "").strip()
    if fmt == "microlens" and not name and media_root is not None:
        for ext in (".mp4", ".jpg", ".png"):
            if os.path.lexists(media_root / f"{item_id}{ext}"):
                return _media_path(f"{item_id}{ext}", media_root, allow_outside)
        return None
    if not name:
        return None
    return _media_path(name, media_root, allow_outside)


def _media_path(name: str, media_root: Path | None, allow_outside: bool) -> Path | str:
    """`name` (relative to `media_root`, or absolute) as a readable file inside `media_root`, or a problem."""
    path = Path(name)
    if not path.is_absolute():
        if media_root is None:
            return f"media {name!r} is a relative path but no --media-dir was given"
        path = media_root / path
    elif media_root is None and not allow_outside:
        return f"media {name!r} is an absolute path and no --media-dir was given; give the folder that holds it as --media-dir, or pass --allow-outside-media-dir"
    if media_root is not None and not allow_outside:
        escape = _escape(name, path, media_root)
        if escape is not None:
            return f"media {name!r} {escape}; media must lie inside --media-dir {media_root} (pass --allow-outside-media-dir to allow it)"
    try:
        st = path.stat()
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return f"media file {path} does not exist"
        return f"cannot read media file {path}: {os_reason(exc)}"
    if stat.S_ISDIR(st.st_mode):
        return f"media {path} is a directory, expected a file"
    if not stat.S_ISREG(st.st_mode):
        return f"media {path} is not a regular file"
    if not os.access(path, os.R_OK):
        return f"cannot read media file {path}: permission denied"
    return path


def _escape(name: str, path: Path, root: Path) -> str | None:
    """How `path` (written `name`) leaves `root`: `..`, an absolute path elsewhere, a symlink; None if it stays."""
    if ".." in Path(name).parts:
        return "goes up with '..'"
    absolute = Path(os.path.abspath(path))
    for base in dict.fromkeys((Path(os.path.abspath(root)), root.resolve())):  # as given, and with its own links resolved
        try:
            rel = absolute.relative_to(base)
        except ValueError:
            continue
        node = base
        for part in rel.parts:  # no link anywhere below the folder, even one that points back inside
            node = node / part
            if node.is_symlink():
                return f"is a symbolic link ({node} -> {os.readlink(node)})"
        return None
    return "is outside the media folder"


def _kind_of(path: Path | None) -> str:
    if path is None:
        return "text"
    ext = path.suffix.lower()
    return "video" if ext in VIDEO_EXT else "image" if ext in IMAGE_EXT else "video"


@dataclass
class _Probed:
    """A checked media file: its row (hash still empty), a video's cover, and the file to store:
    the original, or a copy shrunk to the limits in `scratch` (removed with this object)."""

    media: Media
    cover_png: bytes | None
    file: Path
    scratch: tempfile.TemporaryDirectory | None = None


@contextmanager
def _row_problems(problems: _Problems, where: _Where, path: Path) -> Iterator[None]:
    """Any media failure inside the block becomes `where`'s problem, so the report stays whole."""
    try:
        yield
    except GenerecError as exc:
        problems.add(where, str(exc))
    except av.FFmpegError as exc:
        problems.add(where, f"{path}: expected a readable media file, found an FFmpeg error: {exc.strerror or exc}")
    except OSError as exc:
        problems.add(where, describe_os_error(exc, "read"))


def _check_media(path: Path, kind: Kind, limits: MediaLimits) -> VideoInfo | ImageInfo:
    """MediaError unless `path` is a whole, readable file of `kind` within `limits`; what it is."""
    if kind == Kind.VIDEO:
        return probe(path, limits)
    if kind == Kind.IMAGE:
        info = probe_image(path, limits)
        load_image(path)
        return info
    raise MediaError(f"{path}: a text item cannot have a media file")


def _prepare_media(path: Path, limits: MediaLimits, info: VideoInfo | ImageInfo) -> _Probed:
    """The media row and file to store for a file `_check_media` passed with `info`."""
    if isinstance(info, VideoInfo):
        scratch = None
        if info.width * info.height > limits.max_pixels:  # oversize = "downscale": store a smaller copy
            scratch = tempfile.TemporaryDirectory(prefix="generec-import-")
            path = Path(scratch.name) / f"{path.stem}.mp4"
            info = downscale(info.path, path, limits.max_pixels)
        # the uploader's cover: the first frame, upright; sizes as shown (a phone's rotation applied)
        cover = apply_rotation(frames_at(path, [0.0]).images[0], info.rotation)
        mime = mimetypes.guess_type(path.name)[0] or "video/mp4"
        shown = (info.duration, info.fps, info.display_width, info.display_height, info.has_audio)
        return _Probed(Media("", mime, *shown), encode_image(cover, "PNG"), path, scratch)
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return _Probed(Media("", mime, width=info.width, height=info.height), None, path)
