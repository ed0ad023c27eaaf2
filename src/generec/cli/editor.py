"""Editor commands: `generec edit cover|clip|style` (`regenerate` lives in creator.py), `evaluate editor` and `bench editor`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from generec.cli.common import (ConfigOpt, JsonOpt, ShardAddressOpt, ShardWorkersOpt, WorkspaceOpt, _open, _print_json, _save_and_print_json, bench_app, edit_app, err,
                                evaluate_app, handle_errors, lit, out, progress_bar)  # fmt: skip
from generec.config import load_config
from generec.workspace import Workspace


UserOpt = Annotated[str, typer.Option("--user", "-u", help="User id.")]
ItemOpt = Annotated[str, typer.Option("--item", "-i", help="Catalogue video item id.")]
InstructionOpt = Annotated[Optional[str], typer.Option("--instruction", help='What the user asked, e.g. "under 10 seconds, more cats".')]
PreferenceOpt = Annotated[Optional[str], typer.Option("--preference", help="User vector: concepts (default; history when the catalogue's tags are too few for a concept head), history (the paper's User_Hist) or retriever (User_Emb).")]


def _edit(op: str, user: str, item: str, instruction: str | None, preference: str | None, config: Path | None,
          workspace: Path | None, json_out: bool, compare: Path | None = None, **overrides: Any) -> None:  # fmt: skip
    from generec.editor.base import CannotSatisfy
    from generec.fidelity.gate import FidelityBlocked
    from generec.pipeline import EditConfig, edit

    # 1. config: defaults < file < flags
    cfg = load_config(EditConfig, config, section="edit", overrides={"preference": preference})
    section = getattr(cfg, op)
    cfg = dataclasses.replace(cfg, **{op: dataclasses.replace(section, **{k: v for k, v in overrides.items() if v is not None})})
    ws = _open(workspace)
    # 2. edit (a CannotSatisfy is an explicit result, exit code 2; other bad input exits 1)
    try:
        result = edit(ws, op, user, item, instruction=instruction, config=cfg)
    except FidelityBlocked as exc:  # exit code 3: the fidelity policy keeps it from anyone
        from generec.cli.fidelity import report_blocked

        report_blocked(exc, json_out, {"op": op, "user": user, "item": item, "satisfied": False})
    except CannotSatisfy as exc:
        if json_out:
            _print_json({"op": op, "user": user, "item": item, "satisfied": False, "reason": str(exc)})
        else:
            err.print(f"[bold yellow]cannot satisfy:[/] {lit(exc)}", highlight=False)
        raise typer.Exit(2) from None
    # 3. report (with the benchmark oracle's view when the workspace has one)
    _report_edit(ws, result, op, user, json_out, compare)


def _report_edit(ws: Workspace, result: Any, op: str, user: str, json_out: bool, compare: Path | None = None) -> None:
    extra: dict[str, Any] = {}
    if compare is not None:
        extra["compare"] = str(_write_comparison(ws, result, compare))
    oracle = _oracle_view(ws, result)
    if oracle:
        extra["oracle"] = oracle
    if json_out:
        _print_json({"satisfied": True, **result.to_dict(), **extra, "item": result.item})
        return
    params = ", ".join(f"{k}={v}" for k, v in result.params.items())
    out.print(f"[bold]{lit(result.item.id)}[/] — {op} of {lit(result.parent.id)} for {lit(user)} ({lit(params)})")
    out.print(f"  preference score {result.score:.3f} (unedited {result.baseline_score:.3f}), origin {result.item.origin.value}, parent {lit(result.parent.id)}")
    out.print(f"  preference: {lit(result.preference or 'none')}")
    out.print(f"  video: {lit(result.media_path)}")
    if result.cover_path:
        out.print(f"  cover: {lit(result.cover_path)}")
    for note in result.notes:
        out.print(f"  note: {lit(note)}")
    from generec.cli.fidelity import print_verdicts

    print_verdicts(result.item)
    if "compare" in extra:
        out.print(f"  original (left) vs personal (right): {lit(extra['compare'])}")
    if oracle:
        out.print("  benchmark oracle: " + ", ".join(f"{lit(k)} {v:.3f}" for k, v in oracle.items()))


def _write_comparison(ws: Workspace, result: Any, path: Path) -> Path:
    from generec.editor.cover import side_by_side
    from generec.encoders.video import _cover_source, _load_cover
    from generec.media.image import load_image, save_image

    original = _load_cover(ws, _cover_source(result.parent))
    personal = load_image(result.cover_path) if result.cover_path else original
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(path, side_by_side(original, personal))
    return path


def _oracle_view(ws: Workspace, result: Any) -> dict[str, float]:
    """What the benchmark's simulated user would do with the original and the edit (empty off-benchmark)."""
    if not (ws.oracle_dir / "truth.json").is_file():
        return {}
    from generec.datasets.oracle import ClipRef, FrameRef, Oracle

    oracle = Oracle.load(ws.oracle_dir)
    user, parent, p = result.item.provenance["user_id"], result.parent.id, result.params
    if user not in oracle.users or parent not in oracle.videos:
        return {}
    duration = oracle.videos[parent].duration
    if result.op == "regenerate":  # judged on the pixels of both covers
        from generec.encoders.video import cover_image
        from generec.media.image import load_image

        return {"P(click) original": oracle.click_prob(user, cover_image(ws, result.parent)),
                "P(click) regenerated": oracle.click_prob(user, load_image(result.cover_path))}  # fmt: skip
    if result.op == "cover":
        return {"P(click) original": oracle.click_prob(user, FrameRef(parent, 0.0)),
                "P(click) personal": oracle.click_prob(user, FrameRef(parent, min(p["t"], duration), p.get("style")))}  # fmt: skip
    if result.op == "clip":
        first = min(duration, p["end"] - p["start"])
        return {"watch share first clip": oracle.watch_value(user, ClipRef(parent, 0.0, first)).ratio,
                "watch share personal clip": oracle.watch_value(user, ClipRef(parent, p["start"], min(p["end"], duration), p.get("style"))).ratio}  # fmt: skip
    return {"watch share original": oracle.watch_value(user, ClipRef(parent, 0.0, duration)).ratio,
            "watch share restyled": oracle.watch_value(user, ClipRef(parent, 0.0, duration, p["style"])).ratio}  # fmt: skip


