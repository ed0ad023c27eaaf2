"""Each op on footage the benchmark did not make: an AVI (MPEG-4 Part 2, no audio) and a phone-style
portrait MP4 stored sideways with rotation metadata and sound, imported through the real importer."""

from pathlib import Path

import av
import numpy as np
import pytest

from generec.store.importer import import_data
from generec.media.video import decode_frames, probe, read_audio
from generec.pipeline import EditConfig, edit
from generec.workspace import Workspace
from helpers import photo, shot_frames, shots_video


def _avi(path: Path, shots: list[np.ndarray], fps: int = 12, seconds: float = 2.0) -> Path:
    with av.open(str(path), "w", format="avi") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for k, image in enumerate(shots):
            for frame in shot_frames(image, int(seconds * fps), 160, 120, seed=k):
                out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode(None))
    return path


@pytest.fixture
def foreign(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    _avi(media / "home.avi", [photo("coffee"), photo("chelsea")])
    sideways = [np.ascontiguousarray(np.rot90(photo(n), 1)) for n in ("astronaut", "chelsea")]
    shots_video(media / "phone.mp4", sideways, seconds=2.0, width=96, height=128, audio=True, rotation=90)
    for k in range(3):
        shots_video(media / f"cat{k}.mp4", [photo("chelsea")[:, ::-1] if k % 2 else photo("chelsea")], seconds=1.0)
    (tmp_path / "items.csv").write_text(
        "item_id,title,tags,media\n" "home,home video,food;animal,home.avi\n" "phone,phone clip,person;animal,phone.mp4\n"
        + "".join(f"cat{k},cat {k},animal,cat{k}.mp4\n" for k in range(3))
    )
    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp,event\n" + "".join(f"me,cat{k},{10 + k},click\n" for k in range(3)))
    ws = Workspace.open(tmp_path / "ws", create=True)
    import_data(ws, tmp_path / "items.csv", tmp_path / "log.csv", media)
    yield ws
    ws.close()


def test_every_op_on_an_avi_without_audio(foreign):
    assert foreign.items.get("home").media.mime == "video/x-msvideo"
    cfg = EditConfig(preference="history")
    cover = edit(foreign, "cover", "me", "home", config=cfg)
    assert cover.params["t"] >= 2.0  # the cat shot, for a user who clicked cats
    clip = edit(foreign, "clip", "me", "home", instruction="under 1.5 seconds", config=cfg)
    info = probe(clip.media_path)
    assert info.codec == "h264" and info.duration == pytest.approx(1.5, abs=0.1) and not info.has_audio
    styled = edit(foreign, "style", "me", "home", instruction="make it a cartoon", config=cfg)
    assert styled.params["style"] == "cartoon" and len(decode_frames(styled.media_path).images) == 48


def test_every_op_on_a_rotated_phone_clip_with_sound(foreign):
    cfg = EditConfig(preference="history")
    src = probe(foreign.media_path(foreign.items.get("phone").media.hash, "video/mp4"))
    assert src.rotation == 90 and src.has_audio
    cover = edit(foreign, "cover", "me", "phone", config=cfg)
    assert cover.params["t"] >= 2.0  # the cat, recognised upright
    from generec.media.image import load_image

    assert load_image(cover.cover_path).shape[:2] == (96, 128)  # upright: wider than tall after the turn
    clip = edit(foreign, "clip", "me", "phone", config=cfg)
    info = probe(clip.media_path)
    assert info.rotation == 90 and info.has_audio and read_audio(clip.media_path).duration > 3.5
    styled = edit(foreign, "style", "me", "phone", instruction="black and white please", config=cfg)
    assert probe(styled.media_path).rotation == 90 and probe(styled.media_path).has_audio


def _surround_vfr_odd(path: Path, shots: list[np.ndarray], seconds: float = 2.0) -> tuple[Path, list[float]]:
    """Plain PyAV: 223 x 127 (odd, yuv444p), frames at irregular times (a variable frame rate,
    gaps of 50-150 ms), and 5.1 AAC at 44.1 kHz."""
    from fractions import Fraction

    rng = np.random.default_rng(0)
    times: list[float] = []
    t = 0.0
    while t < seconds * len(shots):
        times.append(t)
        t = round(t + float(rng.uniform(0.05, 0.15)), 3)
    end = times[-1] + 0.1
    tb, rate = Fraction(1, 1000), 44100
    with av.open(str(path), "w", format="mp4") as out:
        v = out.add_stream("libx264", rate=10)
        v.width, v.height, v.pix_fmt = 223, 127, "yuv444p"
        v.time_base = v.codec_context.time_base = tb
        a = out.add_stream("aac", rate=rate, layout="5.1")
        frames = [f for k, image in enumerate(shots) for f in shot_frames(image, len(times), 223, 127, seed=k)]
        for i, t in enumerate(times):
            image = frames[min(len(frames) - 1, int(t / seconds) * len(times) + i)]
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = round(t * 1000), tb
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(end * rate)) / rate)).astype(np.float32)
        samples = np.tile(tone, (6, 1))
        for s in range(0, samples.shape[1], 1024):
            chunk = np.ascontiguousarray(samples[:, s : s + 1024])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="5.1")
            frame.sample_rate, frame.pts, frame.time_base = rate, s, Fraction(1, rate)
            out.mux(a.encode(frame))
        out.mux(a.encode(None))
    return path, times


