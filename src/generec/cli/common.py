"""What every `generec` command shares: the Typer apps, the consoles, option types, error handling, progress and JSON."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import sys
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

from generec.errors import GenerecError, describe_os_error
from generec.workspace import Workspace, default_path, resolve_db

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
ShardWorkersOpt = Annotated[int, typer.Option("--workers", help="Ray workers that share the work, user by user (one CPU each); 0: in this process. The numbers do not depend on it.")]
ShardAddressOpt = Annotated[Optional[str], typer.Option("--ray-address", help="An existing Ray cluster (host:port) for the --workers instead of a local one.")]
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
    db: Annotated[Optional[str], typer.Option("--db", envvar="GENEREC_DB", show_default=False,
                                              help="Where the workspace's rows live: a postgresql://user@host/dbname URL (shared by the nodes that mount the workspace directory), or sqlite (its own generec.db) [default: sqlite].")] = None,
) -> None:
    _state["debug"] = debug
    if db is not None:
        os.environ["GENEREC_DB"] = resolve_db(db)  # every workspace this process opens, and its children (`serve --workers`)


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


class Size(str, Enum):
    tiny = "tiny"
    small = "small"
    default = "default"


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
