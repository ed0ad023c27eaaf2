"""Import of footage as phones and other tools write it (files made here with plain PyAV, not
our writer): a rotated phone clip, an odd frame size, a variable frame rate, frames too large."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from generec.config import MediaLimits
from generec.store.importer import import_data
from generec.editor.keyframes import analyse
from generec.encoders.cache import FeatureCache
from generec.encoders.image import get_image_encoder
from generec.encoders.video import cover_features, frame_features
from generec.errors import InputError
from generec.media.image import load_image
from generec.media.video import probe
from helpers import photo, snapshot


def _plain_mp4(
    path: Path, frames: list[np.ndarray], fps: int = 10, *, pts_ms: list[int] | None = None,
    rotation: int = 0, pix_fmt: str = "yuv420p", **options: str,
) -> Path:  # fmt: skip
    """H.264 through PyAV alone; ``rotation`` (clockwise, to show upright) as a display matrix."""
    h, w = frames[0].shape[:2]
    tb = Fraction(1, 1000) if pts_ms is not None else Fraction(1, fps)
    with av.open(str(path), "w", format="mp4") as c:
        v = c.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt, v.options = w, h, pix_fmt, options
        v.time_base = v.codec_context.time_base = tb
        if rotation:
            v.set_display_rotation(-rotation % 360)  # the matrix turns counter-clockwise
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts, frame.time_base = (pts_ms[i] if pts_ms is not None else i), tb
            c.mux(v.encode(frame))
        c.mux(v.encode(None))
    return path


def _import(tmp_path: Path, names: list[str], limits: MediaLimits = MediaLimits()):
    items = tmp_path / "items.csv"
    items.write_text("item_id,title,media\n" + "".join(f"{n},{n},{n}.mp4\n" for n in names))
    log = tmp_path / "log.csv"
    log.write_text("user_id,item_id,timestamp\n" + "".join(f"u,{n},{k}\n" for k, n in enumerate(names)))
    from generec.workspace import Workspace

    ws = Workspace.open(tmp_path / "ws", create=True)
    import_data(ws, items, log, tmp_path / "media", limits=limits)
    return ws


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture
def media(tmp_path: Path) -> Path:
    (tmp_path / "media").mkdir()
    return tmp_path / "media"


def test_rotated_phone_clip_is_imported_upright(tmp_path: Path, media: Path) -> None:
    import cv2

    upright = cv2.resize(photo("astronaut"), (96, 128), interpolation=cv2.INTER_AREA)  # portrait, as seen
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # as the sensor wrote it: 128 x 96, sideways
    path = _plain_mp4(media / "phone.mp4", [stored] * 10, rotation=90)
    assert probe(path).rotation == 90 and (probe(path).width, probe(path).height) == (128, 96)

    ws = _import(tmp_path, ["phone"])
    item = ws.items.get("phone")
    # the stored size is the shown one
    assert (item.media.width, item.media.height) == (96, 128)
    cover = load_image(ws.media_path(item.cover.hash, item.cover.mime))
    assert cover.shape == upright.shape
    assert np.abs(cover.astype(int) - upright.astype(int)).mean() < 8  # the upright picture, not sideways
    # features of the cover and of sampled frames are those of the upright picture
    encoder, cache = get_image_encoder(), FeatureCache.for_workspace(ws)
    want, sideways = encoder.encode([upright, stored]).features
    got = cover_features(ws, [item], encoder, cache).features[0]
    assert _cos(got, want) > 0.95 and _cos(got, want) > _cos(got, sideways) + 0.05
    frames = frame_features(ws, item, 2, encoder, cache).features
    assert all(_cos(f, want) > 0.95 and _cos(f, want) > _cos(f, sideways) + 0.05 for f in frames)
    keyframes = analyse(ws.media_path(item.media.hash, item.media.mime), encoder).features
    assert all(_cos(f, want) > 0.95 and _cos(f, want) > _cos(f, sideways) + 0.05 for f in keyframes)
    ws.close()


def test_odd_sized_and_variable_rate_videos_are_imported(tmp_path: Path, media: Path) -> None:
    odd = [np.full((127, 223, 3), (40 + 8 * i, 120, 200 - 8 * i), np.uint8) for i in range(12)]
    _plain_mp4(media / "odd.mp4", odd, pix_fmt="yuv444p")
    vfr_ms = [0, 40, 80, 200, 233, 400, 700, 720, 740, 1000, 1010, 1300]
    _plain_mp4(media / "vfr.mp4", [np.full((48, 64, 3), 10 * i, np.uint8) for i in range(len(vfr_ms))], pts_ms=vfr_ms)
    ws = _import(tmp_path, ["odd", "vfr"])
    odd_item, vfr_item = ws.items.get("odd"), ws.items.get("vfr")
    assert (odd_item.media.width, odd_item.media.height) == (223, 127)
    cover = load_image(ws.media_path(odd_item.cover.hash, odd_item.cover.mime))
    assert cover.shape == (127, 223, 3) and np.abs(cover.astype(int) - odd[0].astype(int)).mean() < 4
    assert 1.3 < vfr_item.media.duration <= 1.4  # the last frame at 1.3 s, plus its own length
    ws.close()


def test_frames_over_the_pixel_limit_are_refused_naming_the_limit(tmp_path: Path, media: Path) -> None:
    _plain_mp4(media / "big.mp4", [np.full((300, 400, 3), 90, np.uint8)] * 3, preset="ultrafast")
    from generec.workspace import Workspace

    Workspace.open(tmp_path / "ws", create=True).close()
    before = snapshot(tmp_path / "ws")
    with pytest.raises(InputError, match=r"big\.mp4.*max_pixels = 100000, found 400x300"):
        _import(tmp_path, ["big"], MediaLimits(max_pixels=100_000))
    assert snapshot(tmp_path / "ws") == before


def test_frames_over_the_pixel_limit_are_downscaled_when_the_limits_say_so(tmp_path: Path, media: Path) -> None:
    frames = [np.full((300, 400, 3), (30 * i, 90, 160), np.uint8) for i in range(6)]
    _plain_mp4(media / "big.mp4", frames, rotation=90, preset="ultrafast")
    ws = _import(tmp_path, ["big"], MediaLimits(max_pixels=100_000, oversize="downscale"))
    item = ws.items.get("big")
    stored = probe(ws.media_path(item.media.hash, item.media.mime))
    # the largest even size of the same aspect within the limit: 400 x 300 -> 364 x 272
    assert (stored.width, stored.height, stored.rotation, stored.n_frames) == (364, 272, 90, 6)
    assert (item.media.width, item.media.height) == (272, 364)  # as shown, upright
    assert load_image(ws.media_path(item.cover.hash, item.cover.mime)).shape == (364, 272, 3)
    assert stored.duration == pytest.approx(0.6)
    ws.close()


def test_nothing_is_downscaled_before_every_problem_is_reported_per_row(tmp_path: Path, media: Path) -> None:
    # max_pixels = 2 cannot be downscaled to: downscale raises InputError (not a MediaError).
    _plain_mp4(media / "big.mp4", [np.full((300, 400, 3), 90, np.uint8)] * 3, preset="ultrafast")
    from generec.workspace import Workspace

    Workspace.open(tmp_path / "ws", create=True).close()
    before = snapshot(tmp_path / "ws")
    limits = MediaLimits(max_pixels=2, oversize="downscale")
    (tmp_path / "items.csv").write_text("item_id,title,media\nbig,big,big.mp4\n")
    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp\nu,big,1\nu,big,now\n")
    with Workspace.open(tmp_path / "ws") as ws, pytest.raises(InputError) as err:
        import_data(ws, tmp_path / "items.csv", tmp_path / "log.csv", media, limits=limits)
    # a table problem: reported, and the oversized video left alone (no transcode before it)
    assert "log.csv line 3: timestamp 'now'" in str(err.value) and "downscale" not in str(err.value)
    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp\nu,big,1\n")
    with Workspace.open(tmp_path / "ws") as ws, pytest.raises(InputError) as err:
        import_data(ws, tmp_path / "items.csv", tmp_path / "log.csv", media, limits=limits)
    assert "items.csv line 2: " in str(err.value) and "max_pixels of at least 4" in str(err.value)
    assert "nothing was imported" in str(err.value)
    assert snapshot(tmp_path / "ws") == before
