"""The catalogue as the fidelity checks see it: its human items, a digest that names them, and
statistics computed once per process (`FidelityContext.memo`) and once per catalogue on disk.

- `human_items(context)`: the catalogue's human items that have a cover picture, sorted by id;
  read from the store once per process.
- `digest(items, salt)`: 16 hex digits of sha256 over the items' ids and cover hashes (and a salt
  naming what is computed from them): a new upload, or a changed cover, gives a new name.
- `stats_path(context, name, digest, ext)`: `<workspace>/models/fidelity/<name>-<digest>.<ext>`.
- `write_atomic(path, data)`: a temporary file beside `path`, then a rename, so that a reader sees a
  whole file or none.
- `named_frame(context, path, t)`: the upright frame a video shows at `t` s; the last one asked for
  is kept, so that the checks of one candidate decode it once.
- `family(parent, items)`: the ids an edit may show without copying anyone: the parent and its
  other AI variants (items whose `parent_id` is the parent).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from generec.encoders.video import cover_hash
from generec.types import Item, Origin

FIDELITY_DIR = Path("models") / "fidelity"


def memoised(context, key: str, compute: Callable[[], Any]) -> Any:
    """`context.memo[key]`, computed on first use."""
    if key not in context.memo:
        context.memo[key] = compute()
    return context.memo[key]


def human_items(context) -> list[Item]:
    """The catalogue's human items with a cover picture, sorted by id (once per process)."""

    def read() -> list[Item]:
        items = context.workspace.items.all(origin=Origin.HUMAN)
        return sorted((i for i in items if cover_hash(i) is not None), key=lambda i: i.id)

    return memoised(context, "catalogue.items", read)


def digest(items: Sequence[Item], salt: str) -> str:
    h = hashlib.sha256(salt.encode())
    for item in items:
        h.update(f"\n{item.id}:{cover_hash(item)}".encode())
    return h.hexdigest()[:16]


def stats_path(context, name: str, key: str, ext: str) -> Path:
    return Path(context.workspace.root) / FIDELITY_DIR / f"{name}-{key}.{ext}"


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def family(parent: Item | None, items: Sequence[Item]) -> set[str]:
    """Ids of the parent and of its AI variants among `items` (empty for a created item)."""
    if parent is None:
        return set()
    return {parent.id} | {i.id for i in items if i.parent_id == parent.id}


def named_frame(context, path, t: float):
    """The upright RGB frame `path` shows at `t` s (one slot: the checks of a candidate share it)."""
    from generec.media.video import apply_rotation, frames_at, read_rotation

    held = context.memo.get("catalogue.named_frame")
    if held is not None and held[0] == (str(path), float(t)):
        return held[1]
    frame = apply_rotation(frames_at(path, [float(t)]).images[0], read_rotation(path))
    context.memo["catalogue.named_frame"] = ((str(path), float(t)), frame)
    return frame
