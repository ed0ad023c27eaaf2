"""The embedded creator's pipeline: conditions in, RGB stills out (the model, the sampler and this
file are separate, as in diffusers).

`CreatorPipeline.load(ws)` reads and checks `models/creator/creator.pt` once (`checkpoint.py`);
`pipe(conditions, seed)` makes one still per condition row (mean EfficientNet-Lite0 features of
retrieved frames) from noise, or from a source image by SDEdit (`init_images`, `strength`), with
classifier-free guidance against the null condition or a negative one. Seeded: the same call
gives the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from generec.creator.autoencoder import build_autoencoder, decode_latents, encode_latents
from generec.creator.checkpoint import CHECKPOINT, creator_dir, load_checkpoint
from generec.creator.config import CreatorConfig
from generec.creator.frames import catalogue_videos, square
from generec.creator.model import ConditionedDenoiser
from generec.creator.sampler import sample_latents
from generec.errors import InputError
from generec.workspace import Workspace


@dataclass
class CreatorPipeline:
    autoencoder: torch.nn.Module
    denoiser: ConditionedDenoiser
    scaling: float
    config: CreatorConfig
    checkpoint_hash: str
    frames_hash: str
    path: Path
    meta: dict

    @classmethod
    def load(cls, ws: Workspace, path: Path | None = None) -> CreatorPipeline:
        path = path or creator_dir(ws) / CHECKPOINT
        data, digest = load_checkpoint(path, {i.id for i in catalogue_videos(ws)})
        return cls.from_state(data, digest, path)

    @classmethod
    def from_state(cls, data: dict, digest: str, path: Path) -> CreatorPipeline:
        cfg: CreatorConfig = data["config"]
        ae = build_autoencoder(cfg.autoencoder)
        ae.load_state_dict(data["autoencoder"])
        denoiser = ConditionedDenoiser(cfg)
        denoiser.load_state_dict(data["denoiser"])
        return cls(ae.eval(), denoiser.eval(), float(data["scaling"]), cfg, digest, data["frames_hash"], path, data.get("meta", {}))

    def _to_tensor(self, images: list[np.ndarray]) -> torch.Tensor:
        side = self.config.image_size
        x = np.stack([square(im, side) for im in images])
        return torch.from_numpy(x).permute(0, 3, 1, 2).float() / 127.5 - 1.0

    def __call__(
        self,
        conditions: np.ndarray,
        seed: int,
        init_images: list[np.ndarray] | None = None,
        strength: float | None = None,
        negative: np.ndarray | None = None,
        guidance_scale: float | None = None,
        steps: int | None = None,
        guidance=None,  # unused: the embedded model is conditioned on features (the diffusers backend reads it)
    ) -> np.ndarray:
        """(n, S, S, 3) uint8 stills, one per row of `conditions` (n, 1280)."""
        cond = torch.as_tensor(np.asarray(conditions, np.float32))
        if cond.ndim != 2 or cond.shape[1] != self.config.denoiser.condition_dim:
            raise InputError(f"creator conditions: expected (n, {self.config.denoiser.condition_dim}) features, found {tuple(cond.shape)}")
        n = cond.shape[0]
        if init_images is not None and len(init_images) != n:
            raise InputError(f"creator: {len(init_images)} source images for {n} conditions")
        generator = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            emb = self.denoiser.embed(cond, n)
            if negative is not None:
                ref = self.denoiser.embed(torch.as_tensor(np.asarray(negative, np.float32)).reshape(-1, cond.shape[1]).expand(n, -1), n)
            else:
                ref = self.denoiser.embed(None, n)
            init = None
            if init_images is not None:
                init = encode_latents(self.autoencoder, self._to_tensor(init_images), self.scaling)
            s = self.config.sdedit_strength if strength is None else float(strength)
            latents = sample_latents(self.denoiser, self.config, emb, ref, generator, steps, guidance_scale, init, s if init is not None else 1.0)
            images = decode_latents(self.autoencoder, latents, self.scaling)
        return ((images.permute(0, 2, 3, 1).numpy() + 1.0) * 127.5).round().clip(0, 255).astype(np.uint8)
