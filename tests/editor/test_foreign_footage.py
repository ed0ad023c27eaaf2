"""Each op on footage the benchmark did not make: an AVI (MPEG-4 Part 2, no audio) and a phone-style
portrait MP4 stored sideways with rotation metadata and sound, imported through the real importer."""

from pathlib import Path

import av
import numpy as np
import pytest

from generec.datasets.importer import import_data
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
