import shutil

import numpy as np
import pytest

from generec.evaluation.fidelity import CASES, FACE_BOXES, FidelityEvalConfig, _pan, red_team
from generec.media.decode import sample_frames
from generec.workspace import Workspace


def _marked(h: int, w: int, box: tuple[int, int, int, int]) -> np.ndarray:
    image = np.full((h, w, 3), 40, np.uint8)
    x, y, bw, bh = box
    image[y : y + bh, x : x + bw] = 255
    return image


@pytest.mark.parametrize("shape, box", [((342, 548), (213, 82, 50, 54)), ((600, 512), (168, 120, 188, 215)), ((512, 512), (173, 82, 102, 98))])
def test_a_pan_that_keeps_a_box_shows_it_whole_in_every_frame(shape, box):
    image = _marked(*shape, box)
    for seed in range(8):
        for zoom in (0.7, 1.0):
            frames = _pan(image, 12, 128, 224, np.random.default_rng(seed), zoom=zoom, keep=box)
            for f in frames:
                bright = f[..., 0] > 200
                assert bright.any(), "the box left the window"
                ys, xs = np.nonzero(bright)
                # whole: the box may touch the border, but no side of it is cut off (its shape holds)
                seen_w, seen_h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
                assert abs(seen_w / seen_h - box[2] / box[3]) < 0.1 * box[2] / box[3]


def test_a_pan_without_a_box_draws_what_it_drew_before():
    image = _marked(342, 548, (213, 82, 50, 54))
    kept = _pan(image, 6, 128, 224, np.random.default_rng(3), zoom=0.8, keep=None)
    rng = np.random.default_rng(3)
    H, W = image.shape[:2]
    ch = min(H, W * 224 / 128) * 0.8
    cw = ch * 128 / 224
    x0, _ = rng.uniform(0, W - cw, 2)
    y0, _ = rng.uniform(0, H - ch, 2)
    first = image[int(y0) : int(y0 + ch), int(x0) : int(x0 + cw)]
    import cv2

    assert np.array_equal(kept[0], cv2.resize(first, (128, 224), interpolation=cv2.INTER_AREA))


@pytest.mark.slow
def test_the_red_team_set_has_every_case_and_its_face_items_show_a_face(tiny_bench, tmp_path):
    from generec.datasets.photos import load_photos
    from generec.fidelity.privacy import detect_faces

    root = tmp_path / "ws"
    shutil.copytree(tiny_bench[0], root)
    ws = Workspace.open(root)
    try:
        (tmp_path / "set").mkdir()
        cases = red_team(ws, FidelityEvalConfig(per_case=3), tmp_path / "set")
        assert {c for c, _ in cases} == set(CASES)
        faces = [cand for c, cand in cases if c == "face"]
        assert len(faces) == 3 and {p.name for p in load_photos()} >= set(FACE_BOXES)
        for cand in faces:  # every frame shows its photo's face whole: the detector finds one in most
            frames = sample_frames(cand.video, 6).images
            assert sum(bool(detect_faces(f)) for f in frames) >= 4
    finally:
        ws.close()
