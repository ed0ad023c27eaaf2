"""`bench_editor` with several encoder backends side by side, on the tiny benchmark."""

from __future__ import annotations

import pytest

from generec.encoders.image import ImageEncoderConfig, get_image_encoder
from generec.errors import InputError
from generec.evaluation.editor_bench import bench_editor
from generec.workspace import Workspace

pytestmark = pytest.mark.slow


def test_backends_side_by_side_with_one_decode_baseline(tiny_bench):
    ws = Workspace.open(tiny_bench[0])  # read only: the bench writes its caches to temporary directories
    try:
        encoders = [get_image_encoder(ImageEncoderConfig(backend=b)) for b in ("torch", "onnx")]
        b = bench_editor(ws, encoders, n_videos=3, n_users=2, repeats=1)
    finally:
        ws.close()
    assert [r.backend for r in b.backends] == ["torch", "onnx"]
    torch_row, onnx_row = b.backends
    assert torch_row.version == onnx_row.version  # equal features share a version
    assert torch_row.keyframes == onnx_row.keyframes > 0
    for r in b.backends:
        assert r.select_cold_s > 0 and r.select_cold_serial_s > 0 and r.select_warm_s > 0
        assert r.ratio_cold == pytest.approx(b.decode_s / r.select_cold_s)
        assert r.ratio_cold_serial == pytest.approx(b.decode_s / r.select_cold_serial_s)
        assert r.covers_per_s_warm > r.covers_per_s_cold  # cached keyframes: scoring only
    assert b.ratio_cold == torch_row.ratio_cold and b.to_dict()["backends"][1]["backend"] == "onnx"


def test_no_encoder_is_refused(tiny_bench):
    ws = Workspace.open(tiny_bench[0])
    try:
        with pytest.raises(InputError, match="at least one image encoder"):
            bench_editor(ws, [], n_videos=1, n_users=1, repeats=1)
    finally:
        ws.close()
