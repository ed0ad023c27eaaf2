"""Creator commands: `generec create`, `generec edit regenerate`, `train --model creator` (called
from `train`) and `evaluate creator`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from generec.cli.common import (ConfigOpt, JsonOpt, ShardAddressOpt, ShardWorkersOpt, WorkspaceOpt, _open, _print_json, _save_and_print_json, app, edit_app, err,
                                evaluate_app, handle_errors, lit, out, progress_bar)  # fmt: skip
from generec.config import load_config
from generec.errors import InputError
from generec.workspace import Workspace

BackendOpt = Annotated[str, typer.Option("--backend", help="Creator backend: embedded (the model `generec train --model creator` trains) or diffusers (a local pipeline directory).")]
DiffusersOpt = Annotated[Optional[Path], typer.Option("--diffusers-path", help="A local diffusers pipeline directory (with model_index.json) for --backend diffusers.")]


def train_creator_cmd(ws: Workspace, minutes: float | None, steps: int | None, resume: bool, seed: int | None, config: Path | None, json_out: bool) -> None:
    """`train --model creator`: the autoencoder then the latent denoiser on the catalogue's frames."""
    from generec.creator.config import CreatorConfig
    from generec.creator.training import TrainBudget, train_creator

    # 1. config and budget, checked before anything loads
    cfg = load_config(CreatorConfig, config, section="creator", overrides={"seed": seed or None})  # 0, train's default: the config's
    if steps is not None and steps < 1:
        raise InputError(f"--steps must be at least 1, got {steps}")
    budget = TrainBudget(minutes=30.0 if minutes is None else minutes, denoiser_steps=steps,
                         autoencoder_steps=None if steps is None else max(1, steps // 4))  # fmt: skip
    # 2. train, with a progress bar per stage
    with ws.lock("train creator"), progress_bar(quiet=json_out) as update:
        report = train_creator(ws, cfg, budget, resume=resume, progress=update)
    # 3. report
    result = {"model": "creator", **vars(report)}
    if json_out:
        _print_json(result)
        return
    mins = report.seconds / 60.0
    resumed = " (resumed)" if report.resumed else ""
    out.print(f"trained [bold]creator[/]{resumed} on {report.frames:,} frames of {report.videos:,} videos in {mins:.1f} min: "
              f"{report.autoencoder_steps:,} autoencoder and {report.denoiser_steps:,} denoiser steps")  # fmt: skip
    if report.denoiser_loss:
        out.print(f"denoiser loss {report.denoiser_loss[0]:.4f} -> {report.denoiser_loss[-1]:.4f} (means of 50 steps)")
    out.print(f"saved to {lit(report.checkpoint)} (hash {report.checkpoint_hash}); `generec create --user U` uses it")


def _settings(backend: str, diffusers_path: Path | None):
    from generec.pipeline import CreatorSettings

    return CreatorSettings(backend=backend, diffusers_path=str(diffusers_path) if diffusers_path else None)


@app.command("create")
@handle_errors
def create_cmd(
    user: Annotated[str, typer.Option("--user", "-u", help="User id.")],
    instruction: Annotated[Optional[str], typer.Option("--instruction", help='What to make, e.g. "a 6 second sketch video of cats".')] = None,
    n: Annotated[int, typer.Option("--n", help="Items to create (1-16).")] = 2,
    seed: Annotated[Optional[int], typer.Option(help="Random seed [default: 0, or the config file's].")] = None,
    backend: BackendOpt = "embedded",
    diffusers_path: DiffusersOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """AI creator: new micro-videos for one user from their taste and the instruction (origin ai_created, no parent)."""
    from generec.creator.creator import CreateConfig
    from generec.editor.base import CannotSatisfy
    from generec.fidelity.gate import FidelityBlocked
    from generec.pipeline import EditConfig, create

    ccfg = load_config(CreateConfig, config, section="create", overrides={"seed": seed})
    ecfg = load_config(EditConfig, config, section="edit")
    ws = _open(workspace)
    started = time.perf_counter()
    try:
        with ws.lock("create"):
            results = create(ws, user, instruction=instruction, n=n, config=ecfg, create_config=ccfg, settings=_settings(backend, diffusers_path))
    except FidelityBlocked as exc:  # exit code 3: the fidelity policy keeps it from anyone
        from generec.cli.fidelity import report_blocked

        report_blocked(exc, json_out, {"user": user, "created": [], "satisfied": False})
    except CannotSatisfy as exc:
        if json_out:
            _print_json({"user": user, "created": [], "satisfied": False, "reason": str(exc)})
        else:
            err.print(f"[bold yellow]cannot satisfy:[/] {lit(exc)}", highlight=False)
        raise typer.Exit(2) from None
    if json_out:
        _print_json({"user": user, "satisfied": True, "created": [r.to_dict() for r in results], "seconds": time.perf_counter() - started})
        return
    from generec.cli.fidelity import print_verdicts

    for r in results:
        p = r.params
        out.print(f"[bold]{lit(r.item.id)}[/] — {lit(r.item.title)}: {p['duration_s']:g} s, {len(p['shots'])} shots, look {lit(p['look'] or 'none')}, made in {r.seconds:.1f} s")
        out.print(f"  video: {lit(r.media_path)}")
        out.print(f"  cover: {lit(r.cover_path)}")
        for note in r.notes:
            out.print(f"  note: {lit(note)}")
        print_verdicts(r.item)
    out.print(f"{len(results)} item(s) created for {lit(user)} in {time.perf_counter() - started:.1f} s (origin ai_created)")


@edit_app.command("regenerate")
@handle_errors
def edit_regenerate(
    user: Annotated[str, typer.Option("--user", "-u", help="User id.")],
    item: Annotated[str, typer.Option("--item", "-i", help="Catalogue video item id.")],
    instruction: Annotated[Optional[str], typer.Option("--instruction", help='What the user asked, e.g. "more cats, in sketch style".')] = None,
    strength: Annotated[Optional[float], typer.Option("--strength", help="SDEdit strength in [0, 1]: how much of the source frame is re-made [default: the creator's 0.6].")] = None,
    backend: BackendOpt = "embedded",
    diffusers_path: DiffusersOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A regenerated personal cover: the video's best frame re-made by the creator toward the user's taste (a revision after they skipped or disliked one)."""
    import dataclasses

    from generec.cli.editor import _report_edit
    from generec.pipeline import EditConfig, edit

    if strength is not None and not 0.0 <= strength <= 1.0:
        raise InputError(f"--strength must lie in [0, 1], got {strength}")
    cfg = load_config(EditConfig, config, section="edit")
    cfg = dataclasses.replace(cfg, regenerate=dataclasses.replace(cfg.regenerate, strength=strength if strength is not None else cfg.regenerate.strength))
    ws = _open(workspace)
    from generec.fidelity.gate import FidelityBlocked

    try:
        with ws.lock("edit"):
            result = edit(ws, "regenerate", user, item, instruction=instruction, config=cfg, settings=_settings(backend, diffusers_path))
    except FidelityBlocked as exc:  # exit code 3
        from generec.cli.fidelity import report_blocked

        report_blocked(exc, json_out, {"op": "regenerate", "user": user, "item": item, "satisfied": False})
    _report_edit(ws, result, "regenerate", user, json_out)


@evaluate_app.command("creator")
@handle_errors
def evaluate_creator_cmd(
    users: Annotated[int, typer.Option("--users", help="Test users the instructions are spread over (seeded).")] = 50,
    combos: Annotated[int, typer.Option("--combos", help="Concept x look instructions (0: every one).")] = 0,
    regenerate_users: Annotated[int, typer.Option("--regenerate-users", help="Users whose top-5 covers are regenerated (Cos@5, PS@5, revision).")] = 20,
    checkpoint: Annotated[Optional[Path], typer.Option("--checkpoint", help="A creator snapshot (models/creator/snapshots/...) instead of the current checkpoint.")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Only the judge's concept and look accuracy (for the curve against training minutes).")] = False,
    grid: Annotated[Optional[Path], typer.Option("--grid", help="Also write the created covers as one PNG: a row per concept, a column per look.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    workers: ShardWorkersOpt = 0,
    ray_address: ShardAddressOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The AI creator on the micro-video benchmark, judged on pixels: asked concept and look, CTR against what retrieval serves, FD-EffNet, memorisation, Cos@5 / PS@5 of regenerated covers, revision."""
    from generec.batch.shards import ShardConfig
    from generec.evaluation.creation import PAPER_RDM, CreatorEvalConfig, evaluate_creator

    shards = ShardConfig(workers=workers, address=ray_address)
    if users < 1 or combos < 0 or regenerate_users < 0:
        raise InputError(f"--users must be >= 1 and --combos, --regenerate-users >= 0, found {users}, {combos}, {regenerate_users}")
    cfg = CreatorEvalConfig(n_users=users, combos=combos, regenerate_users=regenerate_users, seed=seed,
                            checkpoint=str(checkpoint) if checkpoint else None, quick=quick)  # fmt: skip
    ws = _open(workspace)
    with progress_bar(quiet=json_out) as update:
        report = evaluate_creator(ws, cfg, update, shards)
    if grid is not None:
        from generec.datasets.oracle import Oracle
        from generec.evaluation.creation import sample_grid
        from generec.media.image import save_image

        oracle = Oracle.load(ws.oracle_dir)
        grid.parent.mkdir(parents=True, exist_ok=True)
        save_image(grid, sample_grid(ws, report, oracle.concepts, oracle.styles))
        report.info["grid"] = str(grid)
    stem = "evaluate-creator" + ("-quick" if quick else "") + (f"-{checkpoint.stem}" if checkpoint else "")
    if (path := _save_and_print_json(ws, stem, report.to_dict(), json_out)) is None:
        return
    a = report.asked
    out.print(f"asked ({a['n']} concept x look instructions): concept {a['concept_accuracy']:.3f}, look {a['look_accuracy']:.3f}, both {a['both']:.3f} "
              f"(cover: {a['cover_concept_accuracy']:.3f} / {a['cover_look_accuracy']:.3f}); parsed right {a['parsed_right']:.3f}; median {a['median_seconds']:.1f} s a video")  # fmt: skip
    if report.for_user:
        u = report.for_user
        out.print(f"CTR: created {u['ctr_created']:.4f}, served instead {u['ctr_served_instead']:.4f}, best satisfying {u['ctr_best_satisfying']:.4f}, "
                  f"top-5 originals {u['ctr_top5_original']:.4f}, random {u['ctr_random']:.4f}; watch created {u['watch_created']:.3f} vs served {u['watch_served_instead']:.3f}")  # fmt: skip
        out.print(f"satisfied: created {u['satisfied_created']:.3f}, served instead {u['satisfied_served_instead']:.3f}; where retrieval fails ({u['unmet_n']}): "
                  f"created satisfied {u['unmet_satisfied_created']:.3f}, CTR {u['unmet_ctr_created']:.4f} vs {u['unmet_ctr_served_instead']:.4f}")  # fmt: skip
        r = report.realism
        out.print(f"FD-EffNet {r['fd_generated']:.1f} vs real-vs-real {r['fd_real_vs_real']:.1f} (x{r['ratio']:.2f}); nearest training pHash median {r['nearest_phash_median']:.0f}, "
                  f"min {r['nearest_phash_min']:.0f} (catalogue threshold {r['near_duplicate_threshold']:.0f}: {r['copies']} copies); diversity {r['within_user_diversity']:.3f}")  # fmt: skip
        c = report.covers
        out.print(f"generated covers: Cos@5 {c['regenerated']['Cos@5']:.4f} vs original {c['original']['Cos@5']:.4f} (paper: RDM {PAPER_RDM['RDM Cos@5']}, original {PAPER_RDM['original Cos@5']}); "
                  f"PS@5 {c['regenerated']['PS@5']:.4f} vs {c['original']['PS@5']:.4f}; CTR@5 {c['regenerated']['CTR@5']:.4f} vs {c['original']['CTR@5']:.4f}")  # fmt: skip
        v = report.revision
        out.print(f"revision after a skip ({v['n']}): CTR {v['rejected_ctr']:.4f} -> {v['revision_ctr']:.4f}, improved {v['improved_share']:.2f}")
    out.print(f"written to {lit(path)}")
