"""Retrieval commands: `generec train`, `recommend`, `evaluate retrieval` and `bench retrieval`."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from generec.cli.common import (ConfigOpt, JsonOpt, Size, WorkspaceOpt, _open, _print_json, _report_bench, app, bench_app, err, evaluate_app,
                                handle_errors, lit, out, progress_bar)  # fmt: skip
from generec.datasets import BUILDERS, LOADERS
from generec.errors import InputError
from generec.registry import resolve
from generec.types import Origin
from generec.workspace import Workspace, fresh_workspace, holds_workspace


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
    minutes: Annotated[Optional[float], typer.Option("--minutes", help="Training time of --model creator, in minutes [default: 30; with --resume, the run's total].")] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", help="--model creator: this many denoiser steps (and a quarter as many autoencoder steps) instead of minutes.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="--model creator: continue the saved run (models/creator/state.pt) until its budget is spent.")] = False,
    if_stale: Annotated[bool, typer.Option("--if-stale", help="Retrain only when at least --min-events new events were logged since the current retriever was trained (a running `generec serve` picks the new one up).")] = False,
    min_events: Annotated[int, typer.Option("--min-events", help="With --if-stale: how many new events make the retriever stale.")] = 100,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Train a retriever on all of the workspace's positives and save it to models/NAME (or the text-image bridge to models/bridge, or the AI creator to models/creator)."""
    import dataclasses as dc

    from generec.retrieval import RETRIEVERS
    from generec.retrieval.data import full_data, make_split
    from generec.retrieval.serving import save_current
    from generec.retrieval.trainer import default_config, tune_and_fit

    # 1. check inputs
    if model == "bridge":
        _train_bridge(_open(workspace), epochs, seed, json_out)
        return
    if model == "creator":
        from generec.cli.creator import train_creator_cmd

        train_creator_cmd(_open(workspace), minutes, steps, resume, seed, config, json_out)
        return
    if minutes is not None or steps is not None or resume or config is not None:
        raise InputError(f"--minutes, --steps, --resume and --config apply to --model creator only, not to {model!r}")
    if epochs is not None:
        raise InputError(f"--epochs applies to --model bridge only, not to the retriever {model!r}")
    cls = RETRIEVERS[model]
    if budget < 1:
        raise InputError(f"--budget must be at least 1, got {budget}")
    if min_events < 1:
        raise InputError(f"--min-events must be at least 1, got {min_events}")
    ws = _open(workspace)
    if if_stale:
        from generec.retrieval.serving import staleness

        new, why = staleness(ws)
        if 0 <= new < min_events:
            if json_out:
                _print_json({"model": model, "trained": False, "new_events": new, "min_events": min_events, "reason": why})
            else:
                out.print(f"up to date: {lit(why)} (fewer than --min-events {min_events}); nothing trained")
            return
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
        last_event_id = ws.interactions.last_id()  # before the read: later feedback is folded in when serving
        data = full_data(ws)
        if cls.uses_item_features:
            data.item_features = _features_for(ws, update)()
        fitted = cls(config).fit(data, progress=lambda e, n: update(f"train {model}", e, n))
        path = save_current(ws, fitted, last_event_id)
    result = {"model": model, "trained": True, "path": str(path), "config": dc.asdict(config), "data_hash": data.data_hash, "valid_ndcg@20": valid,
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


_ANN_ONLY = ("dim", "queries", "k", "index", "nprobe", "ef_search")
_DATASET_ONLY = ("dataset", "models", "splits", "budget", "size", "workspace")


@bench_app.command("retrieval")
@handle_errors
def bench_retrieval_cmd(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option(help="movielens-100k or microvideo.")] = "movielens-100k",
    models: Annotated[str, typer.Option(help="Comma-separated retrievers.")] = ",".join(DEFAULT_MODELS),
    splits: Annotated[Optional[str], typer.Option(help="Comma-separated splits [default: temporal,random for movielens-100k; microvideo for microvideo].")] = None,
    budget: Annotated[int, typer.Option(help="Configurations per model, the same for every model and baseline.")] = 8,
    size: Annotated[Size, typer.Option(help="Benchmark size when the microvideo workspace must be built.")] = Size.default,
    latency_items: Annotated[int, typer.Option(help="Also time recommend() over a synthetic catalogue of this many items (0: skip); with --ann, the catalogue's size.")] = 10_000,
    ann: Annotated[bool, typer.Option("--ann", help="Instead: exact against approximate (FAISS) recommend latency and recall@k over a clustered synthetic factor model of --latency-items items; no data set, nothing written.")] = False,
    dim: Annotated[Optional[int], typer.Option("--dim", help="--ann: factor dimension [default: 64].", show_default=False)] = None,
    queries: Annotated[Optional[int], typer.Option("--queries", help="--ann: timed recommend calls, one user each [default: 1000].", show_default=False)] = None,
    k: Annotated[Optional[int], typer.Option("-k", "--k", help="--ann: items per recommendation [default: 10].", show_default=False)] = None,
    index: Annotated[Optional[str], typer.Option("--index", help="--ann: comma-separated approximate indexes, ivf-flat and/or hnsw [default: ivf-flat].", show_default=False)] = None,
    nprobe: Annotated[Optional[str], typer.Option("--nprobe", help="--ann: comma-separated IVF cells to scan [default: 16,32,64,128,256].", show_default=False)] = None,
    ef_search: Annotated[Optional[str], typer.Option("--ef-search", help="--ann: comma-separated HNSW search queue lengths [default: 32,64,128,256].", show_default=False)] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    workspace: Annotated[Optional[Path], typer.Option("--workspace", "-w", help="Workspace holding the data set [default: bench/DATASET, created if missing].")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Train every model and the implicit baselines in one run; print one table, write JSON to reports/. With --ann: retrieval latency at catalogue scale, exact against approximate."""
    from generec.datasets.microvideo import SIZES
    from generec.evaluation.protocols import bench_retrieval
    from generec.retrieval import RETRIEVERS

    # 1. check inputs: the two benchmarks take different options
    given = {name for name in (*_ANN_ONLY, *_DATASET_ONLY) if getattr(ctx.get_parameter_source(name), "name", "DEFAULT") != "DEFAULT"}  # typer's own click
    if ann:
        if wrong := sorted(given & set(_DATASET_ONLY)):
            raise InputError(f"{_options(wrong)} to the data-set benchmark, not to --ann")
        _bench_ann(latency_items, 64 if dim is None else dim, 1000 if queries is None else queries, 10 if k is None else k,
                   index or "ivf-flat", nprobe or "16,32,64,128,256", ef_search or "32,64,128,256", seed, json_out)  # fmt: skip
        return
    if wrong := sorted(given & set(_ANN_ONLY)):
        raise InputError(f"{_options(wrong)} to --ann only (the approximate-index latency benchmark); add --ann")
    names = [m.strip() for m in models.split(",") if m.strip()]
    for name in names:
        RETRIEVERS[name]
    if dataset not in ("movielens-100k", "microvideo"):
        raise InputError(f"unknown data set {dataset!r} for the retrieval benchmark; valid: movielens-100k, microvideo")
    split_names = [s.strip() for s in splits.split(",")] if splits else (["temporal", "random"] if dataset == "movielens-100k" else ["microvideo"])
    root = workspace if workspace is not None else Path("bench") / dataset
    with progress_bar(quiet=json_out) as update:
        # 2. the data set's workspace, made if missing
        if not holds_workspace(root):
            with fresh_workspace(root) as ws:
                if dataset == "movielens-100k":
                    resolve(LOADERS[dataset])(ws)
                else:
                    resolve(BUILDERS[dataset])(ws, SIZES[size.value], size=size.value, progress=update)
        ws = _open(root)
        # 3. the benchmark
        bench = bench_retrieval(ws, dataset, split_names, names, budget, seed, latency_items, features=_features_for(ws, update), progress=update)
    _report_bench(ws, bench, json_out, f"bench-retrieval-{dataset}")


def _options(names: list[str]) -> str:
    flags = ["-k" if n == "k" else "--" + n.replace("_", "-") for n in names]
    return f"{', '.join(flags)} " + ("applies" if len(flags) == 1 else "apply")


def _ints(option: str, text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"{option} must be comma-separated integers, got {text!r}") from None


def _bench_ann(n_items: int, dim: int, queries: int, k: int, index: str, nprobe: str, ef_search: str, seed: int, json_out: bool) -> None:
    """`bench retrieval --ann`: recommend latency and recall@k, exact against approximate."""
    from generec.evaluation.ann_latency import bench_ann_latency, check_inputs, first_meeting

    # 1. check inputs before any work
    kinds = [v.strip() for v in index.split(",") if v.strip()]
    nprobes, ef_searches = _ints("--nprobe", nprobe), _ints("--ef-search", ef_search)
    check_inputs(n_items, dim, queries, k, nprobes, ef_searches, kinds)
    # 2. the benchmark
    with progress_bar(quiet=json_out) as update:
        bench = bench_ann_latency(n_items, dim, queries, k, seed, kinds, nprobes, ef_searches, progress=update)
    best = first_meeting(bench)
    # 3. report
    if json_out:
        _print_json({**dataclasses.asdict(bench), "target": {"p50_ms": 10.0, f"recall@{k}": 0.95, "met_by": dataclasses.asdict(best) if best else None}})
        return
    table = Table(title=f"recommend over {n_items:,} synthetic items (dim {dim}, {bench.clusters:,} clusters, ~{bench.seen_per_user} seen a user), {queries:,} queries, k={k}, "
                        f"seed {seed}; queries on {bench.query_threads} thread, builds on {bench.build_threads}; {lit(bench.machine)}", title_justify="left")  # fmt: skip
    for col in ("method", "params", "p50 ms", "p99 ms", "mean ms", f"recall@{k}", "build s", "index MB"):
        table.add_column(col, justify="left" if col in ("method", "params") else "right")
    for r in bench.rows:
        table.add_row(lit(r.method), lit(", ".join(f"{n}={v}" for n, v in r.params.items())), f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}", f"{r.mean_ms:.2f}", f"{r.recall:.4f}",
                      f"{r.build_seconds:.1f}", f"{r.memory_mb:.0f}")  # fmt: skip
    out.print(table)
    target = f"p50 < 10 ms at recall@{k} >= 0.95"
    if best:
        out.print(f"{target}: met by {lit(best.method)} {lit(best.params)} (p50 {best.p50_ms:.2f} ms, recall {best.recall:.4f}); peak memory {bench.peak_rss_mb:,.0f} MB")
    else:
        out.print(f"{target}: not met by any setting tried; peak memory {bench.peak_rss_mb:,.0f} MB")
