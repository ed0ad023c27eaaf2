"""Image I/O through Pillow. Arrays are RGB ``np.uint8`` of shape (H, W, 3)."""

from __future__ import annotations

import io
import os
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from generec.config import MediaLimits
from generec.errors import InputError, MediaError

PathLike = str | os.PathLike[str]

_JPEG_QUALITY = 92


@dataclass(frozen=True)
class ImageInfo:
    """What :func:`probe_image` found. ``width``/``height`` are the stored size, before the
    EXIF orientation that :func:`load_image` applies."""

    path: str
    width: int
    height: int
    mode: str
    format: str
    size_bytes: int


def _check_file(path: PathLike, limits: MediaLimits | None) -> tuple[Path, int]:
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise MediaError(f"{p}: expected an image file, found nothing at that path") from None
    except OSError as e:
        raise MediaError(f"{p}: expected a readable image file, found an error: {e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise MediaError(f"{p}: expected an image file, found a directory or special file")
    if st.st_size == 0:
        raise MediaError(f"{p}: expected an image file, found an empty (0-byte) file")
    if limits is not None and st.st_size > limits.max_file_bytes:
        raise MediaError(
            f"{p}: expected at most {limits.max_file_bytes} bytes, found {st.st_size} bytes"
        )
    return p, st.st_size


def _open(p: Path) -> Image.Image:
    try:
        return Image.open(p)
    except UnidentifiedImageError:
        raise MediaError(f"{p}: expected an image, found data Pillow cannot identify") from None
    except Image.DecompressionBombError as e:
        raise MediaError(f"{p}: expected an image of a sane size, found {e}") from None
    except OSError as e:
        raise MediaError(f"{p}: expected a readable image, found an error: {e}") from None


def probe_image(path: PathLike, limits: MediaLimits | None = None) -> ImageInfo:
    """Check that ``path`` is a complete image within ``limits`` (default
    :class:`MediaLimits`) and describe it. The whole image is decoded, so truncation shows."""
    limits = MediaLimits() if limits is None else limits
    p, size = _check_file(path, limits)
    with _open(p) as im:
        width, height, mode, fmt = im.width, im.height, im.mode, im.format or ""
        if width * height > limits.max_pixels:
            raise MediaError(
                f"{p}: expected images within the media limit max_pixels = {limits.max_pixels}, "
                f"found {width}x{height} = {width * height} pixels"
            )
        try:
            im.verify()
        except Exception as e:  # Pillow raises assorted types for corrupt data
            raise MediaError(f"{p}: expected a valid {fmt} image, found corrupt data: {e}") from e
    # verify() leaves the image unusable and skips pixel data in some formats: decode for real.
    with _open(p) as im:
        try:
            im.load()
        except Exception as e:
            raise MediaError(
                f"{p}: expected a complete {fmt} image, found truncated or corrupt data: {e}"
            ) from e
    return ImageInfo(
        path=str(p), width=width, height=height, mode=mode, format=fmt, size_bytes=size
    )


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode == "RGB":
        return im
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # convert("L") clips 16-bit values at 255 instead of scaling them.
        arr = np.asarray(im, dtype=np.float64)
        gray = np.clip(np.round(arr / 257.0), 0, 255).astype(np.uint8)
        return Image.fromarray(gray).convert("RGB")
    # Alpha is dropped, not composited: transparent pixels keep their stored colour.
    return im.convert("RGB")


def load_image(path: PathLike) -> np.ndarray:
    """Decode an image to RGB uint8 (H, W, 3), turned upright by its EXIF orientation.

    Grayscale, palette and 16-bit images are expanded to RGB; alpha is dropped.
    """
    p, _ = _check_file(path, None)
    with _open(p) as im:
        try:
            upright = ImageOps.exif_transpose(im)
            return np.asarray(_to_rgb(upright), dtype=np.uint8).copy()
        except (OSError, SyntaxError, ValueError) as e:
            raise MediaError(f"{p}: expected a decodable image, found an error: {e}") from e


def _as_image(array: np.ndarray) -> Image.Image:
    arr = np.asarray(array)
    if arr.dtype != np.uint8 or not (
        arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3, 4))
    ):
        raise InputError(
            f"expected a uint8 array of shape (H, W), (H, W, 3) or (H, W, 4), "
            f"found {arr.dtype} of shape {arr.shape}"
        )
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(arr))


def _save_params(fmt: str, im: Image.Image) -> tuple[Image.Image, dict[str, object]]:
    if fmt == "JPEG":
        return (im.convert("RGB") if im.mode == "RGBA" else im), {"quality": _JPEG_QUALITY}
    return im, {}


def save_image(path: PathLike, array: np.ndarray, format: str | None = None) -> None:
    """Write an RGB (or gray / RGBA) uint8 array, atomically (temporary file, then rename).

    The format comes from the extension unless given; JPEG is written at quality 92 (alpha
    dropped), PNG losslessly.
    """
    dst = Path(path)
    fmt = (format or Image.registered_extensions().get(dst.suffix.lower(), "")).upper()
    if fmt == "JPG":
        fmt = "JPEG"
    if not fmt:
        raise InputError(f"{dst}: expected an image extension such as .png or .jpg, found {dst.suffix!r}")
    try:
        im = _as_image(array)
    except InputError as e:
        raise InputError(f"{dst}: {e}") from None
    im, params = _save_params(fmt, im)
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex}.tmp")
    try:
        im.save(tmp, format=fmt, **params)
        os.replace(tmp, dst)
    except KeyError:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{dst}: expected an image format Pillow can write, found {fmt!r}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def encode_image(array: np.ndarray, format: str = "PNG") -> bytes:
    """Encode an array to image bytes (PNG by default; JPEG at quality 92)."""
    fmt = format.upper()
    fmt = "JPEG" if fmt == "JPG" else fmt
    im, params = _save_params(fmt, _as_image(array))
    buf = io.BytesIO()
    try:
        im.save(buf, format=fmt, **params)
    except KeyError:
        raise InputError(f"expected an image format Pillow can write, found {format!r}") from None
    return buf.getvalue()
