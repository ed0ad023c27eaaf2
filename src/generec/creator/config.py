"""The embedded creator's one config: image and latent sizes, the two networks, training, sampling.

Saved beside every checkpoint (`models/creator/config.json`); a checkpoint is only ever loaded
with the config it was trained with.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from generec.errors import InputError


@dataclass(frozen=True)
class AutoencoderConfig:
    """The image <-> latent map (`autoencoder.py`): `space_to_depth` (exact, untrained) or `kl`
    (a small `AutoencoderKL` trained first). Either way each block after the first halves the side."""

    kind: str = "kl"  # kl | space_to_depth (measured worse on the judge in the same 30 minutes: docs/BENCHMARKS.md)
    block_out_channels: tuple[int, ...] = (16, 32, 64)  # each block after the first halves the side
    latent_channels: int = 4
    layers_per_block: int = 1
    norm_num_groups: int = 8
    kl_weight: float = 1e-6
    lr: float = 1e-3
    batch_size: int = 32


@dataclass(frozen=True)
class DenoiserConfig:
    """The latent denoiser (diffusers' `UNet2DModel`) and its condition projection."""

    block_out_channels: tuple[int, ...] = (64, 128, 192)
    layers_per_block: int = 1
    attention: tuple[bool, ...] = (False, True, True)  # self-attention in each resolution's blocks
    norm_num_groups: int = 16
    condition_dim: int = 1280  # EfficientNet-Lite0 pooled features of the retrieved frames
    condition_dropout: float = 0.15  # share of training steps without the condition (classifier-free guidance)
    prediction_type: str = "v_prediction"
    train_timesteps: int = 1000
    lr: float = 4e-4
    batch_size: int = 64
    ema_decay: float = 0.999


@dataclass(frozen=True)
class CreatorConfig:
    image_size: int = 64  # the generated stills' side (square); the montage upscales them
    neighbours: int = 4  # retrieved frames averaged into one condition (RDM's k)
    frames_per_video: int = 3  # training frames taken from each catalogue video, besides its cover
    autoencoder_share: float = 0.25  # share of the training minutes spent on the autoencoder
    sampler: str = "ddim"  # ddim | dpm
    sample_steps: int = 30
    guidance_scale: float = 2.0
    sdedit_strength: float = 0.6  # `regenerate` / variation: how much of the source is re-made
    variation_share: float = 0.5  # created shots started from a retrieved real frame (SDEdit) rather than pure noise
    checkpoint_every_s: float = 120.0
    threads: int = 1  # torch threads while training (1 per process measured fastest on 2 loaded cores)
    bf16: bool = True  # bf16 autocast while training on CPU
    seed: int = 0
    autoencoder: AutoencoderConfig = field(default_factory=AutoencoderConfig)
    denoiser: DenoiserConfig = field(default_factory=DenoiserConfig)

    def __post_init__(self) -> None:
        if self.autoencoder.kind not in ("space_to_depth", "kl"):
            raise InputError(f"unknown creator autoencoder kind {self.autoencoder.kind!r}; valid: space_to_depth, kl")
        factor = 2 ** (len(self.autoencoder.block_out_channels) - 1)
        if self.image_size < 8 or self.image_size % (factor * 2 ** (len(self.denoiser.block_out_channels) - 1)):
            raise InputError(f"creator image_size {self.image_size}: expected a multiple of the networks' down-sampling")
        if not 0.0 <= self.sdedit_strength <= 1.0 or not 0.0 <= self.variation_share <= 1.0:
            raise InputError("creator sdedit_strength and variation_share must lie in [0, 1]")
        if self.sampler not in ("ddim", "dpm"):
            raise InputError(f"unknown creator sampler {self.sampler!r}; valid: ddim, dpm")
        if len(self.denoiser.attention) != len(self.denoiser.block_out_channels):
            raise InputError(f"creator denoiser: {len(self.denoiser.attention)} attention flags for {len(self.denoiser.block_out_channels)} blocks")
        if self.neighbours < 1 or self.sample_steps < 1:
            raise InputError("creator neighbours and sample_steps must be >= 1")

    @property
    def latent_channels(self) -> int:
        from generec.creator.autoencoder import latent_channels

        return latent_channels(self.autoencoder)

    @property
    def latent_size(self) -> int:
        return self.image_size // 2 ** (len(self.autoencoder.block_out_channels) - 1)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CreatorConfig:
        data = dict(data)
        try:
            ae = AutoencoderConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.pop("autoencoder", {}).items()})
            dn = DenoiserConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.pop("denoiser", {}).items()})
            return cls(**data, autoencoder=ae, denoiser=dn)
        except TypeError as exc:
            raise InputError(f"creator config: {exc}") from None
