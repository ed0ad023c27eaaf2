"""The `generec` command line: parse, call the library, print. No model code here."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from generec.config import MediaLimits, load_config
from generec.datasets import BUILDERS, LOADERS
from generec.errors import GenerecError, InputError, describe_os_error
from generec.registry import resolve
from generec.types import Origin
from generec.workspace import Workspace, default_path, fresh_workspace, workspace_stats

# help texts are shown as written (no Rich markup), so "[default: ...]" is not taken for a tag; the
# mode set here is used by every sub-command
app = typer.Typer(help="generec: generative recommendation — retrieve, repurpose, create.", no_args_is_help=True, add_completion=False,
                  rich_markup_mode=None, pretty_exceptions_enable=False)
data_app = typer.Typer(help="Build, load, import and inspect data sets.", no_args_is_help=True)
app.add_typer(data_app, name="data")
evaluate_app = typer.Typer(help="Evaluate a component with the project's protocols.", no_args_is_help=True)
app.add_typer(evaluate_app, name="evaluate")
bench_app = typer.Typer(help="Benchmarks: every model and baseline in one run, results as a table and JSON.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
edit_app = typer.Typer(help="AI editor: repurpose a catalogue video for one user (a new, AI-edited item).", no_args_is_help=True)
app.add_typer(edit_app, name="edit")

out = Console(width=None if sys.stdout.isatty() else 200)  # scripts and CI get whole tables
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


def lit(value: Any) -> str:
    """`value` as literal text inside Rich markup: "[x]" in an id, a title, a path or a note is printed as is."""
    return escape(str(value))


_state = {"debug": False}


@app.callback()
def _global_options(
    debug: Annotated[bool, typer.Option("--debug", envvar="GENEREC_DEBUG", help="On an error, also print the Python traceback.")] = False,
) -> None:
    _state["debug"] = debug


def _debug() -> bool:
    return _state["debug"] or os.environ.get("GENEREC_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}


def error_message(exc: BaseException) -> str:
    """One line for any error: generec's own as written; others with their type, OS errors in plain words."""
    if isinstance(exc, GenerecError):
        return re.sub(r"\[Errno -?\d+\] ", "", str(exc))  # an OS error's text quoted inside one of ours
    if isinstance(exc, OSError):
        text = describe_os_error(exc)
    else:
        text = " ".join(str(exc).split()) or "no message"
        text = text if len(text) <= 300 else text[:297] + "..."
    return f"{text} ({type(exc).__name__})" + ("" if _debug() else "; rerun with --debug for the traceback")


def _report_error(exc: BaseException) -> None:
    if _debug():
        traceback.print_exception(exc, file=sys.stderr)
    # a Text, not markup: "[...]" in a path or an id is printed as is
    err.print(Text.assemble(("error: ", "bold red"), error_message(exc)), highlight=False, soft_wrap=True)