@edit_app.command("cover")
@handle_errors
def edit_cover(user: UserOpt, item: ItemOpt, instruction: InstructionOpt = None, preference: PreferenceOpt = None,
               compare: Annotated[Optional[Path], typer.Option("--compare", help="Also write the original and the personal cover side by side to this PNG.")] = None,
               config: ConfigOpt = None, workspace: WorkspaceOpt = None, json_out: JsonOpt = False) -> None:  # fmt: skip
    """A personal cover: the video's frame this user would most like to click (no blurred, dark or transition frames), in their look."""
    _edit("cover", user, item, instruction, preference, config, workspace, json_out, compare)


@edit_app.command("clip")
@handle_errors
def edit_clip(user: UserOpt, item: ItemOpt, instruction: InstructionOpt = None, preference: PreferenceOpt = None,
              length: Annotated[Optional[float], typer.Option("--length", help="Clip length in seconds [default: 5; guidance durations override].")] = None,
              stride: Annotated[Optional[float], typer.Option("--stride", help="Window stride in seconds [default: 0.5].")] = None,
              config: ConfigOpt = None, workspace: WorkspaceOpt = None, json_out: JsonOpt = False) -> None:  # fmt: skip
    """A personal clip: the window this user would watch longest, cut to a new MP4 (audio kept)."""
    _edit("clip", user, item, instruction, preference, config, workspace, json_out, length_s=length, stride_s=stride)


@edit_app.command("style")
@handle_errors
def edit_style(user: UserOpt, item: ItemOpt, instruction: InstructionOpt = None, preference: PreferenceOpt = None,
               config: ConfigOpt = None, workspace: WorkspaceOpt = None, json_out: JsonOpt = False) -> None:  # fmt: skip
    """Restyle the video (cartoon, sketch, warm, cool, bright, dark, vivid, muted, black and white); without an instruction the look comes from the user's history."""
    _edit("style", user, item, instruction, preference, config, workspace, json_out)


