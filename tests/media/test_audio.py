"""Audio: decoding the first audio stream."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from generec.media.audio import AudioTrack, read_audio
from generec.media.probe import probe
from media_files import av_video, dominant_hz

def test_audio_round_trip(with_audio: Path) -> None:
    info = probe(with_audio)
    assert info.has_audio and info.n_frames == 40
    track = read_audio(with_audio)
    assert track is not None
    assert track.samples.dtype == np.float32 and track.samples.shape[0] == 1
    assert track.sample_rate == 44100
    assert track.duration == pytest.approx(4.0, abs=0.1)
    assert dominant_hz(track) == pytest.approx(440, abs=5)


def test_read_audio_is_none_without_audio(bars50: Path) -> None:
    assert read_audio(bars50) is None


@pytest.mark.parametrize(("layout", "rate"), [("mono", 44100), ("stereo", 48000), ("5.1", 48000), ("5.1", 44100)])
def test_read_audio_keeps_the_layout_and_rate_of_plain_pyav_files(tmp_path: Path, layout: str, rate: int) -> None:
    track = read_audio(av_video(tmp_path / "a.mp4", n=20, audio_layout=layout, audio_rate=rate))
    assert track is not None
    assert (track.layout, track.channels, track.sample_rate) == (layout, av.AudioLayout(layout).nb_channels, rate)
    assert track.samples.shape[0] == track.channels and track.duration == pytest.approx(2.0, abs=0.05)
    assert dominant_hz(track) == pytest.approx(440, abs=5)


def test_audio_track_without_a_layout_takes_the_default_for_its_channels() -> None:
    assert AudioTrack(np.zeros((6, 10), np.float32), 48000).layout == "5.1"
    assert AudioTrack(np.zeros((1, 10), np.float32), 48000).layout == "mono"