def test_every_op_on_odd_sized_variable_rate_footage_with_surround_sound(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    _, times = _surround_vfr_odd(media / "party.mp4", [photo("coffee"), photo("chelsea")])
    for k in range(3):
        shots_video(media / f"cat{k}.mp4", [photo("chelsea")[:, ::-1] if k % 2 else photo("chelsea")], seconds=1.0)
    (tmp_path / "items.csv").write_text(
        "item_id,title,tags,media\nparty,party,food;animal,party.mp4\n"
        + "".join(f"cat{k},cat {k},animal,cat{k}.mp4\n" for k in range(3))
    )
    clicks = "".join(f"me,cat{k},{10 + k},click\n" for k in range(3))
    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp,event\n" + clicks)
    ws = Workspace.open(tmp_path / "ws", create=True)
    import_data(ws, tmp_path / "items.csv", tmp_path / "log.csv", media)
    src = ws.items.get("party").media
    assert (src.width, src.height, src.has_audio) == (223, 127, True)
    assert times[-1] < src.duration <= times[-1] + 0.15
    cfg = EditConfig(preference="history")

    cover = edit(ws, "cover", "me", "party", config=cfg)
    assert cover.params["t"] >= 2.0  # the cat shot, for a user who clicked cats
    clip = edit(ws, "clip", "me", "party", instruction="under 1.5 seconds", config=cfg)
    info = probe(clip.media_path)
    assert (info.width, info.height) == (222, 126)  # yuv420p: the odd row and column dropped
    start, end = clip.params["start"], clip.params["end"]
    kept = [t for t in times if start - 1e-6 <= t < end - 1e-6]
    assert decode_frames(clip.media_path).timestamps == pytest.approx([t - kept[0] for t in kept], abs=2e-3)
    assert info.duration == pytest.approx(end - kept[0], abs=2e-3)
    track = read_audio(clip.media_path)
    assert (track.layout, track.sample_rate) == ("5.1", 44100)
    assert track.duration == pytest.approx(info.duration, abs=0.03)

    styled = edit(ws, "style", "me", "party", instruction="make it a cartoon", config=cfg)
    out = probe(styled.media_path)
    assert decode_frames(styled.media_path).timestamps == pytest.approx(times, abs=2e-3)
    assert out.duration == pytest.approx(src.duration, abs=2e-3)
    track = read_audio(styled.media_path)
    assert (track.layout, track.sample_rate) == ("5.1", 44100)
    assert track.duration == pytest.approx(out.duration, abs=0.03)
    ws.close()


def test_every_op_on_a_video_admitted_under_raised_limits(tmp_path):
    # `data import --max-duration 700`: a 610 s video (1 fps, 128 x 96) is over the default 600 s.
    from generec.config import MediaLimits

    media = tmp_path / "media"
    media.mkdir()
    shots_video(media / "talk.mp4", [photo("coffee"), photo("chelsea")], seconds=305, fps=1, crossfade=0)
    for k in range(3):
        shots_video(media / f"cat{k}.mp4", [photo("chelsea")[:, ::-1] if k % 2 else photo("chelsea")], seconds=1.0)
    (tmp_path / "items.csv").write_text(
        "item_id,title,tags,media\ntalk,long talk,food;animal,talk.mp4\n"
        + "".join(f"cat{k},cat {k},animal,cat{k}.mp4\n" for k in range(3))
    )
    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp,event\n" + "".join(f"me,cat{k},{10 + k},click\n" for k in range(3)))
    ws = Workspace.open(tmp_path / "ws", create=True)
    import_data(ws, tmp_path / "items.csv", tmp_path / "log.csv", media, limits=MediaLimits(max_duration_s=700))
    assert ws.items.get("talk").media.duration == pytest.approx(610, abs=1)
    cfg = EditConfig(preference="history")
    cover = edit(ws, "cover", "me", "talk", config=cfg)
    assert cover.params["t"] >= 305  # the cat shot
    clip = edit(ws, "clip", "me", "talk", instruction="under 20 seconds", config=cfg)
    assert probe(clip.media_path).duration <= 20 + 1e-6
    styled = edit(ws, "style", "me", "talk", instruction="make it a cartoon", config=cfg)
    assert probe(styled.media_path, MediaLimits(max_duration_s=700)).duration == pytest.approx(610, abs=1)
    ws.close()
