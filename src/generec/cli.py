"""The `generec` command line: parse, call the library, print. No model code here."""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from generec.config import MediaLimits, load_config
from generec.datasets import BUILDERS, LOADERS
from generec.errors import GenerecError
from generec.registry import resolve
from generec.workspace import Workspace, default_path, fresh_workspace, workspace_stats

app = typer.Typer(help="generec: generative recommendation — retrieve, repurpose, create.", no_args_is_help=True, add_completion=False)
data_app = typer.Typer(help="Build, load, import and inspect data sets.", no_args_is_help=True)
app.add_typer(data_app, name="data")

out = Console()
err = Console(stderr=True)

WorkspaceOpt = Annotated[Optional[Path], typer.Option("--workspace", "-w", help="Workspace directory [default: $GENEREC_HOME, else ./workspace].", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="A TOML or JSON config file (flags override it).")]


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(_jsonable(value), indent=2) + "\n")


def handle_errors(command: Callable) -> Callable:
    """Turn generec's own errors into one red line on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except GenerecError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper


@contextmanager
def progress_bar(quiet: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """A Rich progress bar on stderr; yields `update(stage, done, total)`."""
    progress = Progress(
        TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=err, disable=quiet, transient=False,
    )  # fmt: skip
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    with progress:
        yield update


def _open(workspace: Path | None) -> Workspace:
    return Workspace.open(workspace if workspace is not None else default_path())


# data ------------------------------------------------------------------------------------------


class Size(str, Enum):
    tiny = "tiny"
    small = "small"
    default = "default"


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
    out.print(f"built [bold]{name}[/] ({size.value}) in [bold]{root}[/] in {report.seconds:.1f} s with {report.workers} worker(s)")
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
    out.print(f"loaded [bold]{name}[/] into [bold]{root}[/] from {report.source}")
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
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import your own catalogue and log into a workspace (created if missing); all or nothing."""
    from generec.datasets.importer import import_data

    limits = load_config(MediaLimits, config, section="media", overrides={"max_duration_s": max_duration, "max_pixels": max_pixels})
    ws = Workspace.open(workspace if workspace is not None else default_path(), create=True)
    with progress_bar(quiet=json_out) as update:
        report = import_data(ws, items, interactions, media_dir, users, format.value, limits, progress=update)
    if json_out:
        _print_json({"workspace": str(ws.root), **dataclasses.asdict(report)})
        return
    out.print(f"imported {report.n_items} items ({report.n_media} with media), {report.n_users} new users, {report.n_interactions} interactions into [bold]{ws.root}[/]")


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
    table = Table(title=f"workspace {s.path}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for d in s.datasets:
        table.add_row("data set", f"{d['name']}" + (f" ({d['size']})" if d.get("size") else ""))
    table.add_row("users", f"{s.users:,}")
    table.add_row("items", f"{s.items:,}  " + ", ".join(f"{k} {v:,}" for k, v in sorted(s.items_by_kind.items())))
    table.add_row("origins", ", ".join(f"{k} {v:,}" for k, v in sorted(s.items_by_origin.items())))
    table.add_row("interactions", f"{s.interactions:,}")
    for event, n in sorted(s.events.items()):
        table.add_row(f"  {event}", f"{n:,}")
    table.add_row("density", f"{s.density:.4f}")
    table.add_row("media", f"{s.media_files:,} files, {s.media_bytes / 1e6:.1f} MB")
    table.add_row("schema", f"v{s.schema_version}")
    out.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
