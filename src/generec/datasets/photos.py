"""Real photos that installed packages ship, each labelled with a concept in `photos.csv`.

Sources: scikit-image's bundled images (those that load offline), scikit-learn's sample
images, matplotlib's sample data, and Debian's `opencv-doc` example images when that package is
installed. Nothing is downloaded; a photo whose package is missing is skipped.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from generec.errors import InputError

TABLE = Path(__file__).with_name("photos.csv")
OPENCV_DOC = Path(os.environ.get("GENEREC_OPENCV_DOC", "/usr/share/doc/opencv-doc/examples"))


@dataclass(frozen=True)
class Photo:
    name: str
    source: str
    concept: str
    image: np.ndarray  # (H, W, 3) uint8 RGB


def _to_rgb(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    return np.ascontiguousarray(array[..., :3].astype(np.uint8))


def _load(source: str, name: str) -> np.ndarray | None:
    if source == "skimage":
        import skimage.data

        try:
            return getattr(skimage.data, name)()
        except Exception:  # an image that is not bundled would need a download
            return None
    if source == "sklearn":
        import sklearn.datasets

        path = Path(sklearn.datasets.__file__).parent / "images" / name
    elif source == "matplotlib":
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "sample_data" / name
    elif source == "opencv-doc":
        path = OPENCV_DOC / name
    else:
        raise InputError(f"{TABLE}: unknown photo source {source!r}")
    if not path.is_file():
        return None
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def load_photos(min_side: int = 256) -> list[Photo]:
    """Every labelled photo that is installed here, at least `min_side` on its short side."""
    photos = []
    with open(TABLE, newline="") as f:
        for row in csv.DictReader(f):
            image = _load(row["source"], row["name"])
            if image is None:
                continue
            image = _to_rgb(image)
            if min(image.shape[:2]) < min_side:
                scale = min_side / min(image.shape[:2])
                size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
                image = np.asarray(Image.fromarray(image).resize(size, Image.BICUBIC))
            photos.append(Photo(row["name"], row["source"], row["concept"], image))
    return photos


def photo_set_hash(photos: list[Photo]) -> str:
    """Identifies the photo set a benchmark was built from (it depends on what is installed)."""
    digest = hashlib.sha256()
    for p in photos:
        digest.update(f"{p.source}:{p.name}:{p.concept}:{p.image.shape}".encode())
        digest.update(p.image[::7, ::7].tobytes())
    return digest.hexdigest()[:16]
