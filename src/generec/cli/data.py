"""`generec data`: build, load, import and inspect data sets."""

from __future__ import annotations

import dataclasses
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from generec.cli.common import (ConfigOpt, JsonOpt, Size, WorkspaceOpt, _open, _print_json, data_app, err, handle_errors, lit, out,
                                progress_bar)  # fmt: skip
from generec.config import MediaLimits, load_config
from generec.datasets import BUILDERS, LOADERS
from generec.registry import resolve
from generec.workspace import Workspace, default_path, fresh_workspace, workspace_stats


class ImportFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"
    microlens = "microlens"


@data_app.command("build")
@handle_errors
def data_build(
    name: Annotated[str, typer.Argument(help=f"Data set to build: {', '.join(BUILDERS.names())}.")],
    size: Annotated[Size, typer.Option(help="tiny (tests), small (demo), default (benchmark).")] = Size.small,
    seed: Annotated[Optional[int], typer.Option(help="Random seed; the same seed gives the same data set.")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Render processes [default: one per CPU core].")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing workspace.")] = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Build a benchmark data set (videos, users, simulated log, oracle) into a new workspace."""
    from generec.datasets.microvideo import SIZES, MicrovideoConfig

    # 1. check inputs
    build = resolve(BUILDERS[name])
    base = SIZES[size.value]
    cfg = load_config(MicrovideoConfig, config, section="microvideo", overrides={"seed": seed, "workers": workers})
    if config is None:
        cfg = dataclasses.replace(base, **{k: v for k, v in {"seed": seed, "workers": workers}.items() if v is not None})
    root = workspace if workspace is not None else default_path()
    # 2. build into a fresh workspace that replaces `root` only on success
    with progress_bar(quiet=json_out) as update, fresh_workspace(root, overwrite) as ws:
        report = build(ws, cfg, size=size.value, progress=update)
    # 3. report
    if json_out:
        _print_json({"workspace": str(root), **dataclasses.asdict(report)})
        return
    out.print(f"built [bold]{lit(name)}[/] ({size.value}) in [bold]{lit(root)}[/] in {report.seconds:.1f} s with {report.workers} worker(s)")
    if hasattr(report, "judge_style_accuracy"):
        out.print(f"oracle's judge, held-out videos ({report.judge_test_videos}): concept accuracy {report.judge_concept_accuracy:.3f}, style accuracy {report.judge_style_accuracy:.3f}")
    _print_stats(_open(root))


@data_app.command("load")
@handle_errors
def data_load(
    name: Annotated[str, typer.Argument(help=f"Data set to load: {', '.join(LOADERS.names())}.")],
    overwrite: Annotated[bool, typer.Option(help="Replace an existing workspace.")] = False,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Load a data set shipped by an installed package (no download) into a new workspace."""
    load = resolve(LOADERS[name])
    root = workspace if workspace is not None else default_path()
    started = time.perf_counter()
    with fresh_workspace(root, overwrite) as ws:
        report = load(ws)
    if json_out:
        _print_json({"workspace": str(root), "seconds": time.perf_counter() - started, **dataclasses.asdict(report)})
        return
    out.print(f"loaded [bold]{lit(name)}[/] into [bold]{lit(root)}[/] from {lit(report.source)}")
    _print_stats(_open(root))


@data_app.command("import")
@handle_errors
def data_import(
    items: Annotated[Path, typer.Option(help="Items table: item_id[, title, text, tags, kind, media, uploader, created_at].")],
    interactions: Annotated[Path, typer.Option(help="Interactions table: user_id, item_id, timestamp[, event, value].")],
    media_dir: Annotated[Optional[Path], typer.Option(help="Folder that the items' media paths are relative to.")] = None,
    users: Annotated[Optional[Path], typer.Option(help="Users table (user_id); interactions of other users are refused.")] = None,
    format: Annotated[ImportFormat, typer.Option("--format", help="Table format; microlens reads the MicroLens layout.")] = ImportFormat.csv,
    max_duration: Annotated[Optional[float], typer.Option(help="Refuse videos longer than this (s).")] = None,
    max_pixels: Annotated[Optional[int], typer.Option(help="Refuse media with more pixels than this.")] = None,
    downscale: Annotated[bool, typer.Option("--downscale", help="Shrink videos with more pixels than the limit to fit it, instead of refusing them.")] = False,
    allow_outside_media_dir: Annotated[bool, typer.Option("--allow-outside-media-dir", help="Take media paths as written: '..', absolute paths outside --media-dir and symbolic links [default: refused].")] = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import your own catalogue and log into a workspace (created if missing); all or nothing."""
    from generec.store.importer import ImportConfig, import_data

    # 1. config: defaults < file < flags
    limits = load_config(MediaLimits, config, section="media", overrides={"max_duration_s": max_duration, "max_pixels": max_pixels, "oversize": "downscale" if downscale else None})
    cfg = load_config(ImportConfig, config, section="import", overrides={"allow_outside_media_dir": allow_outside_media_dir or None})
    # 2. import while holding the workspace's lock (a second import waits for the first)
    ws = Workspace.open(workspace if workspace is not None else default_path(), create=True)
    with ws.lock(f"import {items.name}", cfg.lock_timeout_s, on_wait=lambda m: err.print(Text(m), highlight=False, soft_wrap=True)):
        with progress_bar(quiet=json_out) as update:
            report = import_data(ws, items, interactions, media_dir, users, format.value, limits, progress=update, config=cfg)
    # 3. report
    if json_out:
        _print_json({"workspace": str(ws.root), **dataclasses.asdict(report)})
        return
    out.print(f"imported {report.n_items} items ({report.n_media} with media), {report.n_users} new users, {report.n_interactions} interactions into [bold]{lit(ws.root)}[/]")


@data_app.command("stats")
@handle_errors
def data_stats(workspace: WorkspaceOpt = None, json_out: JsonOpt = False) -> None:
    """Counts of users, items, interactions and media in a workspace."""
    ws = _open(workspace)
    if json_out:
        _print_json(workspace_stats(ws))
        return
    _print_stats(ws)


def _print_stats(ws: Workspace) -> None:
    s = workspace_stats(ws)
    table = Table(title=f"workspace {lit(s.path)}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for d in s.datasets:
        table.add_row("data set", lit(d["name"]) + (f" ({lit(d['size'])})" if d.get("size") else ""))
    table.add_row("users", f"{s.users:,}")
    table.add_row("items", f"{s.items:,}  " + ", ".join(f"{lit(k)} {v:,}" for k, v in sorted(s.items_by_kind.items())))
    table.add_row("origins", ", ".join(f"{lit(k)} {v:,}" for k, v in sorted(s.items_by_origin.items())))
    table.add_row("interactions", f"{s.interactions:,}")
    for event, n in sorted(s.events.items()):
        table.add_row(f"  {lit(event)}", f"{n:,}")
    table.add_row("density", f"{s.density:.4f}")
    table.add_row("media", f"{s.media_files:,} files, {s.media_bytes / 1e6:.1f} MB")
    table.add_row("schema", f"v{s.schema_version}")
    out.print(table)