def handle_errors(command: Callable) -> Callable:
    """Turn every error into one red line on stderr and exit code 1 (with --debug, the traceback too)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, click.exceptions.Exit, click.exceptions.Abort, click.ClickException, BrokenPipeError):
            raise  # the CLI's own exits and usage errors, and `| head`, are click's to handle
        except KeyboardInterrupt:
            err.print("interrupted", style="bold red", highlight=False)
            raise typer.Exit(130) from None
        except Exception as exc:
            _report_error(exc)
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
        if not tasks:
            progress.start()  # on the first update only: a command that fails early prints no empty bar
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    try:
        yield update
    finally:
        if tasks:
            progress.stop()


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
    from generec.datasets.importer import ImportConfig, import_data

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


# retrieval -------------------------------------------------------------------------------------

DEFAULT_MODELS = ("mostpop", "itemknn", "ease", "bpr", "lightgcn", "multimodal", "implicit-als", "implicit-bpr")


def _split_for(ws: Workspace, split: Optional[str]) -> str:
    if split:
        return split
    return "microvideo" if any(d["split"] for d in ws.datasets.all()) else "temporal"


def _features_for(ws: Workspace, update: Callable | None = None) -> Callable[[], Any]:
    from generec.encoders.item import item_features

    return lambda: item_features(ws, ws.items.all(origin=Origin.HUMAN), update)


@app.command("train")
@handle_errors
def train(
    model: Annotated[str, typer.Option("--model", "-m", help="Retriever to train (see `generec train --help`), or `bridge`: the editor's text-image bridge on the catalogue's (title + tags, cover) pairs.")] = "ease",
    budget: Annotated[int, typer.Option(help="Hyperparameter configurations to try on the validation split (1: defaults only).")] = 1,
    split: Annotated[Optional[str], typer.Option(help="Split to tune on: temporal, random, microvideo [default: the data set's own].")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    epochs: Annotated[Optional[int], typer.Option("--epochs", help="Training epochs of --model bridge [default: 30, early-stopped on held-out pairs].")] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Train a retriever on all of the workspace's positives and save it to models/NAME (or the text-image bridge to models/bridge)."""
    import dataclasses as dc

    from generec.retrieval import RETRIEVERS
    from generec.retrieval.data import full_data, make_split
    from generec.retrieval.serving import save_current
    from generec.retrieval.trainer import default_config, tune_and_fit

    # 1. check inputs
    if model == "bridge":
        _train_bridge(_open(workspace), epochs, seed, json_out)
        return
    if epochs is not None:
        raise InputError(f"--epochs applies to --model bridge only, not to the retriever {model!r}")
    cls = RETRIEVERS[model]
    if budget < 1:
        raise InputError(f"--budget must be at least 1, got {budget}")
    ws = _open(workspace)
    started = time.perf_counter()
    with progress_bar(quiet=json_out) as update:
        # 2. tune on the validation split when asked
        valid = None
        config = default_config(model, seed)
        if budget > 1:
            sp_ = make_split(ws, _split_for(ws, split), seed=seed)
            if cls.uses_item_features:
                from generec.evaluation.protocols import attach_features

                attach_features(sp_, _features_for(ws, update)())
            tuned = tune_and_fit(model, sp_, budget=budget, seed=seed, progress=update)
            config, valid = cls.config_cls(**tuned.config), tuned.valid
        # 3. fit on everything and save
        data = full_data(ws)
        if cls.uses_item_features:
            data.item_features = _features_for(ws, update)()
        fitted = cls(config).fit(data, progress=lambda e, n: update(f"train {model}", e, n))
        path = save_current(ws, fitted)
    result = {"model": model, "path": str(path), "config": dc.asdict(config), "data_hash": data.data_hash, "valid_ndcg@20": valid,
              "users": data.n_users, "items": data.n_items, "positives": int(data.matrix.nnz), "seconds": time.perf_counter() - started}
    if json_out:
        _print_json(result)
        return
    out.print(f"trained [bold]{lit(model)}[/] on {data.n_users:,} users x {data.n_items:,} items ({data.matrix.nnz:,} positives) in {result['seconds']:.1f} s")
    if valid is not None:
        out.print(f"best of {budget} configurations: validation NDCG@20 {valid:.4f}")
    out.print(f"saved to {lit(path)}")


def _train_bridge(ws: Workspace, epochs: int | None, seed: int, json_out: bool) -> None:
    """`train --model bridge`: the contrastive bridge on the catalogue's pairs, saved to models/bridge."""
    from generec.encoders.bridge import BridgeConfig, fit_catalogue_bridge

    # 1. config (epochs and seed from the flags), checked before any model loads
    cfg = BridgeConfig(seed=seed, **({"epochs": epochs} if epochs is not None else {}))
    if cfg.epochs < 1:
        raise InputError(f"--epochs must be at least 1, got {cfg.epochs}")
    # 2. fit on every item with a cover and some text, and save
    started = time.perf_counter()
    with progress_bar(quiet=json_out) as update:
        bridge = fit_catalogue_bridge(ws, cfg, update)
    log = bridge.train_log_
    chance = 1.0 / log.n_valid if log.n_valid else None  # recall@1 of a random ranking
    result = {"model": "bridge", "path": str(ws.root / "models" / "bridge"), "config": dataclasses.asdict(cfg),
              "pairs": log.n_train + log.n_valid, "held_out": log.n_valid, "epochs": log.epochs, "best_epoch": log.best_epoch,
              "held_out_recall@1": log.best_recall, "chance_recall@1": chance, "seconds": time.perf_counter() - started}  # fmt: skip
    # 3. report
    if json_out:
        _print_json(result)
        return
    out.print(f"trained [bold]bridge[/] on {result['pairs']:,} (title + tags, cover) pairs: {log.epochs} epochs, kept epoch {log.best_epoch}, in {result['seconds']:.1f} s")
    if log.best_recall is not None:
        out.print(f"held-out text -> cover recall@1 {log.best_recall:.3f} over {log.n_valid} pairs (chance {chance:.3f})")
    out.print(f"saved to {lit(result['path'])}; `generec edit` blends it with the zero-shot bridge")


