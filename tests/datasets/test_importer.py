"""Import of a user's own data; every bad input leaves the workspace byte-identical."""

import numpy as np
import pandas as pd
import pytest

from helpers import make_video, snapshot
from generec.config import MediaLimits
from generec.datasets.importer import import_data
from generec.errors import InputError
from generec.media.image import save_image


@pytest.fixture
def catalogue(tmp_path):
    """A small catalogue: two videos (one portrait and odd-sized, one with audio), an image, a text."""
    media = tmp_path / "media_in"
    media.mkdir()
    make_video(media / "a.mp4", n=12, width=64, height=48, audio=True)
    make_video(media / "b.mp4", n=15, width=45, height=81)  # portrait, odd: stored as 44x80
    save_image(media / "c.png", np.full((40, 30, 3), 200, np.uint8))
    items = pd.DataFrame({
        "item_id": ["a", "b", "c", "d"], "title": ["Cats", "Dogs", "Sky", "Essay"],
        "tags": ["cat|pets", "dog", "", "text;essay"], "media": ["a.mp4", "b.mp4", "c.png", ""],
    })  # fmt: skip
    inter = pd.DataFrame({
        "user_id": ["u1", "u1", "u2", "u3"], "item_id": ["a", "b", "c", "d"],
        "timestamp": ["100", "2024-01-01T00:00:00Z", "300", "400"], "event": ["click", "watch", "", "like"],
        "value": ["", "0.5", "", ""],
    })  # fmt: skip
    return tmp_path, media, items, inter


def _write(tmp_path, items, inter, fmt="csv"):
    ip, xp = tmp_path / f"items.{fmt}", tmp_path / f"inter.{fmt}"
    if fmt == "csv":
        items.to_csv(ip, index=False)
        inter.to_csv(xp, index=False)
    else:
        items.to_parquet(ip)
        inter.to_parquet(xp)
    return ip, xp


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_import_catalogue(workspace, catalogue, fmt):
    tmp_path, media, items, inter = catalogue
    ip, xp = _write(tmp_path, items, inter, fmt)
    report = import_data(workspace, ip, xp, media, fmt=fmt)
    assert (report.n_items, report.n_users, report.n_interactions, report.n_media) == (4, 3, 4, 3)
    a, b, c, d = (workspace.items.get(k) for k in "abcd")
    assert a.kind == "video" and a.media.has_audio and a.cover is not None and a.tags == ["cat", "pets"]
    assert (b.media.width, b.media.height) == (44, 80)
    assert c.kind == "image" and c.cover is None
    assert d.kind == "text" and d.media is None and d.tags == ["text", "essay"]
    assert workspace.media_path(a.media.hash, a.media.mime).read_bytes() == (media / "a.mp4").read_bytes()
    frame = workspace.interactions.frame()
    assert frame.set_index("item_id").loc["b", "ts"] == pd.Timestamp("2024-01-01T00:00:00Z").timestamp()
    assert frame.set_index("item_id").loc["c", "event"] == "click"  # default event


