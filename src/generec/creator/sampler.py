"""Sampling the creator's latents: a diffusers scheduler (DDIM or DPM-Solver++), classifier-free
guidance, and SDEdit (start from a noised source latent instead of pure noise).

Guidance mixes the conditioned prediction with a reference one:

    ε̂ = ε(z, c_ref) + w · (ε(z, c) − ε(z, c_ref))

where c_ref is the learned null condition, or a negative condition (the features of a variant the
user rejected: the revision then moves away from it, as a negative prompt does).
"""

from __future__ import annotations

import torch

from generec.creator.config import CreatorConfig


def make_scheduler(cfg: CreatorConfig, name: str | None = None):
    from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler

    common = {
        "num_train_timesteps": cfg.denoiser.train_timesteps, "beta_schedule": "squaredcos_cap_v2",
        "prediction_type": cfg.denoiser.prediction_type,
    }  # fmt: skip
    name = name or cfg.sampler
    if name == "train":
        return DDPMScheduler(**common)
    if name == "ddim":
        return DDIMScheduler(**common, timestep_spacing="trailing", clip_sample=False, set_alpha_to_one=False)
    return DPMSolverMultistepScheduler(**common, timestep_spacing="trailing", algorithm_type="dpmsolver++")


@torch.no_grad()
def sample_latents(
    denoiser,
    cfg: CreatorConfig,
    embedding: torch.Tensor,
    reference: torch.Tensor,
    generator: torch.Generator,
    steps: int | None = None,
    guidance_scale: float | None = None,
    init_latents: torch.Tensor | None = None,
    strength: float = 1.0,
    sampler: str | None = None,
) -> torch.Tensor:
    """(n, C, s, s) latents for `embedding` (n, width) against `reference` (n, width)."""
    n = embedding.shape[0]
    scheduler = make_scheduler(cfg, sampler)
    scheduler.set_timesteps(steps or cfg.sample_steps)
    timesteps = scheduler.timesteps
    shape = (n, cfg.latent_channels, cfg.latent_size, cfg.latent_size)
    noise = torch.randn(shape, generator=generator)
    if init_latents is not None and strength < 1.0:
        start = min(len(timesteps) - 1, int(round(len(timesteps) * (1.0 - strength))))
        timesteps = timesteps[start:]
        latents = scheduler.add_noise(init_latents, noise, timesteps[:1].repeat(n))
        if hasattr(scheduler, "set_begin_index"):  # multistep solvers count steps from the first timestep given
            scheduler.set_begin_index(start)
    else:
        latents = noise * scheduler.init_noise_sigma
    w = cfg.guidance_scale if guidance_scale is None else guidance_scale
    both = torch.cat([reference, embedding])
    for t in timesteps:
        x = scheduler.scale_model_input(torch.cat([latents, latents]), t)
        out = denoiser(x, t.repeat(2 * n), both)
        ref, cond = out.chunk(2)
        pred = ref + w * (cond - ref)
        latents = scheduler.step(pred, t, latents).prev_sample
    return latents