@evaluate_app.command("editor")
@handle_errors
def evaluate_editor_cmd(
    users: Annotated[int, typer.Option("--users", help="Test users sampled (seeded).")] = 200,
    clip_length: Annotated[float, typer.Option("--clip-length", help="Clip length in seconds.")] = 5.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    no_look_tags: Annotated[bool, typer.Option("--no-look-tags", help="Remove every look word (the benchmark's list) from the items' tags before the product reads them.")] = False,
    workers: ShardWorkersOpt = 0,
    ray_address: ShardAddressOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The paper's editing protocol on the micro-video benchmark: Cos@K, PS@K and the oracle's CTR@K / watch@K, judged from the pixels shown."""
    from generec.batch.shards import ShardConfig
    from generec.encoders.image import get_image_encoder
    from generec.evaluation.editing import EditorEvalConfig, evaluate_editor

    shards = ShardConfig(workers=workers, address=ray_address)
    ws = _open(workspace)
    with progress_bar(quiet=json_out) as update:
        report = evaluate_editor(ws, get_image_encoder(), EditorEvalConfig(n_users=users, clip_length_s=clip_length, seed=seed, strip_look_tags=no_look_tags), update, shards)
    if (path := _save_and_print_json(ws, "evaluate-editor" + ("-no-look-tags" if no_look_tags else ""), report.to_dict(), json_out)) is None:
        return
    info = report.info
    tags = "look tags on" if info.get("look_tags", True) else "look words removed from tags"
    for title, rows, metrics in (("covers", report.covers, ("cos", "ps", "ctr", "ctr_label")), ("clips", report.clips, ("cos", "ps", "watch", "seconds", "watch_label"))):
        table = Table(title=f"editor — {title}: {info['users']} test users × top-K of the multimodal retriever, seed {info['seed']}, {tags}; ctr / watch judged from pixels, *_label: if the look were rendered perfectly", title_justify="left")
        cols = [f"{m}@{k}" for m in metrics for k in (5, 10)]
        table.add_column("row")
        for c in cols:
            table.add_column(c, justify="right")
        for row, vals in rows.items():
            table.add_row(row, *(f"{vals[c]:.4f}" for c in cols))
        out.print(table)
    out.print("paper (MicroLens, CLIP features), thumbnail Cos@5: " + ", ".join(f"{k} {v:.4f}" for k, v in report.paper.items()))
    base, ours = report.covers["original cover"], report.covers[next(r for r in report.covers if r.startswith("generec"))]
    out.print(f"generec cover vs original: CTR@5 {ours['ctr@5'] / base['ctr@5'] - 1:+.1%} (pixels; label {ours['ctr_label@5'] / base['ctr_label@5'] - 1:+.1%}), Cos@5 {ours['cos@5'] / base['cos@5'] - 1:+.1%}")
    for who in ("product", "benchmark"):
        if info.get(f"judge_on_{who}_looks"):
            out.print(f"oracle's judge on the {who}'s renders of held-out natural frames, accuracy per look: " + ", ".join(f"{k} {v:.2f}" for k, v in info[f"judge_on_{who}_looks"].items()))
    if info.get("generec_covers_restyled"):
        out.print(f"restyled generec covers the oracle's judge sees in the look applied: {info['restyled_judged_in_their_look']} of {info['generec_covers_restyled']}")
    out.print(f"written to {lit(path)}")


@bench_app.command("editor")
@handle_errors
def bench_editor_cmd(
    videos: Annotated[int, typer.Option("--videos", help="Videos (seeded sample of the workspace's catalogue).")] = 100,
    users: Annotated[int, typer.Option("--users", help="Users per video for the warm-cache pass.")] = 20,
    repeats: Annotated[int, typer.Option(help="Runs per measurement; medians are reported.")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    backends: Annotated[str, typer.Option("--backends", help="Image-encoder backends to compare, comma-separated: torch, onnx, onnx-int8.")] = "torch,onnx,onnx-int8",
    threads: Annotated[int, typer.Option("--threads", help="Intra-op threads of torch and of the encoders (0: torch's default).")] = 0,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Covers selected per second by each encoder backend against decode-only throughput of the same videos."""
    import torch

    from generec.encoders.image import ImageEncoderConfig, get_image_encoder
    from generec.evaluation.editor_bench import bench_editor
    from generec.errors import InputError

    # 1. encoders (a bad backend name is refused before anything runs)
    names = [b.strip() for b in backends.split(",") if b.strip()]
    if threads < 0:
        raise InputError(f"--threads: expected >= 0, found {threads}")
    if threads:
        torch.set_num_threads(threads)
    encoders = [get_image_encoder(ImageEncoderConfig(backend=b, num_threads=threads)) for b in names]
    # 2. bench
    ws = _open(workspace)
    with progress_bar(quiet=json_out) as update:
        bench = bench_editor(ws, encoders, videos, users, repeats, seed, progress=update)
    if (path := _save_and_print_json(ws, "bench-editor", bench.to_dict(), json_out)) is None:
        return
    # 3. table
    table = Table(title=f"cover selection vs decode-only: {bench.videos} videos ({bench.frames:,} frames), median of {bench.repeats}, {lit(bench.machine)}, {bench.threads} torch threads", title_justify="left")
    for col in ("pass", "backend", "seconds", "per second", "ratio to decode"):
        table.add_column(col, justify="left" if col in ("pass", "backend") else "right")
    table.add_row("decode only (every frame, RGB)", "", f"{bench.decode_s:.2f}", f"{bench.videos_decoded_per_s:.1f} videos", "1.00")
    for b in bench.backends:
        table.add_row(f"cold cache, serial ({b.keyframes} keyframes)", b.backend, f"{b.select_cold_serial_s:.2f}", f"{b.covers_per_s_cold_serial:.1f} covers", f"{b.ratio_cold_serial:.2f}")
        table.add_row("cold cache, decode overlapped", b.backend, f"{b.select_cold_s:.2f}", f"{b.covers_per_s_cold:.1f} covers", f"{b.ratio_cold:.2f}")
        table.add_row(f"cached keyframes ({bench.users} users/video)", b.backend, f"{b.select_warm_s:.2f}", f"{b.covers_per_s_warm:.1f} covers", f"{b.ratio_warm:.2f}")
    out.print(table)
    out.print(f"written to {lit(path)}")
