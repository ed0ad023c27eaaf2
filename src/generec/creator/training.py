"""Training the embedded creator on the workspace's own frames: the autoencoder, then the denoiser.

`train_creator(ws, config, budget)` spends `budget.minutes` (or a fixed number of steps, for
tests): `autoencoder_share` of it on the autoencoder (L1 + L2 + edge + light KL), the rest on the
latent denoiser (v-prediction, the condition dropped `condition_dropout` of the time, an EMA copy
kept for sampling). Every `checkpoint_every_s` and at the end the whole state (both networks,
optimisers, EMA, step counts, seconds spent, RNG) goes to `models/creator/state.pt`; `resume`
picks it up and trains until the budget's total is reached. The sampling weights, the latent
scale, the config and the training frames' hash go to `models/creator/creator.pt` (see
`checkpoint.py`), and a copy of them at each of `snapshot_minutes` to `models/creator/snapshots/`
for the accuracy-against-minutes curve.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from generec.creator.autoencoder import autoencoder_loss, build_autoencoder, encode_latents
from generec.creator.checkpoint import CREATOR_DIR, save_checkpoint, state_path
from generec.creator.config import CreatorConfig
from generec.creator.frames import TrainingFrames, training_frames
from generec.creator.model import ConditionedDenoiser
from generec.creator.sampler import make_scheduler
from generec.errors import InputError
from generec.workspace import Workspace

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TrainBudget:
    minutes: float = 30.0
    autoencoder_steps: int | None = None  # fixed step counts instead of minutes (tests, smoke runs)
    denoiser_steps: int | None = None
    snapshot_minutes: tuple[float, ...] = (5, 10, 20, 30, 60, 90, 120)

    def __post_init__(self) -> None:
        if not (self.minutes > 0) or self.minutes > 24 * 60:
            raise InputError(f"creator training minutes: expected a number in (0, 1440], found {self.minutes}")


@dataclass
class TrainReport:
    frames: int
    videos: int
    autoencoder_steps: int
    denoiser_steps: int
    seconds: float
    autoencoder_loss: list[float] = field(default_factory=list)  # running means, one per 50 steps
    denoiser_loss: list[float] = field(default_factory=list)
    resumed: bool = False
    checkpoint: str = ""
    checkpoint_hash: str = ""
    snapshots: list[str] = field(default_factory=list)
    config: dict = field(default_factory=dict)  # the config trained with (a resumed run keeps its own)


def _batch(images: np.ndarray, idx: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    x = torch.from_numpy(images[idx]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    flip = torch.from_numpy(rng.random(len(idx)) < 0.5)
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


class _Run:
    """The state that one training run carries (and a checkpoint saves)."""

    def __init__(self, cfg: CreatorConfig) -> None:
        torch.manual_seed(cfg.seed)
        self.ae = build_autoencoder(cfg.autoencoder)
        self.denoiser = ConditionedDenoiser(cfg)
        self.ema = copy.deepcopy(self.denoiser).requires_grad_(False)
        self.ae_opt = torch.optim.AdamW(self.ae.parameters(), lr=cfg.autoencoder.lr) if any(True for _ in self.ae.parameters()) else None
        self.dn_opt = torch.optim.AdamW(self.denoiser.parameters(), lr=cfg.denoiser.lr, weight_decay=0.0)
        self.ae_steps = self.dn_steps = 0
        self.ae_seconds = self.dn_seconds = 0.0
        self.scaling = 0.0
        self.ae_loss: list[float] = []
        self.dn_loss: list[float] = []
        self.snapshots: list[str] = []
        self.rng = np.random.default_rng(cfg.seed)

    def state(self) -> dict:
        return {
            "ae": self.ae.state_dict(), "denoiser": self.denoiser.state_dict(), "ema": self.ema.state_dict(),
            "ae_opt": self.ae_opt.state_dict() if self.ae_opt else None, "dn_opt": self.dn_opt.state_dict(), "ae_steps": self.ae_steps,
            "dn_steps": self.dn_steps, "ae_seconds": self.ae_seconds, "dn_seconds": self.dn_seconds,
            "scaling": self.scaling, "ae_loss": self.ae_loss, "dn_loss": self.dn_loss, "snapshots": self.snapshots,
            "rng": self.rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
        }  # fmt: skip

    def restore(self, s: dict) -> None:
        self.ae.load_state_dict(s["ae"])
        self.denoiser.load_state_dict(s["denoiser"])
        self.ema.load_state_dict(s["ema"])
        if self.ae_opt is not None:
            self.ae_opt.load_state_dict(s["ae_opt"])
        self.dn_opt.load_state_dict(s["dn_opt"])
        for key in ("ae_steps", "dn_steps", "ae_seconds", "dn_seconds", "scaling", "ae_loss", "dn_loss", "snapshots"):
            setattr(self, key, s[key])
        self.rng.bit_generator.state = s["rng"]
        torch.set_rng_state(s["torch_rng"])


def _save_state(path: Path, run: _Run, cfg: CreatorConfig, frames_hash: str) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"config": cfg.to_dict(), "frames_hash": frames_hash, **run.state()}, tmp)
    tmp.replace(path)


def _running(losses: list[float], out: list[float], every: int = 50) -> None:
    if len(losses) >= every:
        out.append(float(np.mean(losses)))
        losses.clear()


def train_creator(
    ws: Workspace,
    config: CreatorConfig | None = None,
    budget: TrainBudget | None = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> TrainReport:
    cfg = config or CreatorConfig()
    budget = budget or TrainBudget()
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, cfg.threads))
    try:
        return _train(ws, cfg, budget, resume, progress)
    finally:
        torch.set_num_threads(threads)


def _train(ws: Workspace, cfg: CreatorConfig, budget: TrainBudget, resume: bool, progress: Progress | None) -> TrainReport:
    from generec.encoders.image import get_image_encoder

    frames = training_frames(ws, cfg.image_size, cfg.frames_per_video, get_image_encoder(), progress)
    root = ws.root / "models" / CREATOR_DIR
    root.mkdir(parents=True, exist_ok=True)
    spath = state_path(ws)
    run = _Run(cfg)
    resumed = False
    if resume and spath.is_file():
        saved = torch.load(spath, map_location="cpu", weights_only=True)
        if saved["frames_hash"] != frames.hash:
            raise InputError(f"{spath}: that training run learned from another catalogue (frames {saved['frames_hash']}, now {frames.hash}); train without --resume")
        if saved["config"] != cfg.to_dict():
            cfg = CreatorConfig.from_dict(saved["config"])  # a resumed run keeps its own config
            run = _Run(cfg)
        run.restore(saved)
        resumed = True
    _write_json(root / "config.json", cfg.to_dict())
    t0 = time.perf_counter()
    _train_autoencoder(run, cfg, budget, frames, spath, progress)
    _train_denoiser(run, cfg, budget, frames, spath, root, progress)
    _save_state(spath, run, cfg, frames.hash)
    path, digest = save_checkpoint(ws, run.ae, run.ema, run.scaling, cfg, frames.hash, _meta(run, frames), item_ids=frames.item_ids)
    return TrainReport(
        len(frames), len(frames.item_ids), run.ae_steps, run.dn_steps, time.perf_counter() - t0, run.ae_loss, run.dn_loss,
        resumed, str(path), digest, list(run.snapshots), cfg.to_dict(),
    )  # fmt: skip


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)


def _meta(run: _Run, frames: TrainingFrames) -> dict:
    return {"autoencoder_steps": run.ae_steps, "denoiser_steps": run.dn_steps, "minutes": (run.ae_seconds + run.dn_seconds) / 60.0, "frames": len(frames)}


def _autocast(cfg: CreatorConfig):
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16)


def _train_autoencoder(run: _Run, cfg: CreatorConfig, budget: TrainBudget, frames: TrainingFrames, spath: Path, progress: Progress | None) -> None:
    ac = cfg.autoencoder
    limit_s = budget.minutes * 60.0 * cfg.autoencoder_share
    steps = budget.autoencoder_steps
    done = (lambda: run.ae_steps >= steps) if steps is not None else (lambda: run.ae_seconds >= limit_s)
    if ac.kind == "space_to_depth" or run.dn_steps > 0:  # an exact map, or a resumed run past this phase: the
        done = lambda: True  # noqa: E731  # denoiser learned these latents, so the autoencoder stays as it is
    last_save, pending = time.perf_counter(), []
    run.ae.train()
    while not done():
        start = time.perf_counter()
        idx = run.rng.integers(0, len(frames), ac.batch_size)
        x = _batch(frames.images, idx, run.rng)
        with _autocast(cfg):
            loss, _ = autoencoder_loss(run.ae, x, ac.kl_weight)
        run.ae_opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(run.ae.parameters(), 1.0)
        run.ae_opt.step()
        run.ae_steps += 1
        run.ae_seconds += time.perf_counter() - start
        pending.append(float(loss.detach()))
        _running(pending, run.ae_loss)
        if progress:
            progress("autoencoder", *((run.ae_steps, steps) if steps is not None else (int(run.ae_seconds), int(limit_s))))
        if time.perf_counter() - last_save > cfg.checkpoint_every_s:
            _save_state(spath, run, cfg, frames.hash)
            last_save = time.perf_counter()
    run.ae.eval()
    if run.scaling == 0.0:  # unit-variance latents for the denoiser
        idx = run.rng.choice(len(frames), min(len(frames), 512), replace=False)
        z = encode_latents(run.ae, _batch(frames.images, np.sort(idx), np.random.default_rng(0)), 1.0)
        run.scaling = float(1.0 / max(z.std().item(), 1e-6))


def _latents(run: _Run, frames: TrainingFrames) -> torch.Tensor:
    out = []
    with torch.no_grad():
        for start in range(0, len(frames), 256):
            x = torch.from_numpy(frames.images[start : start + 256]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
            out.append(torch.cat([encode_latents(run.ae, x, run.scaling), encode_latents(run.ae, x.flip(-1), run.scaling)], 1))
    return torch.cat(out)  # (N, 2C, s, s): each frame's latent and its mirror's


def _train_denoiser(run: _Run, cfg: CreatorConfig, budget: TrainBudget, frames: TrainingFrames, spath: Path, root: Path,
                    progress: Progress | None) -> None:  # fmt: skip
    dc = cfg.denoiser
    limit_s = budget.minutes * 60.0 - run.ae_seconds
    steps = budget.denoiser_steps
    done = (lambda: run.dn_steps >= steps) if steps is not None else (lambda: run.dn_seconds >= limit_s)
    if done():
        return
    latents = _latents(run, frames)
    c = cfg.latent_channels
    neighbours = torch.from_numpy(frames.neighbours(cfg.neighbours))
    features = torch.from_numpy(frames.features)
    scheduler = make_scheduler(cfg, "train")
    last_save, pending = time.perf_counter(), []
    marks = [m for m in budget.snapshot_minutes if m * 60.0 > run.ae_seconds + run.dn_seconds]
    run.denoiser.train()
    while not done():
        start = time.perf_counter()
        idx = torch.from_numpy(run.rng.integers(0, len(frames), dc.batch_size))
        flip = torch.from_numpy(run.rng.random(len(idx)) < 0.5)
        z0 = torch.where(flip[:, None, None, None], latents[idx, c:], latents[idx, :c])
        # the condition: the mean of a random subset (1..k) of the frame's retrieved neighbours
        keep = torch.from_numpy(run.rng.random((len(idx), cfg.neighbours)) < 0.75)
        keep[:, 0] = True
        cond = (features[neighbours[idx]] * keep[..., None]).sum(1) / keep.sum(1, keepdim=True)
        drop = torch.from_numpy(run.rng.random(len(idx)) < dc.condition_dropout)
        t = torch.from_numpy(run.rng.integers(0, dc.train_timesteps, len(idx)))
        noise = torch.from_numpy(run.rng.standard_normal(z0.shape).astype(np.float32))
        zt = scheduler.add_noise(z0, noise, t)
        target = scheduler.get_velocity(z0, noise, t) if dc.prediction_type == "v_prediction" else noise
        with _autocast(cfg):
            pred = run.denoiser(zt, t, run.denoiser.embed(cond, len(idx), drop))
        loss = torch.nn.functional.mse_loss(pred.float(), target)
        run.dn_opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(run.denoiser.parameters(), 1.0)
        run.dn_opt.step()
        with torch.no_grad():
            decay = min(dc.ema_decay, (1 + run.dn_steps) / (10 + run.dn_steps))
            for e, p in zip(run.ema.parameters(), run.denoiser.parameters()):
                e.lerp_(p, 1.0 - decay)
        run.dn_steps += 1
        run.dn_seconds += time.perf_counter() - start
        pending.append(float(loss.detach()))
        _running(pending, run.dn_loss)
        if progress:
            progress("denoiser", *((run.dn_steps, steps) if steps is not None else (int(run.dn_seconds), int(max(limit_s, 1)))))
        if time.perf_counter() - last_save > cfg.checkpoint_every_s:
            _save_state(spath, run, cfg, frames.hash)
            last_save = time.perf_counter()
        minutes = (run.ae_seconds + run.dn_seconds) / 60.0
        while marks and minutes >= marks[0]:
            snap = root / "snapshots" / f"creator-{marks.pop(0):g}min.pt"
            save_checkpoint(None, run.ae, run.ema, run.scaling, cfg, frames.hash, _meta(run, frames), path=snap, item_ids=frames.item_ids)
            run.snapshots.append(str(snap))
    run.denoiser.train(False)
