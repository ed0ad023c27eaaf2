"""A diffusers backend for platforms with their own generative weights (and a GPU).

`DiffusersBackend.load(dir)` loads any local `DiffusionPipeline` directory (text-to-image, or
text-to-video: the middle frame of each generated clip becomes the shot) with
`local_files_only=True` — nothing is downloaded — on CUDA when present, else the CPU. It has the
embedded pipeline's call: the Creator hands it the guidance, which becomes a prompt ("a <look>
photo of <concepts>") and a negative prompt (excluded concepts, plus what a revision moves away
from); the retrieved-frame conditions are not used by a text pipeline. What it makes goes through
the same Creator path: montage, storage, provenance (the directory's name and a hash of its
files) and the fidelity checks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from generec.creator.config import CreatorConfig
from generec.errors import InputError

NEGATIVE = "blurry, low quality, distorted, watermark, text"


def directory_hash(path: Path) -> str:
    """SHA-256 over model_index.json and every file's name, size and first and last MiB."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f"{f.relative_to(path)}:{f.stat().st_size}".encode())
        with open(f, "rb") as fh:
            h.update(fh.read(1 << 20))
            if f.stat().st_size > 2 << 20:
                fh.seek(-(1 << 20), 2)
                h.update(fh.read())
    return h.hexdigest()[:16]


def prompts(guidance, negative_terms: list[str] | None = None) -> tuple[str, str]:
    concepts = " and ".join(guidance.include) if guidance is not None and guidance.include else "something beautiful"
    look = guidance.look if guidance is not None and guidance.look not in (None, "natural") else None
    prompt = f"a {look.replace('_', ' ')} photo of {concepts}" if look else f"a photo of {concepts}"
    neg = [*(guidance.exclude if guidance is not None else ()), *(negative_terms or []), NEGATIVE]
    return prompt, ", ".join(neg)


@dataclass
class DiffusersBackend:
    pipe: object
    path: Path
    checkpoint_hash: str
    device: str
    config: CreatorConfig
    steps: int = 25
    frames_hash: str | None = None  # of the catalogue frames the creations are anchored on (set by loading.py)
    supports_sdedit: bool = False  # text pipelines: no image-to-image here

    @classmethod
    def load(cls, path: str | Path, device: str | None = None, steps: int = 25) -> DiffusersBackend:
        import torch
        from diffusers import DiffusionPipeline

        p = Path(path)
        if not (p / "model_index.json").is_file():
            raise InputError(f"{p}: not a diffusers pipeline directory (no model_index.json)")
        try:
            index = json.loads((p / "model_index.json").read_text())
        except ValueError:
            raise InputError(f"{p / 'model_index.json'}: not valid JSON") from None
        if not isinstance(index, dict) or "_class_name" not in index:
            raise InputError(f"{p / 'model_index.json'}: not a pipeline index (no _class_name)")
        dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            pipe = DiffusionPipeline.from_pretrained(p, local_files_only=True, dtype=torch.float16 if dev == "cuda" else torch.float32)
        except Exception as exc:  # a broken or partial directory: say which, in one line
            raise InputError(f"{p}: could not load the diffusers pipeline {index['_class_name']} ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from None
        pipe = pipe.to(dev)
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)
        cfg = replace(CreatorConfig(), variation_share=0.0)  # a text pipeline starts from noise
        return cls(pipe, p, directory_hash(p), dev, cfg, steps)

    def __call__(self, conditions: np.ndarray, seed: int, init_images=None, strength=None, negative=None, guidance=None,
                 guidance_scale: float | None = None, steps: int | None = None) -> np.ndarray:  # fmt: skip
        import torch

        n = len(conditions)
        prompt, neg = prompts(guidance, ["the rejected variant"] if negative is not None else None)
        generator = torch.Generator(device="cpu").manual_seed(int(seed))
        kwargs = {"prompt": [prompt] * n, "negative_prompt": [neg] * n, "num_inference_steps": steps or self.steps,
                  "generator": generator, "output_type": "np"}  # fmt: skip
        if guidance_scale is not None:
            kwargs["guidance_scale"] = guidance_scale
        out = self.pipe(**kwargs)
        images = getattr(out, "images", None)
        if images is None:  # text-to-video: (n, frames, H, W, 3) — the middle frame of each clip
            frames = np.asarray(out.frames)
            images = frames[:, frames.shape[1] // 2]
        images = np.asarray(images)
        if images.dtype != np.uint8:
            images = (np.clip(images, 0.0, 1.0) * 255).round().astype(np.uint8)
        return images
