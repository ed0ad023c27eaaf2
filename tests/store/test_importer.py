"""Import of a user's own data; every bad input leaves the workspace byte-identical."""

import numpy as np
import pandas as pd
import pytest

from helpers import db_snapshot, make_video, snapshot
from generec.config import MediaLimits
from generec.store.importer import ImportConfig, import_data
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
    before = snapshot(workspace.root), db_snapshot(workspace)
    with pytest.raises(InputError, match=match) as info:
        import_data(workspace, ip, xp, media, **kw)
    assert (snapshot(workspace.root), db_snapshot(workspace)) == before
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


def _one_video(tmp_path, media, name, new_id="n1"):
    """An items table of one video item with media path `name`, and one interaction with it."""
    return _write(tmp_path, pd.DataFrame({"item_id": [new_id], "media": [name]}), pd.DataFrame({"user_id": ["u1"], "item_id": [new_id], "timestamp": ["1"]}))


@pytest.mark.parametrize("case", ["dotdot", "absolute_outside", "link_outside", "link_inside", "linked_folder", "absolute_no_media_dir"])
def test_media_path_must_stay_inside_media_dir(populated, case):
    ws, (tmp_path, media, items, inter) = populated
    outside = make_video(tmp_path / "outside.mp4", n=6)  # a real video, so only the path can be at fault
    (media / "sub").mkdir()
    root = media
    if case == "dotdot":
        name = "../outside.mp4"
    elif case == "absolute_outside":
        name = str(outside)
    elif case == "link_outside":
        (media / "link.mp4").symlink_to(outside)
        name = "link.mp4"
    elif case == "link_inside":  # a link is refused even when it points back inside the folder
        (media / "link.mp4").symlink_to(media / "a.mp4")
        name = "link.mp4"
    elif case == "linked_folder":
        (media / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
        name = "elsewhere/outside.mp4"
    else:
        name, root = str(outside), None
    ip, xp = _one_video(tmp_path, media, name)
    msg = _bad(ws, ip, xp, root, match="media")
    assert f"items.csv line 2: media {name!r}" in msg
    assert ("--media-dir" in msg) and ("--allow-outside-media-dir" in msg)
    # the flag takes the path as written
    report = import_data(ws, ip, xp, root, config=ImportConfig(allow_outside_media_dir=True))
    assert report.n_media == 1
    stored = ws.items.get("n1").media
    assert ws.media_path(stored.hash, stored.mime).read_bytes() == (media / "a.mp4" if case == "link_inside" else outside).read_bytes()


def test_media_paths_inside_media_dir_are_taken(workspace, tmp_path):
    media = tmp_path / "m"
    (media / "sub").mkdir(parents=True)
    make_video(media / "sub" / "v.mp4", n=6)
    make_video(media / "w.mp4", n=6, width=32, height=32)
    new = pd.DataFrame({"item_id": ["x", "y"], "media": ["sub/v.mp4", str(media / "w.mp4")]})  # relative, and absolute inside
    rows = pd.DataFrame({"user_id": ["u", "u"], "item_id": ["x", "y"], "timestamp": ["1", "2"]})
    assert import_data(workspace, *_write(tmp_path, new, rows), media).n_media == 2


def test_microlens_ids_cannot_leave_media_dir(workspace, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    make_video(tmp_path / "secret.mp4", n=6)
    (tmp_path / "titles.csv").write_text("item,title\n../secret,up one\n")
    (tmp_path / "pairs.csv").write_text("user,item,timestamp\n1,../secret,1600000000\n")
    msg = _bad(workspace, tmp_path / "titles.csv", tmp_path / "pairs.csv", videos, fmt="microlens", match="goes up")
    assert "titles.csv line 2: media '../secret.mp4'" in msg


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_non_finite_timestamps_are_refused_per_row(populated, fmt):
    ws, (tmp_path, media, items, inter) = populated
    stamps = ["5", "nan", "inf", "-inf", "1e400", "NaN"]
    rows = pd.DataFrame({"user_id": ["u1"] * 6, "item_id": ["a"] * 6, "timestamp": stamps})
    new = pd.DataFrame({"item_id": ["n1", "n2"], "created_at": ["1", "inf"]})
    ip, xp = _write(tmp_path, new, rows, fmt)
    msg = _bad(ws, ip, xp, fmt=fmt, match="not a finite number")
    first = 2 if fmt == "csv" else 1  # CSV lines count the header; Parquet rows do not
    for i, stamp in enumerate(stamps[1:], 1):
        assert f"inter.{fmt} {'line' if fmt == 'csv' else 'row'} {first + i}: timestamp {stamp!r} is not a finite number" in msg
    assert f"items.{fmt} {'line' if fmt == 'csv' else 'row'} {first + 1}: created_at 'inf' is not a finite number" in msg
    assert "problem(s)" in msg and "(6 problem(s))" in msg


def test_relative_and_ambiguous_dates_are_refused_per_row(populated):
    """Only numbers and ISO-8601 dates: 'now' or 'yesterday' would stamp rows with the time of the run."""
    ws, (tmp_path, media, items, inter) = populated
    stamps = ["2024-05-01", "now", "today", "yesterday", "05/01/2024", "2024-05-01 12:00:00+02:00"]
    rows = pd.DataFrame({"user_id": ["u1"] * 6, "item_id": ["a"] * 6, "timestamp": stamps})
    new = pd.DataFrame({"item_id": ["n1", "n2"], "created_at": ["2024-05-01T00:00:00Z", "tomorrow"]})
    ip, xp = _write(tmp_path, new, rows)
    msg = _bad(ws, ip, xp, match="ISO-8601")
    for line, stamp in [(3, "now"), (4, "today"), (5, "yesterday"), (6, "05/01/2024")]:
        assert f"inter.csv line {line}: timestamp {stamp!r} is not a number or an ISO-8601 date" in msg
    assert "items.csv line 3: created_at 'tomorrow' is not a number or an ISO-8601 date" in msg
    assert "(5 problem(s))" in msg
    good = rows.iloc[[0, 5]]
    import_data(ws, *_write(tmp_path, new.iloc[:1], good))
    stored = ws.interactions.frame().query("user_id == 'u1' and item_id == 'a'")["ts"]
    assert pd.Timestamp("2024-05-01T00:00:00Z").timestamp() in set(stored)
    assert pd.Timestamp("2024-05-01T10:00:00Z").timestamp() in set(stored)
    assert ws.items.get("n1").created_at == pd.Timestamp("2024-05-01T00:00:00Z").timestamp()


def test_parquet_float_timestamps(populated):
    """A float column, as Parquet writers store times: inf refused, NaN (missing) refused, finite taken."""
    ws, (tmp_path, media, items, inter) = populated
    rows = pd.DataFrame({"user_id": ["u1"] * 4, "item_id": ["a"] * 4, "timestamp": [7.5, float("inf"), float("-inf"), float("nan")]})
    ip, xp = _write(tmp_path, pd.DataFrame({"item_id": ["n1"]}), rows, "parquet")
    msg = _bad(ws, ip, xp, fmt="parquet", match="finite")
    assert "inter.parquet row 2: timestamp 'inf'" in msg and "inter.parquet row 3: timestamp '-inf'" in msg
    assert "inter.parquet row 4: timestamp is empty" in msg and "row 1:" not in msg


def test_every_problem_is_reported_in_one_pass(populated):
    """Bad rows, missing, empty, unreadable and escaping media: one error lists them all."""
    ws, (tmp_path, media, items, inter) = populated
    (media / "empty.mp4").write_bytes(b"")
    (media / "folder.mp4").mkdir()
    make_video(media / "fine.mp4", n=6)  # good, and still not stored
    new = pd.DataFrame({
        "item_id": ["ok", "dup", "dup", "gone", "empty", "up", "dir"],
        "media": ["fine.mp4", "", "", "gone.mp4", "empty.mp4", "../x.mp4", "folder.mp4"],
    })  # fmt: skip
    rows = pd.DataFrame({"user_id": ["u1", "u1"], "item_id": ["ok", "ghost"], "timestamp": ["1", "inf"]})
    msg = _bad(ws, *_write(tmp_path, new, rows), media, match="nothing was imported")
    expected = [
        "items.csv line 4: duplicate item_id 'dup'", "items.csv line 5: media file", "gone.mp4 does not exist",
        "items.csv line 6:", "empty (0-byte) file", "items.csv line 7: media '../x.mp4' goes up",
        "items.csv line 8: media", "folder.mp4 is a directory", "inter.csv line 3: unknown item_id 'ghost'",
    ]  # fmt: skip
    for part in expected:
        assert part in msg, part
    assert "(6 problem(s))" in msg
    assert msg.index("items.csv line 6") < msg.index("items.csv line 7") < msg.index("inter.csv line 3")  # in file order


def test_many_problems_are_capped(populated):
    ws, (tmp_path, media, items, inter) = populated
    rows = pd.DataFrame({"user_id": ["u1"] * 30, "item_id": ["a"] * 30, "timestamp": ["never"] * 30})
    msg = _bad(ws, *_write(tmp_path, pd.DataFrame({"item_id": ["n1"]}), rows), match="30 problem")
    assert "inter.csv line 21:" in msg and "inter.csv line 22:" not in msg and "... and 10 more" in msg


def test_table_that_is_a_directory(populated):
    ws, (tmp_path, media, items, inter) = populated
    ip, xp = _write(tmp_path, items, inter)
    (tmp_path / "folder").mkdir()
    _bad(ws, tmp_path / "folder", xp, media, match="items table .*folder is a directory, expected a csv file")
    _bad(ws, ip, xp, ip, match="media folder .* is not a directory")


def test_import_waits_for_the_workspace_lock(populated, db_url):
    from generec.errors import WorkspaceError
    from generec.workspace import Workspace

    ws, (tmp_path, media, items, inter) = populated
    ip, xp = _write(tmp_path, pd.DataFrame({"item_id": ["n1"]}), pd.DataFrame({"user_id": ["u9"], "item_id": ["n1"], "timestamp": ["1"]}))
    before = snapshot(ws.root), db_snapshot(ws)
    with Workspace.open(ws.root, db=db_url) as other, other.lock("test"):  # another writer (its own open file)
        with pytest.raises(WorkspaceError, match="is busy: another generec process"):
            import_data(ws, ip, xp, config=ImportConfig(lock_timeout_s=0.3))
    assert (snapshot(ws.root), db_snapshot(ws)) == before
    assert import_data(ws, ip, xp).n_items == 1  # free again


_IMPORT_SCRIPT = """
import os, sys, time
from generec.store.importer import import_data
from generec.workspace import Workspace
go, root, items, inter, media = sys.argv[1:]
print("ready", flush=True)
while not os.path.exists(go):  # both processes go at the same moment
    time.sleep(0.001)
with Workspace.open(root, create=True) as ws:
    report = import_data(ws, items, inter, media)
print(report.n_items, report.n_users)
"""


def test_two_imports_at_once_both_succeed(tmp_path):
    """Two real processes import different items by the same new users into one new workspace."""
    import subprocess
    import sys

    from generec.workspace import Workspace

    media = tmp_path / "media"
    media.mkdir()
    tables = []
    for p in range(2):
        ids = [f"p{p}v{i}" for i in range(4)]
        for i in ids:
            make_video(media / f"{i}.mp4", n=30)  # probing takes a while: both validate before either writes
        ip, xp = tmp_path / f"items{p}.csv", tmp_path / f"inter{p}.csv"
        pd.DataFrame({"item_id": ids, "media": [f"{i}.mp4" for i in ids]}).to_csv(ip, index=False)
        pd.DataFrame({"user_id": ["u1", "u2", "u1", f"only{p}"], "item_id": ids, "timestamp": ["1", "2", "3", "4"]}).to_csv(xp, index=False)
        tables.append((ip, xp))
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", _IMPORT_SCRIPT, str(go), str(tmp_path / "ws"), str(ip), str(xp), str(media)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for ip, xp in tables
    ]  # fmt: skip
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    go.touch()
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (stdout, stderr) in zip(procs, results):
        assert proc.returncode == 0, stderr
    assert sorted(r[0].split()[1] for r in results) == ["1", "3"]  # u1, u2 and only0 are new to the first; only1 to the second
    with Workspace.open(tmp_path / "ws") as ws:
        assert ws.items.count() == 8 and ws.users.count() == 4 and ws.interactions.count() == 8
