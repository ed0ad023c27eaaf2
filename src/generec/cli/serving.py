"""Loop and service commands: `generec feed`, `feedback`, `serve`, `users token`, `bench serve`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from generec.cli.common import JsonOpt, WorkspaceOpt, _open, _print_json, app, bench_app, err, handle_errors, lit, out
from generec.errors import InputError

users_app = typer.Typer(help="Users of the service: API keys.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command("feed")
@handle_errors
def feed_cmd(
    user: Annotated[str, typer.Option("--user", "-u", help="User id.")],
    k: Annotated[int, typer.Option("-k", help="Feed length (1-100).")] = 10,
    instruction: Annotated[Optional[str], typer.Option("--instruction", "-i", help='What the user asks for, e.g. "calm videos with cats".')] = None,
    session: Annotated[Optional[str], typer.Option("--session", "-s", help="Dialogue session [default: default].")] = None,
    log: Annotated[bool, typer.Option("--log/--no-log", help="Log the impressions, as the service does.")] = True,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The user's feed from the GeneRec loop: retrieved, repurposed and created items, each labelled."""
    from generec.pipeline import GeneRec, GeneRecConfig

    # 1. the loop, 2. the feed (the same call the service makes)
    ws = _open(workspace)
    result = GeneRec(ws, GeneRecConfig(log_impressions=log)).feed(user, k, instruction, session)
    # 3. report
    if json_out:
        from generec.serving.schemas import feed_json

        _print_json(feed_json(ws, result))
        return
    table = Table(title=lit(f"feed for {user}: {result.mode}" + (f" (asked: {result.requested_mode})" if result.requested_mode != result.mode else "")), title_justify="left")
    for col in ("#", "item", "label", "title", "why"):
        table.add_column(col)
    for n, e in enumerate(result.items, 1):
        it = ws.items.get(e.item_id)
        table.add_row(str(n), lit(e.item_id), lit(e.label or "human"), lit(it.title if it else ""), lit(e.reason))
    out.print(table)
    for note in result.notes:
        out.print(f"note: {lit(note)}")


@app.command("feedback")
@handle_errors
def feedback_cmd(
    user: Annotated[str, typer.Option("--user", "-u", help="User id.")],
    item: Annotated[str, typer.Option("--item", help="Item id.")],
    event: Annotated[str, typer.Option("--event", "-e", help="impression, click, like, dislike, skip or watch.")],
    value: Annotated[Optional[float], typer.Option("--value", help="Watch ratio in [0, 1] (watch events).")] = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Log one feedback event; the user's next feed reflects it without a retrain."""
    from generec.pipeline import GeneRec

    result = GeneRec(_open(workspace)).feedback(user, item, event, value)
    if json_out:
        _print_json({"stored": result.stored, "duplicates": result.duplicates})
        return
    out.print(f"stored {result.stored} event ({lit(event)} of {lit(item)} by {lit(user)})")


@users_app.command("token")
@handle_errors
def token_cmd(
    user: Annotated[Optional[str], typer.Argument(help="The user the key reads as (omit with --admin).")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="An admin key: manages items, reads metrics and any user's feed.")] = False,
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke every key of USER (or every admin key) instead.")] = False,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Make an API key for USER (or an admin key); it is printed once and stored only hashed."""
    # 1. check inputs
    if admin == (user is not None):
        raise InputError("name a USER, or give --admin (not both)")
    ws = _open(workspace)
    role = "admin" if admin else "user"
    if revoke:
        n = ws.api_keys.revoke(user, role)
        _print_json({"revoked": n}) if json_out else out.print(f"revoked {n} key(s) of {lit(user or 'admin')}")
        return
    # 2. the key
    key = ws.api_keys.create(user, role)
    if json_out:
        _print_json({"user_id": user, "role": role, "key": key})
        return
    err.print(f"a new {role} key{' for ' + lit(user) if user else ''} (shown once; send it as `Authorization: Bearer <key>`):")
    sys.stdout.write(key + "\n")


def _service_settings(rate_limit: float, cors: list[str] | None, max_body_kb: int, warm_items: int = 20_000) -> dict:
    if rate_limit < 0 or max_body_kb < 1 or warm_items < -1:
        raise InputError(f"--rate-limit must be >= 0, --max-body-kb >= 1 and --warm-items >= -1, got {rate_limit}, {max_body_kb} and {warm_items}")
    return {"rate_limit": rate_limit, "cors_origins": list(cors or ()), "max_body_bytes": max_body_kb * 1024,
            "warm": warm_items >= 0, "warm_items": max(0, warm_items)}  # fmt: skip


@app.command("serve")
@handle_errors
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes (each loads the models once).")] = 1,
    rate_limit: Annotated[float, typer.Option("--rate-limit", help="Requests a second per key and worker (0: off).")] = 200.0,
    cors: Annotated[Optional[list[str]], typer.Option("--cors-origin", help="An origin allowed to call the API from a browser (CORS is off without one).")] = None,
    max_body_kb: Annotated[int, typer.Option("--max-body-kb", help="Largest JSON body, in KiB (uploads: 256 MiB).")] = 1024,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn's log level.")] = "info",
    warm_items: Annotated[int, typer.Option("--warm-items", help="Models load before the first request; then this many catalogue texts are embedded in the background (0: none; -1: load nothing until a request needs it).")] = 20_000,
    workspace: WorkspaceOpt = None,
) -> None:
    """Serve the HTTP API (/v1, docs at /docs) and the web feed (/) over the workspace's GeneRec loop."""
    import uvicorn

    # 1. check inputs; the workspace must open before the port is taken
    if not 1 <= port <= 65535 or workers < 1:
        raise InputError(f"--port must be 1-65535 and --workers >= 1, got {port} and {workers}")
    settings = _service_settings(rate_limit, cors, max_body_kb, warm_items)
    ws = _open(workspace)
    os.environ["GENEREC_WORKSPACE"], os.environ["GENEREC_SERVICE_CONFIG"] = str(ws.root), json.dumps(settings)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import torch

    torch.set_num_threads(1)  # requests run in parallel threads; one BLAS thread each (see docs/BENCHMARKS.md)
    err.print(f"generec serving {lit(ws.root)} at http://{host}:{port}/ (web feed), API docs at http://{host}:{port}/docs")
    err.print(f"a user's key: `generec users token USER -w {lit(ws.root)}`; Ctrl+C stops")
    # 2. serve: one process with the workspace open, or N workers from the factory
    if workers == 1:
        from generec.serving.app import ServiceConfig, create_app

        settings["cors_origins"] = tuple(settings["cors_origins"])
        uvicorn.run(create_app(ws, ServiceConfig(**settings)), host=host, port=port, log_level=log_level)
    else:
        ws.close()
        uvicorn.run("generec.serving.app:app_from_env", factory=True, host=host, port=port, workers=workers, log_level=log_level)