@app.command("recommend")
@handle_errors
def recommend(
    user: Annotated[str, typer.Option("--user", "-u", help="User id.")],
    k: Annotated[int, typer.Option("-k", help="How many items.")] = 10,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="A trained model [default: the last one trained].")] = None,
    like: Annotated[Optional[list[str]], typer.Option("--like", help="Items a new user liked: fold them in instead of using --user's history.")] = None,
    exclude: Annotated[Optional[list[str]], typer.Option("--exclude", help="Items never to recommend.")] = None,
    include_seen: Annotated[bool, typer.Option(help="Allow items the user already interacted with.")] = False,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Recommend catalogue items for a user with a trained retriever."""
    from generec.retrieval.base import Constraints
    from generec.retrieval.serving import load_current

    # 1. the model; -k above its catalogue gives what exists
    ws = _open(workspace)
    retriever = load_current(ws, model)
    n_items = retriever.data_.n_items
    asked, k = k, min(k, n_items)
    # 2. rank
    constraints = Constraints(exclude=frozenset(exclude or ()))
    if like:
        rec = retriever.recommend_for_vector(retriever.fold_in(like), k, exclude=like, constraints=constraints, user_id=user)
        rec.fallback = "fold-in of --like items"
    else:
        rec = retriever.recommend(user, k, exclude_seen=not include_seen, constraints=constraints)
    note = None
    if len(rec.items) < asked:
        left = f"; the other {n_items - len(rec.items)} are seen or excluded" if len(rec.items) < n_items else ""
        note = f"{len(rec.items)} items, not {asked}: the catalogue of {rec.model} has {n_items} items{left}"
    # 3. report
    if json_out:
        _print_json({**dataclasses.asdict(rec), "note": note})
        return
    items = {i.id: i for i in ws.items.all()}
    if note:
        err.print(Text(f"note: {note}"), highlight=False, soft_wrap=True)
    table = Table(title=lit(f"top {len(rec.items)} for {user} ({rec.model})" + (f" — {rec.fallback}" if rec.fallback else "")), title_justify="left")
    for col in ("#", "item", "score", "title"):
        table.add_column(col)
    for n, s in enumerate(rec.items, 1):
        table.add_row(str(n), lit(s.item_id), f"{s.score:.4f}", lit(items[s.item_id].title) if s.item_id in items else "")
    out.print(table)


@evaluate_app.command("retrieval")
@handle_errors
def evaluate_retrieval(
    model: Annotated[str, typer.Option("--model", "-m", help="Retriever to evaluate.")] = "ease",
    split: Annotated[Optional[str], typer.Option(help="temporal, random or microvideo [default: the data set's own].")] = None,
    budget: Annotated[int, typer.Option(help="Configurations to try on validation.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Full-ranking evaluation: train on the split's training part, test on its held-out part."""
    from generec.evaluation.protocols import bench_retrieval

    ws = _open(workspace)
    with progress_bar(quiet=json_out) as update:
        bench = bench_retrieval(ws, ws.root.name, [_split_for(ws, split)], [model], budget, seed, features=_features_for(ws, update), progress=update)
    _report_bench(ws, bench, json_out, "evaluate-retrieval")


