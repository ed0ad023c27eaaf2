"""The creator's denoiser: diffusers' `UNet2DModel` on autoencoder latents, conditioned RDM-style.

The condition is the mean EfficientNet-Lite0 feature of k retrieved catalogue frames (at training
time the k nearest frames of *other* videos to the frame being learned; when creating, the frames
the product retrieves for what the user asked and likes). A small MLP maps it to the UNet's
time-embedding width and it is added to the time embedding (`class_embed_type="identity"`). A
learned null vector stands in for "no condition" (dropped in training for classifier-free
guidance; also the negative when revising away from a rejected variant).
"""

from __future__ import annotations

import torch
from torch import nn

from generec.creator.config import CreatorConfig


class ConditionedDenoiser(nn.Module):
    def __init__(self, cfg: CreatorConfig) -> None:
        super().__init__()
        from diffusers import UNet2DModel

        d = cfg.denoiser
        blocks = tuple(d.block_out_channels)
        width = blocks[0] * 4  # UNet2DModel's time-embedding width
        self.unet = UNet2DModel(
            sample_size=cfg.latent_size, in_channels=cfg.latent_channels,
            out_channels=cfg.latent_channels, block_out_channels=blocks,
            layers_per_block=d.layers_per_block, norm_num_groups=d.norm_num_groups,
            down_block_types=tuple("AttnDownBlock2D" if a else "DownBlock2D" for a in d.attention),
            up_block_types=tuple("AttnUpBlock2D" if a else "UpBlock2D" for a in reversed(d.attention)),
            attention_head_dim=32, class_embed_type="identity",
        )  # fmt: skip
        self.condition = nn.Sequential(nn.LayerNorm(d.condition_dim), nn.Linear(d.condition_dim, width), nn.SiLU(), nn.Linear(width, width))
        self.null = nn.Parameter(torch.zeros(width))

    def embed(self, condition: torch.Tensor | None, batch: int, drop: torch.Tensor | None = None) -> torch.Tensor:
        """(B, width) condition embeddings; `drop` (B,) bool replaces rows by the null vector."""
        if condition is None:
            return self.null.expand(batch, -1)
        emb = self.condition(condition)
        if drop is not None:
            emb = torch.where(drop[:, None], self.null.expand_as(emb), emb)
        return emb

    def forward(self, latents: torch.Tensor, t: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        return self.unet(latents, t, class_labels=embedding).sample
