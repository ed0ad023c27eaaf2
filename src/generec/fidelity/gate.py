"""The gate every AI-made item passes before it is stored as servable.

`Gate(ws, policy)` is loaded once per process per workspace (`gate_for`):

1. `check(candidate)`: each check of the policy, in order; a failure takes the check's action —
   `fix` applies the check's fix and runs that check again (a fix that does not pass, or no fix,
   becomes `flag`), `flag` and `block` are recorded. The decision is the strongest action taken
   (block > flag > serve) and the report is what the item's `fidelity` JSON stores.
2. `mark(...)`: a servable candidate gets its watermark id (unique in the workspace), the
   invisible watermark in every frame of its new video and in its cover (`watermark.py`), and a
   signed C2PA manifest in each file (`c2pa_manifest.py`, keys from `keys.py`).

A blocked candidate is never stored: `FidelityBlocked` carries its report, which is also
written to `reports/fidelity/blocked-<id>.json` for the record.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generec.errors import InputError
from generec.fidelity.policy import Policy, check_class
from generec.fidelity.types import PASS, Candidate, CheckResult, FidelityContext
from generec.media.image import encode_image
from generec.types import Item, Origin

RANK = {"serve": 0, "flag": 1, "block": 2}


class FidelityBlocked(InputError):
    """The policy blocks this AI-made item; nothing was stored."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class GateResult:
    decision: str  # serve | flag | block
    candidate: Candidate  # after any fixes
    results: list[CheckResult]
    report: dict[str, Any]

    def summary(self) -> str:
        """One line: the decision and each check's verdict (with the action a failure took)."""
        parts = [f"{c['check']} {c['verdict']}" + (f"→{c['action']}" if c["verdict"] == "fail" else "") for c in self.report["checks"]]
        return f"fidelity: {self.decision} ({', '.join(parts)})"


@dataclass
class Marked:
    watermark_id: int
    video: Path | None  # the watermarked, signed video (None: the parent's video is shown as it is)
    cover: bytes | None  # the watermarked, signed PNG cover
    manifest: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def watermark_hex(watermark_id: int) -> str:
    return f"{watermark_id:08x}"


