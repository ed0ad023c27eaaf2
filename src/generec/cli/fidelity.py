"""Fidelity commands: `generec check ITEM`, `generec review`, `generec verify FILE`, `generec keys init`,
`generec evaluate fidelity`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from generec.cli.common import JsonOpt, WorkspaceOpt, _open, _print_json, app, err, evaluate_app, handle_errors, lit, out, progress_bar

keys_app = typer.Typer(help="The workspace's signing keys (C2PA) and watermark key.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

PolicyOpt = Annotated[Optional[Path], typer.Option("--policy", help="A TOML fidelity policy [default: <workspace>/policy.toml, else the built-in one].")]
EXIT_BLOCKED = 3


def print_report(report: dict, indent: str = "  ") -> None:
    """Each check's verdict, score, action and the evidence that decided it."""
    for c in report.get("checks", []):
        colour = {"pass": "green", "fail": "red", "skip": "dim"}.get(c["verdict"], "white")
        action = f" → {c['action']}" if c["verdict"] == "fail" or c.get("fixed") else ""
        fixed = " (fixed)" if c.get("fixed") else ""
        evidence = {k: v for k, v in (c.get("evidence") or {}).items() if k != "before_fix"}
        short = ", ".join(f"{k}={_short(v)}" for k, v in list(evidence.items())[:6])
        out.print(f"{indent}[{colour}]{c['check']:<13} {c['verdict']}{action}{fixed}[/]  score {c['score']:.3g}  {lit(short)}", highlight=False)


