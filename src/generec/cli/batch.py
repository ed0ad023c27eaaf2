"""Batch commands on Ray: `generec batch edit|create|features` (local cluster by default)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from generec.cli.common import JsonOpt, WorkspaceOpt, _open, _print_json, _save_report, app, bench_app, err, handle_errors, lit, out, progress_bar

batch_app = typer.Typer(help="Batch jobs on Ray over the pipeline's own calls: personal variants, bulk creation, catalogue features.", no_args_is_help=True)
app.add_typer(batch_app, name="batch")

UsersOpt = Annotated[str, typer.Option("--users", help="'all', or a file of user ids (one per line).")]
WorkersOpt = Annotated[Optional[int], typer.Option("--workers", help="Ray workers [default: one per cluster CPU]; 0: run in this process, one chunk after another.")]
CpusOpt = Annotated[Optional[int], typer.Option("--cpus", help="CPUs of the local Ray cluster [default: all].")]
AddressOpt = Annotated[Optional[str], typer.Option("--ray-address", envvar="RAY_ADDRESS", help="An existing Ray cluster (host:port) instead of a local one.")]
ChunkOpt = Annotated[Optional[int], typer.Option("--chunk", help="Tasks per chunk: the driver writes each chunk in one transaction.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


def _config(workers, cpus, address, chunk, default_chunk: int):
    from generec.batch import BatchConfig, ClusterConfig

    return BatchConfig(workers=workers, chunk=chunk if chunk is not None else default_chunk, cluster=ClusterConfig(address=address, num_cpus=cpus))


def _report(ws, report, json_out: bool) -> None:
    data = report.to_dict()
    path = _save_report(ws, f"batch-{report.job.replace(' ', '-')}", data)
    if json_out:
        _print_json(data)
    else:
        table = Table(title=lit(f"batch {report.job}: {report.cluster}, {report.workers} worker(s)"), title_justify="left")
        for col in ("tasks", "already done", "done", "failed", "rows written", "seconds", "per second"):
            table.add_column(col, justify="right")
        rate = data["per_second"]
        table.add_row(f"{report.tasks:,}", f"{report.skipped:,}", f"{report.done:,}", f"{len(report.failed):,}", f"{report.written:,}",
                      f"{report.seconds:.1f}", f"{rate:.2f}" if rate else "")  # fmt: skip
        out.print(table)
        for f in report.failed[:10]:
            out.print(f"failed: {lit(f['user'])} {lit(f['item'] or '')}: {lit(f['error'])}")
        if len(report.failed) > 10:
            out.print(f"... and {len(report.failed) - 10} more (all in {path})")
        out.print(f"written to {path}")
    if report.failed and not report.done:
        err.print(f"error: every task of batch {report.job} failed, e.g. {report.failed[0]['error']}")
        raise typer.Exit(1)


@batch_app.command("edit")
@handle_errors
def batch_edit_cmd(
    op: Annotated[str, typer.Option("--op", help="cover, clip or style.")],
    users: UsersOpt = "all",
    top_k: Annotated[int, typer.Option("--top-k", help="Personal variants of each user's top-k items.")] = 10,
    workers: WorkersOpt = None,
    cpus: CpusOpt = None,
    ray_address: AddressOpt = None,
    chunk: ChunkOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Personal variants (the pipeline's own edits) of every user's top-k items; resumable: done work is skipped."""
    from generec.batch import batch_edit

    ws = _open(workspace)
    cfg = _config(workers, cpus, ray_address, chunk, top_k)
    with progress_bar(quiet or json_out) as update:
        report = batch_edit(ws, op, users, top_k, cfg, progress=lambda d, t: update("edits", d, t))
    _report(ws, report, json_out)


@batch_app.command("create")
@handle_errors
def batch_create_cmd(
    users: UsersOpt = "all",
    n: Annotated[int, typer.Option("--n", help="AI-created items per user.")] = 2,
    instruction: Annotated[Optional[str], typer.Option("--instruction", "-i", help="What every item should be, e.g. 'a calm sketch video of cats'.")] = None,
    workers: WorkersOpt = None,
    cpus: CpusOpt = None,
    ray_address: AddressOpt = None,
    chunk: ChunkOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """n new items for each user by the AI creator; resumable: users who have n already are skipped."""
    from generec.batch import batch_create

    ws = _open(workspace)
    cfg = _config(workers, cpus, ray_address, chunk, 1)
    with progress_bar(quiet or json_out) as update:
        report = batch_create(ws, users, n, instruction, cfg, progress=lambda d, t: update("users", d, t))
    _report(ws, report, json_out)


@batch_app.command("features")
@handle_errors
def batch_features_cmd(
    workers: WorkersOpt = None,
    cpus: CpusOpt = None,
    ray_address: AddressOpt = None,
    chunk: ChunkOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Encode the catalogue: cover features and keyframes of every video, into the feature cache."""
    from generec.batch import batch_features

    ws = _open(workspace)
    cfg = _config(workers, cpus, ray_address, chunk, 16)
    with progress_bar(quiet or json_out) as update:
        report = batch_features(ws, cfg, progress=lambda d, t: update("videos", d, t))
    _report(ws, report, json_out)


@bench_app.command("batch")
@handle_errors
def bench_batch_cmd(
    op: Annotated[str, typer.Option("--op", help="cover, clip or style.")] = "cover",
    users: Annotated[int, typer.Option("--users", help="The workspace's first n users.")] = 300,
    top_k: Annotated[int, typer.Option("--top-k", help="Variants of each user's top-k items.")] = 5,
    workers: Annotated[int, typer.Option("--workers", help="Ray workers (and local cluster CPUs).")] = 2,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """A batch edit on a local Ray beside the sequential path (each on a copy of the workspace): throughput ratio, identical outputs."""
    from generec.batch.bench import BenchBatchConfig, bench_batch

    ws = _open(workspace)
    with progress_bar(quiet or json_out) as update:
        result = bench_batch(ws, BenchBatchConfig(op=op, users=users, top_k=top_k, workers=workers, chunk=top_k), progress=update)
    path = _save_report(ws, "bench-batch", result)
    if json_out:
        _print_json(result)
        return
    table = Table(title=lit(f"batch edit {op}: {result['tasks']:,} tasks ({users} users x top-{top_k}), {result['machine']}"), title_justify="left")
    for col in ("path", "workers", "job s", "wall s", "edits/s", "ratio (wall)"):
        table.add_column(col, justify="right" if col != "path" else "left")
    seq = result["runs"]["sequential"]["wall_seconds"]
    for name, run in result["runs"].items():
        table.add_row(name, str(run["workers"] or 1), f"{run['seconds']:.1f}", f"{run['wall_seconds']:.1f}", f"{run['done'] / run['wall_seconds']:.3f}",
                      f"{seq / run['wall_seconds']:.2f}")  # fmt: skip
    out.print(table)
    out.print(f"outputs identical: {result['identical']} ({result['items']} items)" + ("" if result["identical"] else f"; differing: {', '.join(result['differing_items'])}"))
    out.print(f"written to {path}")
