"""Fixtures of the fidelity tests. Each block belongs to the checks named in its heading."""

from __future__ import annotations

# --- quality, originality, authenticity: a tiny real catalogue and edits of it ------------------

import shutil
from pathlib import Path

import numpy as np
import pytest

from generec.fidelity.types import Candidate, FidelityContext
from generec.media.image import encode_image
from generec.media.video import AudioTrack, probe, write_mp4
from generec.types import Item, Kind, Media
from generec.workspace import Workspace
from helpers import photo, shot_frames

PIXELS_W, PIXELS_H, PIXELS_FPS = 128, 224, 10  # the benchmark's portrait size


def pixel_shots(spec: list[tuple[str, float]], seed: int = 0) -> list[np.ndarray]:
    """Frames of hard-cut shots: (photo name, seconds) each, a slow pan over the photo."""
    frames: list[np.ndarray] = []
    for k, (name, seconds) in enumerate(spec):
        frames += shot_frames(photo(name), max(1, round(seconds * PIXELS_FPS)), PIXELS_W, PIXELS_H, seed=seed + k)
    return frames


def tone(seconds: float, rate: int = 16_000) -> AudioTrack:
    t = np.arange(int(rate * seconds)) / rate
    return AudioTrack((0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)[None, :], rate)


def add_video_item(ws: Workspace, tmp: Path, item_id: str, frames: list[np.ndarray], title: str, tags: list[str],
                   uploader: str | None = None, audio: bool = False, cover: np.ndarray | None = None) -> Item:  # fmt: skip
    """A human item: an H.264 video of `frames` (10 fps) and a PNG cover (its first frame unless given)."""
    path = tmp / f"{item_id}.mp4"
    write_mp4(path, frames, fps=PIXELS_FPS, audio=tone(len(frames) / PIXELS_FPS) if audio else None)
    info = probe(path)
    digest, mime = ws.media.put_file(path, "video/mp4")
    cover = frames[0] if cover is None else cover
    cover_digest = ws.media.put_bytes(encode_image(cover), "image/png")
    item = Item(item_id, Kind.VIDEO, title=title, tags=tags, uploader=uploader,
                media=Media(digest, mime, info.duration, info.fps, info.width, info.height, info.has_audio),
                cover=Media(cover_digest, "image/png", None, None, cover.shape[1], cover.shape[0]))  # fmt: skip
    ws.items.add(item)
    return item


@pytest.fixture(scope="session")
def pixels_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The editor's tiny catalogue (21 videos of 3 photos) plus two portrait videos by named uploaders:
    `flashy` (ann): chelsea 2 s, a 0.2 s flash of coffee, astronaut 2 s;
    `cat_rocket` (bob): "my cat", chelsea 3 s then rocket 1 s, with sound."""
    from editor.conftest import build_catalogue

    root = build_catalogue(tmp_path_factory.mktemp("fidelity") / "ws")
    ws = Workspace.open(root)
    tmp = root / "src"
    tmp.mkdir()
    add_video_item(ws, tmp, "flashy", pixel_shots([("chelsea", 2.0), ("coffee", 0.2), ("astronaut", 2.0)]), "a day out", ["animal", "person"], "ann")
    add_video_item(ws, tmp, "cat_rocket", pixel_shots([("chelsea", 3.0), ("rocket", 1.0)], seed=3), "my cat", ["cat"], "bob", audio=True)
    shutil.rmtree(tmp)
    ws.close()
    return root


@pytest.fixture(scope="session")
def pixels_ws(pixels_root: Path):
    ws = Workspace.open(pixels_root)
    yield ws
    ws.close()


class Pixels:
    """The shared catalogue, a fresh context (empty memo; disk caches persist between tests), and
    builders of candidates and videos."""

    def __init__(self, ws: Workspace, tmp: Path) -> None:
        self.ws, self.tmp = ws, tmp
        self.context = FidelityContext.for_workspace(ws)

    def item(self, item_id: str) -> Item:
        return self.ws.items.get(item_id)

    def edit(self, parent_id: str, op: str, **kw) -> Candidate:
        """A candidate edit of `parent_id`, as `editor.base.store_edit` builds it."""
        parent = self.item(parent_id)
        return Candidate("edit", op, kw.pop("title", parent.title), kw.pop("tags", list(parent.tags)), parent=parent,
                         parent_video=self.ws.media_path(parent.media.hash, parent.media.mime), **kw)  # fmt: skip

    def frames(self, item_id: str, times: list[float]) -> list[np.ndarray]:
        from generec.media.video import frames_at

        parent = self.item(item_id)
        return frames_at(self.ws.media_path(parent.media.hash, parent.media.mime), times).images

    def cover(self, item_id: str) -> np.ndarray:
        from generec.encoders.video import cover_image

        return cover_image(self.ws, self.item(item_id))

    def video(self, name: str, frames: list[np.ndarray], audio: bool = False) -> Path:
        path = self.tmp / f"{name}.mp4"
        write_mp4(path, frames, fps=PIXELS_FPS, audio=tone(len(frames) / PIXELS_FPS) if audio else None)
        return path

    shots = staticmethod(pixel_shots)


@pytest.fixture
def pixels(pixels_ws: Workspace, tmp_path: Path) -> Pixels:
    return Pixels(pixels_ws, tmp_path)
# --- end of the quality / originality / authenticity block ---------------------------------------