@bench_app.command("serve")
@handle_errors
def bench_serve_cmd(
    seconds: Annotated[float, typer.Option("--seconds", help="Length of each measurement.")] = 10.0,
    rate: Annotated[float, typer.Option("--rate", help="Open-loop arrival rate for the latency measurement (requests a second).")] = 50.0,
    connections: Annotated[int, typer.Option("--connections", help="wrk connections for the throughput measurement.")] = 8,
    k: Annotated[int, typer.Option("-k", help="Feed length.")] = 10,
    workers: Annotated[int, typer.Option("--workers", help="Service worker processes.")] = 1,
    user: Annotated[Optional[str], typer.Option("--user", "-u", help="Read this one user's feed only [default: --users users in turn].")] = None,
    users: Annotated[int, typer.Option("--users", help="Feeds of the first n users, a different one each request.")] = 100,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Start `generec serve` on 127.0.0.1 and measure /v1/feed and /v1/feedback beside /health (same app, same run)."""
    from generec.serving.bench import BenchServeConfig, bench_serve

    ws = _open(workspace)
    report = bench_serve(ws, BenchServeConfig(seconds, rate, connections, k, workers, user, users), progress=None if json_out else lambda m: err.print(lit(m)))
    path = ws.path("reports") / "bench-serve.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    if json_out:
        _print_json(report)
        return
    table = Table(title=f"generec serve on 127.0.0.1, {report['workers']} worker(s), k={k}, feeds of {report['feed_users']} user(s) in turn", title_justify="left")
    for col in ("endpoint", "max req/s (wrk)", "ratio to /health", f"p50 ms @ {rate:g}/s", f"p99 ms @ {rate:g}/s", "errors"):
        table.add_column(col, justify="right" if col != "endpoint" else "left")
    for name, row in report["endpoints"].items():
        table.add_row(lit(name), f"{row['throughput']['rps']:.0f}", f"{row['ratio']:.2f}", f"{row['latency']['p50_ms']:.1f}", f"{row['latency']['p99_ms']:.1f}",
                      str(row["throughput"]["errors"] + row["latency"]["errors"]))  # fmt: skip
    out.print(table)
    out.print(f"written to {lit(path)}")