def _short(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    text = str(v)
    return text if len(text) <= 60 else text[:57] + "..."


def print_verdicts(item) -> None:
    """The lines `edit` and `create` print under an item: the decision and the marks."""
    report = item.fidelity or {}
    if not report:
        return
    marks = report.get("marks") or {}
    out.print(f"  fidelity: {report.get('decision')}" + (" (in the review queue)" if report.get("review") == "pending" else "")
              + f"; watermark {lit(item.watermark_id)}, C2PA {'signed' if marks.get('c2pa') else 'absent'}", highlight=False)  # fmt: skip
    print_report(report, indent="    ")


def report_blocked(exc, json_out: bool, what: dict) -> None:
    """A blocked edit or creation: the verdicts on stderr (or JSON), exit code 3."""
    if json_out:
        _print_json({**what, "blocked": True, "reason": str(exc), "fidelity": exc.report})
    else:
        err.print(f"[bold red]blocked:[/] {lit(exc)}", highlight=False)
        print_report(exc.report)
    raise typer.Exit(EXIT_BLOCKED)


@app.command("check")
@handle_errors
def check_cmd(
    item: Annotated[str, typer.Argument(help="An AI-edited or AI-created item id.")],
    policy: PolicyOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run the fidelity checks on a stored AI item and print the report (nothing stored changes).
    Exit code 3 when the policy would block it."""
    from generec.fidelity.policy import Policy
    from generec.fidelity.review import check_item

    ws = _open(workspace)
    pol = Policy.for_workspace(ws.root, policy)
    result = check_item(ws, item, pol)
    if json_out:
        _print_json({"item_id": item, **result.report})
    else:
        out.print(f"[bold]{lit(item)}[/]: {result.decision} (policy {lit(pol.source)}, {result.report['seconds']:.2f} s)", highlight=False)
        print_report(result.report)
    if result.decision == "block":
        raise typer.Exit(EXIT_BLOCKED)


@app.command("review")
@handle_errors
def review_cmd(
    approve: Annotated[Optional[str], typer.Option("--approve", help="Approve this flagged item: served without the flag.")] = None,
    block: Annotated[Optional[str], typer.Option("--block", help="Block this AI item: kept out of every feed.")] = None,
    note: Annotated[Optional[str], typer.Option("--note", help="The reviewer's note, kept in the report.")] = None,
    reviewer: Annotated[str, typer.Option("--reviewer", help="Who decides (kept in the report).")] = "admin",
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The review queue: AI items the fidelity policy flagged. With --approve or --block, decide one."""
    from generec.errors import InputError
    from generec.fidelity.review import decide, queue

    ws = _open(workspace)
    if approve and block:
        raise InputError("give --approve or --block, not both")
    if approve or block:
        with ws.lock("review"):
            item = decide(ws, approve or block, "approve" if approve else "block", reviewer, note)
        if json_out:
            _print_json({"item_id": item.id, "review": item.fidelity.get("review"), "fidelity": item.fidelity})
        else:
            out.print(f"{lit(item.id)}: {item.fidelity.get('review')} by {lit(reviewer)}")
        return
    items = queue(ws)
    if json_out:
        _print_json([{"item_id": it.id, "origin": str(it.origin), "parent_id": it.parent_id, "title": it.title, "fidelity": it.fidelity} for it in items])
        return
    if not items:
        out.print("the review queue is empty")
        return
    table = Table(title=f"{len(items)} item(s) waiting for review", title_justify="left")
    for col in ("item", "origin", "parent", "flagged by"):
        table.add_column(col)
    for it in items:
        flagged = ", ".join(c["check"] for c in it.fidelity.get("checks", []) if c.get("action") == "flag")
        table.add_row(lit(it.id), str(it.origin), lit(it.parent_id or ""), lit(flagged))
    out.print(table)
    out.print("decide with: generec review --approve ITEM | --block ITEM")


@app.command("verify")
@handle_errors
def verify_cmd(
    file: Annotated[Path, typer.Argument(help="An MP4, PNG or JPEG file.")],
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Read a file's C2PA manifest (trusted / valid / tampered / absent) and its invisible watermark,
    and name the item, its parent and its provenance from the workspace — also when a re-encode
    stripped the manifest. Exit 0: identified; 2: unmarked; 3: tampered, another signer, or a mark
    that names no item here."""
    from generec.fidelity.verify import verify_file

    ws = _open(workspace)
    v = verify_file(ws, file)
    if json_out:
        _print_json(v.to_dict())
    else:
        colour = "green" if v.ok else "yellow" if v.status == "unmarked" else "red"
        out.print(f"[bold {colour}]{v.status}[/]: {lit(v.message)}", highlight=False)
        m, w = v.manifest, v.watermark
        out.print(f"  C2PA: {m.get('state')}" + (f" — {lit(m.get('message'))}" if m.get("message") else ""), highlight=False)
        out.print(f"  watermark: {'id ' + str(w['watermark_id']) if w.get('detected') else 'not detected'} "
                  f"(confidence {w.get('confidence', 0):.3g}, {w.get('frames')} frame(s))", highlight=False)  # fmt: skip
        if v.item is not None:
            prov = v.item.provenance or {}
            out.print(f"  item: {lit(v.item.id)} — {lit(v.item.title)} ({v.item.origin}), op {lit(prov.get('op') or prov.get('generator'))}", highlight=False)
            if v.parent is not None:
                out.print(f"  parent: {lit(v.parent.id)} — {lit(v.parent.title)} (uploader {lit(v.parent.uploader)})", highlight=False)
            out.print(f"  for user {lit(prov.get('user_id'))}, seed {prov.get('seed')}, generator {lit(prov.get('generator'))} {lit(prov.get('version'))}", highlight=False)
    if not v.ok:
        raise typer.Exit(2 if v.status == "unmarked" else EXIT_BLOCKED)


@keys_app.command("init")
@handle_errors
def keys_init_cmd(
    force: Annotated[bool, typer.Option("--force", help="Replace existing keys (files signed before stay signed by the old ones).")] = False,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Make the workspace's C2PA signing key and local certificate chain (root → signer) and its
    watermark key, under <workspace>/keys/. Signing works offline, with no timestamp authority."""
    from generec.fidelity.keys import init_keys

    ws = _open(workspace)
    with ws.lock("keys"):
        paths = init_keys(ws.root, force=force)
    data = {k: str(v) for k, v in vars(paths).items()} if hasattr(paths, "__dict__") else {"keys": str(paths)}
    if json_out:
        _print_json(data)
        return
    out.print(f"keys written to {lit(Path(ws.root) / 'keys')}")
    for k, v in data.items():
        out.print(f"  {k}: {lit(v)}")


@evaluate_app.command("fidelity")
@handle_errors
def evaluate_fidelity_cmd(
    clean: Annotated[int, typer.Option("--clean", help="Clean edits to measure false blocks on.")] = 100,
    clips: Annotated[int, typer.Option("--clips", help="4-second clips for the watermark's robustness table.")] = 100,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    policy: PolicyOpt = None,
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The red-team protocol: per check precision and recall on a set built from real photos and the
    benchmark (faces, on-screen PII, near-duplicates, misleading covers, frozen/black videos, dark
    and blurred edits) beside clean edits (false-block rate), and the watermark's bit accuracy and
    exact-id recovery after JPEG, resize, brightness, crop and H.264 re-encodes."""
    from generec.cli.common import _save_and_print_json
    from generec.evaluation.fidelity import FidelityEvalConfig, evaluate_fidelity
    from generec.fidelity.policy import Policy

    ws = _open(workspace)
    pol = Policy.for_workspace(ws.root, policy)
    with progress_bar(json_out) as update:
        report = evaluate_fidelity(ws, FidelityEvalConfig(clean=clean, clips=clips, seed=seed), pol, progress=update)
    path = _save_and_print_json(ws, "fidelity", report, json_out)
    if path is None:
        return
    from generec.evaluation.fidelity import print_fidelity_report

    print_fidelity_report(report, out)
    out.print(f"written to {lit(path)}")
