"""Instructor commands: `generec instruct` and `evaluate instructor`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from generec.cli.common import (ConfigOpt, JsonOpt, WorkspaceOpt, _open, _print_json, _save_report, app, err, evaluate_app,
                                handle_errors, lit, out, progress_bar)  # fmt: skip
from generec.errors import GenerecError, InputError



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
    from generec.pipeline import GeneRec

    # 1. check inputs
    if batch is None and user is None:
        raise InputError("--user is required (or give --batch FILE.jsonl)")
    if batch is not None and text is not None:
        raise InputError("give an instruction or --batch, not both")
    reader = _instruction_parser(parser, llm_url, llm_model, config)
    ws = _open(workspace)
    loop = GeneRec(ws, parser=reader)  # models load once, for every line of a batch
    instructor = loop.instructor
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
    feed = loop.feed(user, k, text, session) if apply_feed else None
    g = feed.guidance if feed is not None else instructor(user, text, session=session)
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
    create: Annotated[bool, typer.Option("--create", help="Creation on: each user also asks twice for a new video of what the catalogue has least of, served by the trained creator.")] = False,
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
            act = activation_study(ws, config=ActivationStudyConfig(n_users=users, seed=seed, create=create), progress=update)
        result["activation"] = act.to_dict()
        report_path = _save_report(ws, "evaluate-instructor" + ("-create" if create else ""), result)
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
