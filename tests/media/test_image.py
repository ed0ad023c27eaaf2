"""Image I/O on tiny real files written in tmp_path."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generec.config import MediaLimits
from generec.errors import InputError, MediaError
from generec.media.image import ImageInfo, encode_image, load_image, probe_image, save_image

W, H = 40, 24


def gradient(h: int = H, w: int = W) -> np.ndarray:
    y = np.linspace(0, 255, h)[:, None]
    x = np.linspace(0, 255, w)[None, :]
    return np.stack(np.broadcast_arrays(x, y, (x + y) / 2), axis=-1).astype(np.uint8)


def test_png_round_trip_is_exact(tmp_path: Path) -> None:
    img = gradient()
    path = tmp_path / "a.png"
    save_image(path, img)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]  # no temp file left
    assert np.array_equal(load_image(path), img)
    info = probe_image(path)
    assert info == ImageInfo(
        path=str(path), width=W, height=H, mode="RGB", format="PNG",
        size_bytes=path.stat().st_size,
    )


@pytest.mark.parametrize("name", ["a.jpg", "a.jpeg", "A.JPG"])
def test_jpeg_round_trip_is_close(tmp_path: Path, name: str) -> None:
    img = gradient()
    path = tmp_path / name
    save_image(path, img)
    assert probe_image(path).format == "JPEG"
    got = load_image(path)
    assert got.shape == (H, W, 3) and got.dtype == np.uint8
    assert np.abs(got.astype(int) - img.astype(int)).mean() < 3


def test_explicit_format_overrides_extension(tmp_path: Path) -> None:
    path = tmp_path / "frame.bin"
    save_image(path, gradient(), format="PNG")
    assert probe_image(path).format == "PNG"


def test_save_accepts_gray_and_rgba(tmp_path: Path) -> None:
    gray = gradient()[:, :, 0]
    save_image(tmp_path / "g.png", gray)
    assert probe_image(tmp_path / "g.png").mode == "L"
    assert np.array_equal(load_image(tmp_path / "g.png"), np.repeat(gray[:, :, None], 3, axis=2))
    rgba = np.dstack([gradient(), np.full((H, W), 128, np.uint8)])
    save_image(tmp_path / "rgba.jpg", rgba)  # JPEG has no alpha: dropped
    assert probe_image(tmp_path / "rgba.jpg").mode == "RGB"


def test_save_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="extension"):
        save_image(tmp_path / "a.unknown", gradient())
    with pytest.raises(InputError, match="uint8"):
        save_image(tmp_path / "a.png", gradient().astype(np.float32))
    with pytest.raises(InputError, match="a.png"):
        save_image(tmp_path / "a.png", np.zeros((4, 4, 2), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_load_converts_modes_to_rgb(tmp_path: Path) -> None:
    rgb = gradient()
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "p.png")
    Image.fromarray(np.dstack([rgb, np.full((H, W), 7, np.uint8)])).save(tmp_path / "rgba.png")
    Image.fromarray(rgb[:, :, 0]).save(tmp_path / "l.png")
    sixteen = rgb[:, :, 0].astype(np.uint16) * 257
    Image.fromarray(sixteen).save(tmp_path / "i16.png")

    palette = load_image(tmp_path / "p.png")
    assert palette.shape == (H, W, 3) and np.abs(palette.astype(int) - rgb).mean() < 8
    assert np.array_equal(load_image(tmp_path / "rgba.png"), rgb)
    gray = np.repeat(rgb[:, :, :1], 3, axis=2)
    assert np.array_equal(load_image(tmp_path / "l.png"), gray)
    assert np.array_equal(load_image(tmp_path / "i16.png"), gray)


def test_load_applies_exif_orientation(tmp_path: Path) -> None:
    stored = np.zeros((H, W, 3), np.uint8)
    stored[:6, :6] = 255  # marker at top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise
    path = tmp_path / "phone.jpg"
    Image.fromarray(stored).save(path, exif=exif, quality=95)

    info = probe_image(path)
    assert (info.width, info.height) == (W, H)  # as stored
    upright = load_image(path)
    assert upright.shape == (W, H, 3)
    assert upright[:6, -6:].mean() > 200 and upright[:6, :6].mean() < 50  # now top-right


def test_encode_image() -> None:
    img = gradient()
    png = encode_image(img)
    assert png.startswith(b"\x89PNG")
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), img)
    jpeg = encode_image(img, format="JPEG")
    assert jpeg.startswith(b"\xff\xd8")
    with pytest.raises(InputError):
        encode_image(img, format="NOPE")


# --- bad media ------------------------------------------------------------------------------


def _half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def make_missing(tmp: Path) -> Path:
    return tmp / "missing.png"


def make_zero_bytes(tmp: Path) -> Path:
    (p := tmp / "zero.png").write_bytes(b"")
    return p


def make_text(tmp: Path) -> Path:
    (p := tmp / "notes.png").write_text("not an image\n" * 20)
    return p


def make_truncated_png(tmp: Path) -> Path:
    p = tmp / "half.png"
    Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)).save(p)
    _half(p)
    return p


def make_truncated_jpeg(tmp: Path) -> Path:
    p = tmp / "half.jpg"
    Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)).save(p)
    _half(p)
    return p


def make_directory(tmp: Path) -> Path:
    (p := tmp / "folder.png").mkdir()
    return p


@pytest.mark.parametrize(
    ("make", "expect"),
    [
        (make_missing, "nothing at that path"),
        (make_zero_bytes, "0-byte"),
        (make_text, "cannot identify"),
        (make_truncated_png, "corrupt|truncated"),
        (make_truncated_jpeg, "truncated"),
        (make_directory, "directory"),
    ],
    ids=lambda x: getattr(x, "__name__", x).removeprefix("make_"),
)
def test_bad_files_raise_media_error_naming_the_file(
    tmp_path: Path, make: object, expect: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(MediaError, match=expect) as err:
        probe_image(path)
    assert path.name in str(err.value)


def test_load_rejects_non_images(tmp_path: Path) -> None:
    path = make_text(tmp_path)
    with pytest.raises(MediaError, match=path.name):
        load_image(path)


@pytest.mark.parametrize(
    ("limits", "expect"),
    [
        (MediaLimits(max_pixels=W * H - 1), f"found {W}x{H}"),
        (MediaLimits(max_file_bytes=10), "at most 10 bytes"),
    ],
    ids=["pixels", "file_size"],
)
def test_limits_raise_media_error(tmp_path: Path, limits: MediaLimits, expect: str) -> None:
    path = tmp_path / "a.png"
    save_image(path, gradient())
    with pytest.raises(MediaError, match=expect) as err:
        probe_image(path, limits)
    assert path.name in str(err.value)