@bench_app.command("retrieval")
@handle_errors
def bench_retrieval_cmd(
    dataset: Annotated[str, typer.Option(help="movielens-100k or microvideo.")] = "movielens-100k",
    models: Annotated[str, typer.Option(help="Comma-separated retrievers.")] = ",".join(DEFAULT_MODELS),
    splits: Annotated[Optional[str], typer.Option(help="Comma-separated splits [default: temporal,random for movielens-100k; microvideo for microvideo].")] = None,
    budget: Annotated[int, typer.Option(help="Configurations per model, the same for every model and baseline.")] = 8,
    size: Annotated[Size, typer.Option(help="Benchmark size when the microvideo workspace must be built.")] = Size.default,
    latency_items: Annotated[int, typer.Option(help="Also time recommend() over a synthetic catalogue of this many items (0: skip).")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    workspace: Annotated[Optional[Path], typer.Option("--workspace", "-w", help="Workspace holding the data set [default: bench/DATASET, created if missing].")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Train every model and the implicit baselines in one run; print one table, write JSON to reports/."""
    from generec.datasets.microvideo import SIZES
    from generec.evaluation.protocols import bench_retrieval
    from generec.retrieval import RETRIEVERS

    # 1. check inputs
    names = [m.strip() for m in models.split(",") if m.strip()]
    for name in names:
        RETRIEVERS[name]
    if dataset not in ("movielens-100k", "microvideo"):
        raise InputError(f"unknown data set {dataset!r} for the retrieval benchmark; valid: movielens-100k, microvideo")
    split_names = [s.strip() for s in splits.split(",")] if splits else (["temporal", "random"] if dataset == "movielens-100k" else ["microvideo"])
    root = workspace if workspace is not None else Path("bench") / dataset
    with progress_bar(quiet=json_out) as update:
        # 2. the data set's workspace, made if missing
        if not (root / "generec.db").exists():
            with fresh_workspace(root) as ws:
                if dataset == "movielens-100k":
                    resolve(LOADERS[dataset])(ws)
                else:
                    resolve(BUILDERS[dataset])(ws, SIZES[size.value], size=size.value, progress=update)
        ws = _open(root)
        # 3. the benchmark
        bench = bench_retrieval(ws, dataset, split_names, names, budget, seed, latency_items, features=_features_for(ws, update), progress=update)
    _report_bench(ws, bench, json_out, f"bench-retrieval-{dataset}")


def _save_report(ws: Workspace, stem: str, data: Any) -> Path:
    """Write a command's results to `reports/STEM.json` in the workspace; returns the path."""
    path = ws.path("reports") / f"{stem}.json"
    path.write_text(json.dumps(_jsonable(data), indent=2))
    return path


def _save_and_print_json(ws: Workspace, stem: str, data: Any, json_out: bool) -> Path | None:
    """Save the report; with --json also print it and return None (nothing more to print)."""
    path = _save_report(ws, stem, data)
    if json_out:
        _print_json(data)
        return None
    return path


def _report_bench(ws: Workspace, bench: Any, json_out: bool, stem: str) -> None:
    if (path := _save_and_print_json(ws, stem, bench, json_out)) is None:
        return
    table = Table(title=f"{lit(bench.dataset)}: {bench.n_users:,} users, {bench.n_items:,} items — budget {bench.budget} configs/model, seed {bench.seed}, {lit(bench.machine)}", title_justify="left")
    for col in ("split", "model", "NDCG@10", "NDCG@20", "Recall@20", "Hit@10", "MRR@10", "Cov@20", "valid", "tune s", "fit s", "rec ms", "cold NDCG@20"):
        table.add_column(col, justify="right" if col not in ("split", "model") else "left")
    for r in bench.rows:
        m = r.metrics
        table.add_row(lit(r.split), lit(r.model), f"{m['ndcg@10']:.4f}", f"{m['ndcg@20']:.4f}", f"{m['recall@20']:.4f}", f"{m['hit@10']:.4f}", f"{m['mrr@10']:.4f}",
                      f"{m['coverage@20']:.3f}", f"{r.valid:.4f}", f"{r.tune_seconds:.1f}", f"{r.fit_seconds:.1f}", f"{r.latency_ms:.2f}",
                      f"{r.cold['ndcg@20']:.4f}" if r.cold else "")  # fmt: skip
    out.print(table)
    if bench.latency_catalogue:
        out.print(f"recommend latency over {bench.latency_items:,} items (median ms): " + ", ".join(f"{lit(k)} {v:.2f}" for k, v in bench.latency_catalogue.items()))
    out.print(f"written to {lit(path)}")


# editor ----------------------------------------------------------------------------------------

UserOpt = Annotated[str, typer.Option("--user", "-u", help="User id.")]
ItemOpt = Annotated[str, typer.Option("--item", "-i", help="Catalogue video item id.")]
InstructionOpt = Annotated[Optional[str], typer.Option("--instruction", help='What the user asked, e.g. "under 10 seconds, more cats".')]
PreferenceOpt = Annotated[Optional[str], typer.Option("--preference", help="User vector: concepts (default; history when the catalogue's tags are too few for a concept head), history (the paper's User_Hist) or retriever (User_Emb).")]


def _edit(op: str, user: str, item: str, instruction: str | None, preference: str | None, config: Path | None,
          workspace: Path | None, json_out: bool, compare: Path | None = None, **overrides: Any) -> None:  # fmt: skip
    from generec.editor.base import CannotSatisfy
    from generec.pipeline import EditConfig, edit

    # 1. config: defaults < file < flags
    cfg = load_config(EditConfig, config, section="edit", overrides={"preference": preference})
    section = getattr(cfg, op)
    cfg = dataclasses.replace(cfg, **{op: dataclasses.replace(section, **{k: v for k, v in overrides.items() if v is not None})})
    ws = _open(workspace)
    # 2. edit (a CannotSatisfy is an explicit result, exit code 2; other bad input exits 1)
    try:
        result = edit(ws, op, user, item, instruction=instruction, config=cfg)
    except CannotSatisfy as exc:
        if json_out:
            _print_json({"op": op, "user": user, "item": item, "satisfied": False, "reason": str(exc)})
        else:
            err.print(f"[bold yellow]cannot satisfy:[/] {lit(exc)}", highlight=False)
        raise typer.Exit(2) from None
    # 3. report (with the benchmark oracle's view when the workspace has one)
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
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The paper's editing protocol on the micro-video benchmark: Cos@K, PS@K and the oracle's CTR@K / watch@K, judged from the pixels shown."""
    from generec.encoders.image import get_image_encoder
    from generec.evaluation.editing import EditorEvalConfig, evaluate_editor

    ws = _open(workspace)
    with progress_bar(quiet=json_out) as update:
        report = evaluate_editor(ws, get_image_encoder(), EditorEvalConfig(n_users=users, clip_length_s=clip_length, seed=seed, strip_look_tags=no_look_tags), update)
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
    out.print(f"written to {path}")


@bench_app.command("editor")
@handle_errors
def bench_editor_cmd(
    videos: Annotated[int, typer.Option("--videos", help="Videos (seeded sample of the workspace's catalogue).")] = 100,
    users: Annotated[int, typer.Option("--users", help="Users per video for the warm-cache pass.")] = 20,
    repeats: Annotated[int, typer.Option(help="Runs per measurement; medians are reported.")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Covers selected per second against decode-only throughput of the same videos."""
    from generec.encoders.image import get_image_encoder
    from generec.evaluation.editing import bench_editor

    ws = _open(workspace)
    with progress_bar(quiet=json_out) as update:
        bench = bench_editor(ws, get_image_encoder(), videos, users, repeats, seed, progress=update)
    if (path := _save_and_print_json(ws, "bench-editor", bench.to_dict(), json_out)) is None:
        return
    table = Table(title=f"cover selection vs decode-only: {bench.videos} videos ({bench.frames:,} frames), median of {bench.repeats}, {lit(bench.machine)}, {bench.threads} threads", title_justify="left")
    for col in ("pass", "seconds", "per second", "ratio to decode"):
        table.add_column(col, justify="right" if col != "pass" else "left")
    table.add_row("decode only (every frame, RGB)", f"{bench.decode_s:.2f}", f"{bench.videos_decoded_per_s:.1f} videos", "1.00")
    table.add_row("cover selection, cold cache (1 user/video)", f"{bench.select_cold_s:.2f}", f"{bench.covers_per_s_cold:.1f} covers", f"{bench.ratio_cold:.2f}")
    table.add_row(f"cover selection, cached keyframes ({bench.users} users/video)", f"{bench.select_warm_s:.2f}", f"{bench.covers_per_s_warm:.1f} covers", f"{bench.ratio_warm:.2f}")
    out.print(table)
    out.print(f"written to {lit(path)}")


# instructor ------------------------------------------------------------------------------------


def _print_guidance(g: Any) -> None:
    table = Table(title=f"guidance ({lit(g.source)}, confidence {g.confidence:.2f})", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    chosen = any(n.startswith("activation: ") and "stays as parsed" not in n for n in g.notes)
    rows = {"mode": f"{g.mode}" + (" (asked)" if g.mode_explicit else " (chosen by activation)" if chosen else ""), "edit op": g.edit_op, "include": ", ".join(g.include),
            "exclude": ", ".join(g.exclude), "style": g.style, "max duration": g.max_duration_s and f"{g.max_duration_s:g} s",
            "min duration": g.min_duration_s and f"{g.min_duration_s:g} s", "target item": g.target_item,
            "user vector": g.user_vector, "question": g.clarify, "text": g.text}  # fmt: skip
    for k, v in rows.items():
        if v not in (None, ""):
            table.add_row(k, lit(v))
    for note in g.notes:
        table.add_row("note", lit(note))
    out.print(table)


ParserOpt = Annotated[Optional[str], typer.Option("--parser", help="Instruction parser: embedded (rules + MiniLM, offline) or llm (an OpenAI-compatible endpoint) [default: embedded, or [parser] backend in --config].")]
LLMUrlOpt = Annotated[Optional[str], typer.Option("--llm-url", help="With --parser llm: the endpoint's base URL, e.g. http://127.0.0.1:8080/v1.")]
LLMModelOpt = Annotated[Optional[str], typer.Option("--llm-model", help="With --parser llm: the served model's name.")]


def _instruction_parser(parser: str | None, llm_url: str | None, llm_model: str | None, config: Path | None):
    from generec.instructor.llm import build_parser, parser_settings
    from generec.pipeline import get_parser

    return build_parser(parser_settings(config, parser, llm_url, llm_model), get_parser())


def _guidance_dict(g: Any) -> dict[str, Any]:
    d = json.loads(g.to_json())
    if d.get("vector") is not None:
        d["vector"] = f"<{len(d['vector'])} floats>"
    return d


@app.command("instruct")
@handle_errors
def instruct(
    text: Annotated[Optional[str], typer.Argument(help='The instruction, e.g. "no more cats, something calm under 10 seconds". Omit it for guidance from feedback alone.')] = None,
    user: Annotated[Optional[str], typer.Option("--user", "-u", help="User id (the batch file may name its own).")] = None,
    session: Annotated[Optional[str], typer.Option("--session", "-s", help="Dialogue session: later turns refine earlier ones [default: default].")] = None,
    apply_feed: Annotated[bool, typer.Option("--apply", help="Also serve the resulting feed: retrieved items, or the edited items for repurpose.")] = False,
    k: Annotated[int, typer.Option("-k", help="Feed length with --apply.")] = 10,
    batch: Annotated[Optional[Path], typer.Option("--batch", help="A JSONL file, one {text, user?, session?} per line; writes one guidance JSON per line.")] = None,
    parser: ParserOpt = None,
    llm_url: LLMUrlOpt = None,
    llm_model: LLMModelOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Turn an instruction plus the user's feedback into guidance, and decide to retrieve, repurpose or create."""
    from generec.instructor.instructor import Instructor

    # 1. check inputs
    if batch is None and user is None:
        raise InputError("--user is required (or give --batch FILE.jsonl)")
    if batch is not None and text is not None:
        raise InputError("give an instruction or --batch, not both")
    reader = _instruction_parser(parser, llm_url, llm_model, config)
    ws = _open(workspace)
    instructor = Instructor(ws, parser=reader)  # models load once, for every line of a batch
    # 2. a batch: one guidance per line, errors reported per line
    if batch is not None:
        if not batch.is_file():
            raise InputError(f"batch file {batch} does not exist")
        failed = 0
        for n, line in enumerate(batch.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                    raise InputError('expected a JSON object with a "text" string')
                who = row.get("user", user)
                if who is None:
                    raise InputError('no "user" on the line and no --user given')
                g = instructor(who, row["text"], session=row.get("session", session))
                sys.stdout.write(json.dumps({"line": n, "user": who, "guidance": _guidance_dict(g)}) + "\n")
            except (GenerecError, json.JSONDecodeError) as exc:
                failed += 1
                sys.stdout.write(json.dumps({"line": n, "error": str(exc)}) + "\n")
        if failed:
            err.print(f"[bold red]error:[/] {failed} line(s) of {lit(batch)} were refused (see their \"error\")")
            raise typer.Exit(1)
        return
    # 3. one instruction (or none): guidance, then the feed when asked
    g = instructor(user, text, session=session)
    feed = instructor.apply(user, g, k, session=session) if apply_feed else None
    if json_out:
        _print_json({"guidance": _guidance_dict(g), **({"feed": feed.to_dict()} if feed else {})})
        return
    _print_guidance(g)
    if feed is not None:
        items = {i.id: i for i in ws.items.all()}
        table = Table(title=lit(f"feed for {user}: {feed.mode}" + (f" (asked: {feed.requested_mode})" if feed.requested_mode != feed.mode else "")), title_justify="left")
        for col in ("#", "item", "way", "origin", "title"):
            table.add_column(col)
        for n, e in enumerate(feed.items, 1):
            table.add_row(str(n), lit(e.item_id), lit(e.way), lit(e.origin), lit(items[e.item_id].title) if e.item_id in items else "")
        out.print(table)
        for note in feed.notes:
            out.print(f"note: {lit(note)}")


@evaluate_app.command("instructor")
@handle_errors
def evaluate_instructor_cmd(
    evalset: Annotated[Optional[Path], typer.Option("--evalset", help="A JSONL evaluation set [default: the packaged one].")] = None,
    study: Annotated[bool, typer.Option(help="Also run the activation study on the workspace's simulator.")] = True,
    users: Annotated[int, typer.Option("--users", help="Users in the activation study.")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    parser: ParserOpt = None,
    llm_url: LLMUrlOpt = None,
    llm_model: LLMModelOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Parser accuracy on the labelled instructions, and the activation study on the simulator."""
    import dataclasses as dc

    from generec.instructor.evaluate import evaluate_parser, load_evalset

    # 1. the parser on the labelled set
    reader = _instruction_parser(parser, llm_url, llm_model, config)
    examples = load_evalset(evalset)
    report = evaluate_parser(reader, examples)
    result: dict[str, Any] = {"parser": report.summary(), "failures": [dc.asdict(f) for f in report.failures]}
    # 2. the activation study (needs a benchmark workspace)
    ws = None
    if study:
        from generec.evaluation.activation import ActivationStudyConfig, activation_study

        ws = _open(workspace)
        with progress_bar(quiet=json_out) as update:
            act = activation_study(ws, config=ActivationStudyConfig(n_users=users, seed=seed), progress=update)
        result["activation"] = act.to_dict()
        report_path = _save_report(ws, "evaluate-instructor", result)
    if json_out:
        _print_json(result)
        return
    table = Table(title=f"instructor parser on {report.n} labelled instructions", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in report.summary().items():
        table.add_row(lit(key), f"{value:.3f}" if isinstance(value, float) else lit(value))
    out.print(table)
    if "activation" in result:
        act = result["activation"]
        table = Table(title=f"activation study: {lit(act['info'].get('instructions', ''))} instructions, seed {seed}", title_justify="left")
        metrics = sorted(next(iter(act["overall"].values())))
        table.add_column("policy")
        for m in metrics:
            table.add_column(m, justify="right")
        for policy, vals in act["overall"].items():
            table.add_row(lit(policy), *(f"{vals[m]:.3f}" for m in metrics))
        table.add_row("gain", *(f"{act['gains'].get(m, float('nan')):+.1%}" for m in metrics))
        out.print(table)
        out.print(f"ways taken: {lit(act['modes'])}")
        out.print(f"parsed as asked: {act['parse_accuracy']:.3f}; scored on {lit(act['info'].get('scored_on', 'labels'))}")
        out.print(f"written to {lit(report_path)}")


def main() -> None:
    try:
        app()
    except Exception as exc:  # anything outside a command (option parsing, callbacks)
        _report_error(exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