class Gate:
    def __init__(self, ws, policy: Policy | None = None, context: FidelityContext | None = None) -> None:
        self.ws = ws
        self.policy_stamp = _policy_stamp(ws.root)
        self.policy = policy or Policy.for_workspace(ws.root)
        self.context = context or FidelityContext.for_workspace(ws)
        self.checks = [(cp, check_class(cp.name)[0](cp.config)) for cp in self.policy.checks]
        self._keys = None
        self._watermarker = None

    # -- 1. checks -----------------------------------------------------------------------------

    def check(self, candidate: Candidate, apply_fixes: bool = True) -> GateResult:
        """`apply_fixes=False` (checking a stored item): a fixable failure is recorded with the
        action "fix" it would take, and nothing is written."""
        t0 = time.perf_counter()
        candidate = candidate.replace(sample_fps=self.policy.sampling.fps, max_frames=self.policy.sampling.max_frames)
        results, rows, decision = [], [], "serve"
        for cp, check in self.checks:
            s0 = time.perf_counter()
            result = check(candidate, self.context)
            action, fixed = (cp.action if result.failed else "pass"), False
            if result.failed and cp.action == "fix" and not apply_fixes:
                action = "fix" if result.fix is not None else "flag"
            elif result.failed and cp.action == "fix":
                if result.fix is None:
                    action = "flag"
                else:
                    candidate = result.fix(candidate)
                    again = check(candidate, self.context)
                    fixed = not again.failed
                    result = CheckResult(again.check, again.verdict, again.score, {**again.evidence, "before_fix": result.to_dict()}, again.fix)
                    action = "fix" if fixed else "flag"
            if result.failed or fixed:
                decision = max(decision, {"fix": "serve" if fixed or not apply_fixes else "flag", "pass": "serve", "flag": "flag", "block": "block"}[action], key=RANK.get)
            results.append(result)
            rows.append({**result.to_dict(), "action": action, "fixed": fixed, "seconds": round(time.perf_counter() - s0, 4)})
        report = {
            "decision": decision, "policy": self.policy.source, "checks": rows,
            "review": "pending" if decision == "flag" else None, "seconds": round(time.perf_counter() - t0, 4),
        }  # fmt: skip
        return GateResult(decision, candidate, results, report)

    def refuse(self, item_id: str, result: GateResult) -> FidelityBlocked:
        """The error for a blocked candidate; its report is kept under reports/fidelity/."""
        folder = Path(self.ws.root) / "reports" / "fidelity"
        folder.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^\w.~-]", "_", item_id).lstrip(".")  # an id is not a path
        tmp = folder / f".blocked-{safe}.json.tmp"
        tmp.write_text(json.dumps({"item_id": item_id, **result.report}, indent=2, default=str))
        tmp.replace(folder / f"blocked-{safe}.json")
        failed = [f"{r['check']} ({_why(r)})" for r in result.report["checks"] if r["action"] == "block"]
        return FidelityBlocked(f"blocked by the fidelity policy: {'; '.join(failed)}; nothing was stored", result.report)

    # -- 2. marks ------------------------------------------------------------------------------

    @property
    def keys(self):
        if self._keys is None:
            from generec.fidelity.keys import ensure_keys

            self._keys = ensure_keys(self.ws.root)
        return self._keys

    @property
    def watermarker(self):
        if self._watermarker is None:
            from generec.fidelity.watermark import Watermarker

            self._watermarker = Watermarker(self.keys.watermark_key)
        return self._watermarker

    def watermark_id(self, item_id: str) -> int:
        """A 32-bit id derived from the item id, unique in the workspace (rehashed on a clash)."""
        for salt in range(64):
            wid = int.from_bytes(hashlib.sha256(f"{item_id}:{salt}".encode()).digest()[:4], "big")
            if wid == 0:
                continue
            owner = self.ws.items.by_watermark(watermark_hex(wid))
            if owner is None or owner.id == item_id:
                return wid
        raise InputError(f"no free watermark id for {item_id!r}")  # 64 clashes in 2^32: never in practice

    def mark(self, candidate: Candidate, item_id: str, provenance: dict[str, Any], tmp: Path) -> Marked:
        """Watermark and sign the candidate's new files in `tmp`; the caller stores them."""
        from generec.fidelity.c2pa_manifest import manifest_definition, sign_file

        t0 = time.perf_counter()
        wid = self.watermark_id(item_id)
        created = candidate.kind == "create"
        parent = candidate.parent
        manifest = manifest_definition(
            title=candidate.title, action="created" if created else "edited", op=candidate.op, item_id=item_id,
            watermark_id=wid, parent=_parent_ref(parent), guidance=provenance.get("guidance"),
            model=provenance.get("model") or provenance.get("generator"), checkpoint=provenance.get("checkpoint_hash"),
            seed=provenance.get("seed"), mime="video/mp4",
        )  # fmt: skip
        video = None
        if candidate.video is not None:
            marked = tmp / "marked.mp4"
            self.watermarker.embed_video(candidate.video, marked, wid)
            video = tmp / "signed.mp4"
            sign_file(marked, video, "video/mp4", manifest, self.keys)
        cover = None
        if candidate.cover is not None:
            png = tmp / "cover.png"
            png.write_bytes(encode_image(self.watermarker.embed(candidate.cover, wid), "PNG"))
            signed = tmp / "cover-signed.png"
            sign_file(png, signed, "image/png", {**manifest, "format": "image/png"}, self.keys)
            cover = signed.read_bytes()
        return Marked(wid, video, cover, manifest, time.perf_counter() - t0)

    # -- both, for the editor and the creator ---------------------------------------------------

    def admit(self, candidate: Candidate, item_id: str, provenance: dict[str, Any], tmp: Path) -> tuple[GateResult, Marked]:
        """Check, then mark what may be served; raises `FidelityBlocked` for a blocked candidate."""
        result = self.check(candidate)
        if result.decision == "block":
            raise self.refuse(item_id, result)
        marked = self.mark(result.candidate, item_id, provenance, tmp)
        result.report["marks"] = {"watermark_id": watermark_hex(marked.watermark_id), "c2pa": True,
                                  "signer": self.keys.fingerprint, "seconds": round(marked.seconds, 4)}  # fmt: skip
        return result, marked


def _why(row: dict[str, Any]) -> str:
    ev = row.get("evidence") or {}
    reason = ev.get("reason") or ev.get("failed") or ""
    return f"{reason}, score {row['score']:.3g}" if reason else f"score {row['score']:.3g}"


def _parent_ref(parent: Item | None) -> dict[str, Any] | None:
    if parent is None:
        return None
    return {"id": parent.id, "title": parent.title, "media_hash": parent.media.hash if parent.media else None}


_GATES: dict[str, Gate] = {}


def gate_for(ws, policy: Policy | None = None) -> Gate:
    """The workspace's gate, made once per process (its models and catalogue statistics stay loaded)."""
    key = str(Path(ws.root).resolve())
    gate = _GATES.get(key)
    stale = gate is not None and policy is None and gate.policy_stamp != _policy_stamp(ws.root)  # policy.toml changed
    if gate is None or stale or gate.ws is not ws or (policy is not None and gate.policy is not policy):
        gate = _GATES[key] = Gate(ws, policy)
    return gate


def _policy_stamp(root) -> tuple[int, int] | None:
    """(mtime_ns, size) of the workspace's own policy.toml, None without one."""
    try:
        st = (Path(root) / "policy.toml").stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def servable(item: Item) -> bool:
    """May this item be shown? Human items, and AI items whose fidelity report lets them through:
    never a blocked one, nor a flagged one a reviewer blocked, nor an AI item with no report."""
    if item.origin == Origin.HUMAN:
        return True
    report = item.fidelity or {}
    if report.get("decision") not in ("serve", "flag"):
        return False
    return report.get("review") != "blocked"

