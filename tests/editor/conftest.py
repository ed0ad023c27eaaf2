"""A tiny real catalogue for the editor: cat lovers, coffee lovers, and videos that show both."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from generec.encoders.cache import FeatureCache
from generec.encoders.image import get_image_encoder
from generec.media.image import encode_image
from generec.media.video import probe
from generec.types import Event, Interaction, Item, Kind, Media, User
from generec.workspace import Workspace
from helpers import photo, shot_frames, shots_video

TOPICS = {"animal": "chelsea", "food": "coffee", "person": "astronaut"}


def _add_video(ws: Workspace, tmp: Path, item_id: str, shots: list[np.ndarray], tags: list[str], **kw) -> Item:
    path = shots_video(tmp / f"{item_id}.mp4", shots, **kw)
    info = probe(path)
    digest, mime = ws.media.put_file(path, "video/mp4")
    first = shot_frames(shots[0], 1, kw.get("width", 128), kw.get("height", 96), seed=0)[0]
    cover = ws.media.put_bytes(encode_image(first), "image/png")
    item = Item(item_id, Kind.VIDEO, title=f"{' and '.join(tags)} video", tags=tags,
                media=Media(digest, mime, info.duration, info.fps, info.width, info.height, info.has_audio),
                cover=Media(cover, "image/png", None, None, first.shape[1], first.shape[0]))  # fmt: skip
    ws.items.add(item)
    return item


def build_catalogue(root: Path) -> Path:
    """6 single-topic videos per topic (tags = topic), two lovers per topic who clicked them,
    and three mixed videos: m_food_cat (coffee then cat, with audio), m_cat_food, m_person_food."""
    ws = Workspace.open(root, create=True)
    tmp = root / "src"
    tmp.mkdir()
    images = {t: photo(n) for t, n in TOPICS.items()}
    rng = np.random.default_rng(0)
    for topic, image in images.items():
        for k in range(6):
            flipped = image[:, ::-1] if k % 2 else image
            _add_video(ws, tmp, f"{topic}{k}", [flipped], [topic], seconds=1.0)
    _add_video(ws, tmp, "m_food_cat", [images["food"], images["animal"]], ["food", "animal"], seconds=2.0, audio=True)
    _add_video(ws, tmp, "m_cat_food", [images["animal"], images["food"]], ["animal", "food"], seconds=2.0)
    _add_video(ws, tmp, "m_person_food", [images["person"], images["food"]], ["person", "food"], seconds=2.0)
    users = [f"{topic}_lover{j}" for topic in TOPICS for j in range(2)]
    ws.users.add_many([User(u) for u in users])
    events, ts = [], 1_000.0
    for u in users:
        topic = u.split("_")[0]
        for k in rng.permutation(6)[:4]:
            events.append(Interaction(u, f"{topic}{k}", ts, Event.IMPRESSION))
            events.append(Interaction(u, f"{topic}{k}", ts + 1, Event.CLICK))
            ts += 10
        other = [t for t in TOPICS if t != topic][0]
        events.append(Interaction(u, f"{other}0", ts, Event.IMPRESSION))
        ts += 10
    ws.interactions.add_many(events)
    shutil.rmtree(tmp)
    ws.close()
    return root


@pytest.fixture(scope="session")
def catalogue_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once; tests that write copy it first (`catalogue` fixture)."""
    root = build_catalogue(tmp_path_factory.mktemp("editor") / "ws")
    # warm the shared feature cache once: every copy starts with cover features computed
    ws = Workspace.open(root)
    from generec.encoders.video import cover_features

    cover_features(ws, ws.items.all(), get_image_encoder(), FeatureCache.for_workspace(ws))
    ws.close()
    return root


@pytest.fixture
def catalogue(catalogue_root: Path, tmp_path: Path):
    root = tmp_path / "ws"
    shutil.copytree(catalogue_root, root)
    ws = Workspace.open(root)
    yield ws
    ws.close()


# a tag-less import: what a new user brings --------------------------------------------------------

TAGLESS_PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "immunohistochemistry")


def write_pyav_video(path: Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    """An H.264 MP4 written with plain PyAV (not our writer), as a phone or an editor would."""
    import av

    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def write_tagless_tables(folder: Path) -> Path:
    """5 tiny two-shot videos, an items table with no tags column, and clicks by ann (v0, v1) and
    bob (v2, v3, v4): the tables `generec data import` takes. Returns `folder`."""
    media = folder / "media"
    media.mkdir(parents=True)
    for k, name in enumerate(TAGLESS_PHOTOS):
        nxt = TAGLESS_PHOTOS[(k + 1) % len(TAGLESS_PHOTOS)]
        write_pyav_video(media / f"v{k}.mp4", shot_frames(photo(name), 15, 96, 64, seed=k) + shot_frames(photo(nxt), 15, 96, 64, seed=k))
    (folder / "items.csv").write_text("item_id,title,media\n" + "".join(f"v{k},clip {k},v{k}.mp4\n" for k in range(5)))
    rows = [f"{u},v{i},{1000 + t},click\n" for u, clicks in (("ann", (0, 1)), ("bob", (2, 3, 4))) for t, i in enumerate(clicks)]
    (folder / "interactions.csv").write_text("user_id,item_id,timestamp,event\n" + "".join(rows))
    return folder


@pytest.fixture(scope="session")
def tagless_tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tagless_tables(tmp_path_factory.mktemp("tagless") / "tables")


@pytest.fixture
def tagless(tagless_tables: Path, tmp_path: Path):
    """The 5 videos imported with the library's importer into a fresh workspace."""
    from generec.store.importer import import_data

    ws = Workspace.open(tmp_path / "tagless", create=True)
    import_data(ws, tagless_tables / "items.csv", tagless_tables / "interactions.csv", tagless_tables / "media")
    yield ws
    ws.close()