def test_import_microlens_layout(workspace, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    make_video(videos / "17.mp4", n=10)
    make_video(videos / "42.mp4", n=10)
    (tmp_path / "MicroLens-100k_title_en.csv").write_text("item,title\n17,a cat video\n42,a dog video\n")
    (tmp_path / "MicroLens-100k_pairs.csv").write_text("user,item,timestamp\n1,17,1600000000\n1,42,1600000100\n2,17,1600000200\n")
    report = import_data(workspace, tmp_path / "MicroLens-100k_title_en.csv", tmp_path / "MicroLens-100k_pairs.csv", videos, fmt="microlens")
    assert (report.n_items, report.n_users, report.n_interactions, report.n_media) == (2, 2, 3, 2)
    assert workspace.items.get("17").title == "a cat video"


def _bad(workspace, ip, xp, media=None, match="", **kw):
    before = snapshot(workspace.root)
    with pytest.raises(InputError, match=match) as info:
        import_data(workspace, ip, xp, media, **kw)
    assert snapshot(workspace.root) == before
    return str(info.value)


@pytest.fixture
def populated(workspace, catalogue):
    """A workspace that already holds data, so 'unchanged' means something."""
    tmp_path, media, items, inter = catalogue
    import_data(workspace, *_write(tmp_path, items, inter), media)
    return workspace, catalogue


def test_missing_columns(populated):
    ws, (tmp_path, media, items, inter) = populated
    ip, xp = _write(tmp_path, items.assign(item_id=["x1", "x2", "x3", "x4"]), inter.drop(columns=["timestamp"]))
    _bad(ws, ip, xp, media, match="inter.csv: missing column.*timestamp")


def test_duplicate_ids_are_reported_with_lines(populated):
    ws, (tmp_path, media, items, inter) = populated
    dup = pd.DataFrame({"item_id": ["n1", "n2", "n1"], "title": ["x", "y", "z"]})
    ip, xp = _write(tmp_path, dup, pd.DataFrame({"user_id": ["u9"], "item_id": ["n1"], "timestamp": ["1"]}))
    msg = _bad(ws, ip, xp, match="duplicate item_id 'n1'")
    assert "items.csv line 4" in msg and "first on items.csv line 2" in msg
    again = pd.DataFrame({"item_id": ["a"], "title": ["again"]})  # already in the workspace
    ip, xp = _write(tmp_path, again, pd.DataFrame({"user_id": ["u9"], "item_id": ["a"], "timestamp": ["1"]}))
    _bad(ws, ip, xp, match="'a' is already in the workspace")


def test_unknown_users_and_items(populated):
    ws, (tmp_path, media, items, inter) = populated
    new_items = pd.DataFrame({"item_id": ["n1"], "title": ["x"]})
    rows = pd.DataFrame({"user_id": ["u1", "stranger", "u1"], "item_id": ["n1", "n1", "ghost"], "timestamp": ["1", "2", "x"]})
    ip, xp = _write(tmp_path, new_items, rows)
    users = tmp_path / "users.csv"
    users.write_text("user_id\nu1\n")
    msg = _bad(ws, ip, xp, users_path=users, match="unknown user_id 'stranger'")
    assert "inter.csv line 3: unknown user_id" in msg
    assert "inter.csv line 4: unknown item_id 'ghost'" in msg


def test_bad_values(populated):
    ws, (tmp_path, media, items, inter) = populated
    rows = pd.DataFrame({"user_id": ["u1", "u1"], "item_id": ["a", "a"], "timestamp": ["yesterday-ish", "5"], "event": ["click", "buy"]})
    ip, xp = _write(tmp_path, pd.DataFrame({"item_id": ["n1"]}), rows)
    msg = _bad(ws, ip, xp, match="timestamp 'yesterday-ish'")
    assert "event 'buy' is not one of" in msg


@pytest.mark.parametrize("case", ["not_video", "zero_byte", "truncated", "one_frame", "huge"])
def test_bad_media_leaves_workspace_unchanged(populated, case):
    ws, (tmp_path, media, items, inter) = populated
    path = media / f"{case}.mp4"
    limits = MediaLimits()
    if case == "not_video":
        path.write_text("this is a text file, not a video")
    elif case == "zero_byte":
        path.write_bytes(b"")
    elif case == "truncated":
        make_video(tmp_path / "full.mp4", n=40)
        data = (tmp_path / "full.mp4").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif case == "one_frame":
        make_video(path, n=1)
    elif case == "huge":
        make_video(path, n=3, width=128, height=96)
        limits = MediaLimits(max_pixels=64 * 48)
    good = media / "good.mp4"
    make_video(good, n=8)  # a good video in the same import must not be stored either
    new = pd.DataFrame({"item_id": ["g", "bad"], "media": ["good.mp4", path.name]})
    rows = pd.DataFrame({"user_id": ["u1", "u1"], "item_id": ["g", "bad"], "timestamp": ["1", "2"]})
    ip, xp = _write(tmp_path, new, rows)
    msg = _bad(ws, ip, xp, media, limits=limits, match=path.name)
    assert "items.csv line 3" in msg


def test_missing_media_file_and_folder(populated):
    ws, (tmp_path, media, items, inter) = populated
    ip, xp = _write(tmp_path, pd.DataFrame({"item_id": ["n"], "media": ["nope.mp4"]}), pd.DataFrame({"user_id": ["u1"], "item_id": ["n"], "timestamp": ["1"]}))
    _bad(ws, ip, xp, media, match="nope.mp4 does not exist")
    _bad(ws, ip, xp, tmp_path / "no_such_dir", match="media folder .* does not exist")
    _bad(ws, ip, xp, match="no --media-dir")


def test_unknown_format(workspace, catalogue):
    tmp_path, media, items, inter = catalogue
    _bad(workspace, *_write(tmp_path, items, inter), media, fmt="xlsx", match="valid formats: csv, parquet, microlens")
