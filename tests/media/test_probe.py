"""probe: what a file is, and which files are refused."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from generec.config import MediaLimits
from generec.errors import MediaError
from generec.media.decode import DecodePass, decode_frames
from generec.media.probe import probe, read_rotation
from media_files import (
    BAD_FILES,
    VFR_MS,
    H,
    W,
    _name,
    av_matroska,
    av_video,
    corrupt_packet,
    make_one_frame,
    shorten_edit_list,
    write_moov_at_end,
)

@pytest.mark.parametrize(("make", "expect"), [*BAD_FILES, (make_one_frame, "at least 2")], ids=_name)
def test_bad_files_raise_media_error_naming_the_file(
    tmp_path: Path, make: object, expect: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(MediaError, match=expect) as err:
        probe(path)
    assert path.name in str(err.value)


def test_moov_at_end_is_fine_when_complete(tmp_path: Path) -> None:
    write_moov_at_end(tmp_path / "whole.mp4", 30)
    assert probe(tmp_path / "whole.mp4").n_frames == 30


def test_one_frame_passes_when_limits_allow(tmp_path: Path) -> None:
    path = make_one_frame(tmp_path)
    assert probe(path, MediaLimits(min_frames=1)).n_frames == 1


@pytest.mark.parametrize(
    ("limits", "expect"),
    [
        (MediaLimits(max_duration_s=1.5), "at most max_duration_s = 1.5 s, found 2.000 s"),
        (MediaLimits(max_pixels=W * H - 1), f"found {W}x{H}"),
        (MediaLimits(max_file_bytes=100), "at most 100 bytes"),
        (MediaLimits(min_frames=51), "at least 51 decodable frames, found 50"),
    ],
    ids=["duration", "pixels", "file_size", "min_frames"],
)
def test_limits_raise_media_error(bars50: Path, limits: MediaLimits, expect: str) -> None:
    with pytest.raises(MediaError, match=expect) as err:
        probe(bars50, limits)
    assert bars50.name in str(err.value)


# --- footage from other writers (plain PyAV) --------------------------------------------------


@pytest.mark.parametrize(("cut_s", "frames"), [(0.1, 29), (0.5, 25)], ids=["one_frame", "half_second"])
def test_edit_listed_file_that_decodes_fewer_frames_than_its_header_is_accepted(
    tmp_path: Path, cut_s: float, frames: int
) -> None:
    path = shorten_edit_list(av_video(tmp_path / "edited.mp4", n=30, fps=10), cut_s)
    with av.open(str(path)) as c:
        assert c.streams.video[0].frames == 30  # the header still counts every sample
    info = probe(path)
    assert (info.n_frames, info.duration) == (frames, pytest.approx(frames / 10))
    assert len(decode_frames(path).images) == frames
    video = DecodePass(path)
    assert sum(1 for _ in video) == frames and (video.n_frames, video.duration) == (frames, pytest.approx(frames / 10))


def _truncated_plain(tmp: Path, faststart: bool) -> Path:
    path = av_video(tmp / f"cut_off_{faststart}.mp4", n=40, g="10")
    if faststart:  # index first: move the moov box before the data, as phones and web uploads do
        with av.open(str(path)) as src, av.open(str(tmp / "fs.mp4"), "w", options={"movflags": "+faststart"}) as dst:
            out = dst.add_stream_from_template(src.streams.video[0])
            for pkt in src.demux(src.streams.video[0]):
                if pkt.size:
                    pkt.stream = out
                    dst.mux(pkt)
        (tmp / "fs.mp4").replace(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    return path


@pytest.mark.parametrize("faststart", [False, True], ids=["moov_at_end", "faststart"])
def test_file_with_a_cut_off_tail_is_refused_naming_it(tmp_path: Path, faststart: bool) -> None:
    path = _truncated_plain(tmp_path, faststart)
    with pytest.raises(MediaError, match="truncated") as err:
        probe(path)
    assert path.name in str(err.value)


@pytest.mark.parametrize(("name", "codec", "keep"), [("v.mkv", "libx264", 0.6), ("w.webm", "libvpx-vp9", 0.5)])
def test_matroska_and_webm_with_a_cut_off_tail_are_refused_naming_them(
    tmp_path: Path, name: str, codec: str, keep: float
) -> None:
    path = av_matroska(tmp_path / name, codec, n=50, fps=25)
    whole = probe(path)
    assert (whole.n_frames, whole.duration) == (50, pytest.approx(2.0))
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])  # the Segment still declares 2.0 s
    with pytest.raises(MediaError, match=r"expected 2\.000 s of video .*\(the file is truncated\)") as err:
        probe(path)
    assert path.name in str(err.value)
    with pytest.raises(MediaError, match="truncated"):
        for _ in DecodePass(path):
            pass


def test_file_with_an_undecodable_packet_is_refused_naming_it(tmp_path: Path) -> None:
    path = av_video(tmp_path / "damaged.mp4", n=60, g="10")  # six GOPs; the damage is in the second
    probe(path)
    corrupt_packet(path, 15)
    with pytest.raises(MediaError, match="decod") as err:
        probe(path)
    assert path.name in str(err.value)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_of_a_display_matrix_written_by_plain_pyav_is_read(tmp_path: Path, rotation: int) -> None:
    info = probe(av_video(tmp_path / "phone.mp4", n=3, rotation=rotation))
    assert (info.rotation, info.width, info.height) == (rotation, W, H)
    assert (info.display_width, info.display_height) == ((H, W) if rotation % 180 else (W, H))


def test_variable_frame_rate_is_measured_from_timestamps(tmp_path: Path) -> None:
    info = probe(av_video(tmp_path / "vfr.mp4", n=len(VFR_MS), pts_ms=VFR_MS))
    assert info.n_frames == len(VFR_MS)
    assert VFR_MS[-1] / 1000 < info.duration <= VFR_MS[-1] / 1000 + 0.1  # plus the last frame's own length


def test_odd_frame_size_is_probed(tmp_path: Path) -> None:
    info = probe(av_video(tmp_path / "odd.mp4", n=10, size=(223, 127), pix_fmt="yuv444p"))
    assert (info.width, info.height, info.n_frames) == (223, 127, 10)


def test_frames_over_the_pixel_limit_are_refused_naming_the_limit(tmp_path: Path) -> None:
    path = av_video(tmp_path / "huge.mp4", n=2, size=(4000, 3000), preset="ultrafast")
    with pytest.raises(MediaError, match=r"max_pixels = 8294400, found 4000x3000") as err:
        probe(path)  # the default limit: 3840 x 2160
    assert path.name in str(err.value)
    assert probe(path, MediaLimits(max_pixels=4000 * 3000, min_frames=1)).width == 4000


@pytest.mark.parametrize("rotation", [0, 90, 270])
def test_read_rotation_agrees_with_probe_from_the_first_frame(tmp_path: Path, rotation: int) -> None:
    path = av_video(tmp_path / "turned.mp4", n=5, rotation=rotation)
    assert read_rotation(path) == probe(path).rotation == rotation
