"""Module-scoped video fixtures shared by the media tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from media_files import sine, write_bars

@pytest.fixture(scope="module")
def bars50(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """50 frames at 25 fps (2 s), frame i showing index i."""
    path = tmp_path_factory.mktemp("v") / "bars50.mp4"
    write_bars(path, 50, fps=25)
    return path


@pytest.fixture(scope="module")
def long_gop10(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 frames at 10 fps (20 s) with a keyframe every 10 frames."""
    path = tmp_path_factory.mktemp("v") / "long.mp4"
    write_bars(path, 200, fps=10, gop=10)
    return path


@pytest.fixture(scope="module")
def with_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s at 10 fps with a 440 Hz mono AAC track."""
    path = tmp_path_factory.mktemp("v") / "audio.mp4"
    write_bars(path, 40, fps=10, audio=sine(4.0))
    return path
