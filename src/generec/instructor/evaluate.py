"""Scoring an instruction parser against hand-labelled instructions.

An evaluation set is JSON lines, one instruction each:

    {"text": "no more cats", "context": {"last_feed": [...], "current_item": "v00042", "items": [...]},
     "expected": {"mode": "retrieve", "include": [], "exclude": ["animal"], "style": null,
                  "max_duration_s": null, "min_duration_s": null, "target_item": null,
                  "edit_op": null, "clarify": false}}

`context` is optional; `items` lists the ids that exist (it becomes `ParseContext.item_exists`;
without it ids are not checked); `vocabulary` is the catalogue's concept tags (a set written for
an imported catalogue on other topics names them); `usual_duration_s` is the typical length of
what the user watches, for "shorter" / "longer". A missing `expected` key means its default
(retrieve, nothing included or excluded, no style, no durations, no target, no edit op, no
question). `alternatives` (optional) lists other acceptable answers, each filled with the same
defaults, e.g. `[{"clarify": true}]` where a question is as good as the reading; an example is
scored against whichever of `expected` and its alternatives the guidance differs from least.

Metrics: accuracy of mode, style, edit op and clarify (question asked or not) over all examples;
include and exclude F1 micro-averaged over concepts (true positives, false positives and false
negatives summed over examples); duration accuracy (min and max both equal within 1e-6, None
equal to None); reference accuracy (target_item equal) over the examples that have a context
or an expected target; exact match (every field right); parse latency median and 95th
percentile, one `parse` call per example.

    python -m generec.instructor.evaluate [PATH ...]   # default: the packaged evalset.jsonl
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from generec.errors import InputError
from generec.instructor.guidance import Guidance
from generec.instructor.parser import EmbeddedParser, ParseContext

EVALSET_PATH = Path(__file__).with_name("evalset.jsonl")
VOICE_EVALSET_PATH = Path(__file__).with_name("evalset_voice.jsonl")  # users' own voice (issue 10)
EXPECTED_DEFAULTS: dict[str, Any] = {
    "mode": "retrieve", "include": [], "exclude": [], "style": None, "max_duration_s": None,
    "min_duration_s": None, "target_item": None, "edit_op": None, "clarify": False,
}  # fmt: skip
CONTEXT_KEYS = ("last_feed", "current_item", "items", "vocabulary", "reference_duration_s", "usual_duration_s")


@dataclass(frozen=True)
class EvalExample:
    text: str
    context: ParseContext
    expected: dict[str, Any]
    has_reference: bool  # counts towards reference accuracy
    alternatives: tuple[dict[str, Any], ...] = ()  # other acceptable answers, defaults filled in


@dataclass(frozen=True)
class EvalFailure:
    text: str
    fields: dict[str, dict[str, Any]]  # field -> {"expected": ..., "got": ...}


@dataclass
class InstructorReport:
    n: int
    mode_accuracy: float
    include_f1: float
    exclude_f1: float
    style_accuracy: float
    duration_accuracy: float
    reference_accuracy: float
    clarify_accuracy: float
    edit_op_accuracy: float
    latency_median_ms: float
    latency_p95_ms: float
    exact_match: float = 0.0  # share of examples right in every field
    failures: list[EvalFailure] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> dict[str, float]:
        """The numbers without the failures."""
        return {k: v for k, v in self.to_dict().items() if k != "failures"}


def _context(raw: dict[str, Any] | None, where: str) -> ParseContext:
    raw = raw or {}
    unknown = set(raw) - set(CONTEXT_KEYS)
    if unknown:
        raise InputError(f"{where}: unknown context keys {sorted(unknown)}; expected some of {list(CONTEXT_KEYS)}")
    items = raw.get("items")
    known = frozenset(items) if items is not None else None
    kwargs: dict[str, Any] = {
        "last_feed": tuple(raw.get("last_feed", ())),
        "current_item": raw.get("current_item"),
        "item_exists": known.__contains__ if known is not None else None,
        "reference_duration_s": raw.get("reference_duration_s"),
        "usual_duration_s": raw.get("usual_duration_s"),
    }
    if raw.get("vocabulary"):
        kwargs["vocabulary"] = tuple(raw["vocabulary"])
    return ParseContext(**kwargs)


def _expected(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InputError(f'{where}: "expected" must be an object')
    unknown = set(raw) - set(EXPECTED_DEFAULTS)
    if unknown:
        raise InputError(f"{where}: unknown expected keys {sorted(unknown)}; expected some of {list(EXPECTED_DEFAULTS)}")
    return {**EXPECTED_DEFAULTS, **raw}


def load_evalset(path: str | Path | None = None) -> list[EvalExample]:
    """Examples from a JSON-lines file (default: the packaged evalset.jsonl)."""
    path = Path(path) if path is not None else EVALSET_PATH
    if not path.is_file():
        raise InputError(f"{path}: expected an evaluation set (JSON lines), found no file")
    examples: list[EvalExample] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{where}: expected a JSON object, found invalid JSON ({e.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise InputError(f'{where}: expected an object with a "text" string')
        unknown_row = set(row) - {"text", "context", "expected", "alternatives"}
        if unknown_row:
            raise InputError(f"{where}: unknown keys {sorted(unknown_row)}; expected text, context, expected, alternatives")
        expected = _expected(row.get("expected", {}), where)
        alternatives = row.get("alternatives", [])
        if not isinstance(alternatives, list) or not all(isinstance(a, dict) for a in alternatives):
            raise InputError(f'{where}: "alternatives" must be a list of objects like "expected"')
        raw_context = row.get("context")
        has_reference = bool(raw_context) or expected["target_item"] is not None
        examples.append(EvalExample(row["text"], _context(raw_context, where), expected, has_reference,
                                    tuple(_expected(a, where) for a in alternatives)))  # fmt: skip
    if not examples:
        raise InputError(f"{path}: expected at least one example, found none")
    return examples


def _f1(tp: int, fp: int, fn: int) -> float:
    if tp + fp + fn == 0:
        return 1.0
    return 2 * tp / (2 * tp + fp + fn)


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-6


def compare(guidance: Guidance, expected: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields where `guidance` differs from `expected` (include/exclude as sets)."""
    got = {
        "mode": guidance.mode, "include": sorted(guidance.include), "exclude": sorted(guidance.exclude),
        "style": guidance.style, "max_duration_s": guidance.max_duration_s, "min_duration_s": guidance.min_duration_s,
        "target_item": guidance.target_item, "edit_op": guidance.edit_op, "clarify": guidance.clarify is not None,
    }  # fmt: skip
    want = dict(expected, include=sorted(expected["include"]), exclude=sorted(expected["exclude"]))
    diff = {}
    for key, value in want.items():
        same = _same(got[key], value) if key.endswith("duration_s") else got[key] == value
        if not same:
            diff[key] = {"expected": value, "got": got[key]}
    return diff


def evaluate_parser(parser: EmbeddedParser, examples: list[EvalExample]) -> InstructorReport:
    """Parse every example (one `parse` call each, timed) and score the guidance."""
    if not examples:
        raise InputError("evaluate_parser: expected at least one example")
    parser.parse(examples[0].text, examples[0].context)  # warm-up: encoder, exemplars, prototypes
    latencies: list[float] = []
    counts = {"mode": 0, "style": 0, "duration": 0, "clarify": 0, "edit_op": 0, "ref": 0, "ref_n": 0}
    inc = [0, 0, 0]  # tp, fp, fn
    exc = [0, 0, 0]
    failures: list[EvalFailure] = []
    for ex in examples:
        start = time.perf_counter()
        guidance = parser.parse(ex.text, ex.context)
        latencies.append(1000.0 * (time.perf_counter() - start))
        exp = min((ex.expected, *ex.alternatives), key=lambda e: len(compare(guidance, e)))
        counts["mode"] += guidance.mode == exp["mode"]
        counts["style"] += guidance.style == exp["style"]
        counts["duration"] += _same(guidance.max_duration_s, exp["max_duration_s"]) and _same(
            guidance.min_duration_s, exp["min_duration_s"]
        )
        counts["clarify"] += (guidance.clarify is not None) == bool(exp["clarify"])
        counts["edit_op"] += guidance.edit_op == exp["edit_op"]
        if ex.has_reference:
            counts["ref_n"] += 1
            counts["ref"] += guidance.target_item == exp["target_item"]
        for got, want, acc in ((guidance.include, exp["include"], inc), (guidance.exclude, exp["exclude"], exc)):
            got_set, want_set = set(got), set(want)
            acc[0] += len(got_set & want_set)
            acc[1] += len(got_set - want_set)
            acc[2] += len(want_set - got_set)
        diff = compare(guidance, exp)
        if diff:
            failures.append(EvalFailure(ex.text, diff))
    n = len(examples)
    lat = np.asarray(latencies)
    return InstructorReport(
        n=n,
        mode_accuracy=counts["mode"] / n,
        include_f1=_f1(*inc),
        exclude_f1=_f1(*exc),
        style_accuracy=counts["style"] / n,
        duration_accuracy=counts["duration"] / n,
        reference_accuracy=counts["ref"] / counts["ref_n"] if counts["ref_n"] else 1.0,
        clarify_accuracy=counts["clarify"] / n,
        edit_op_accuracy=counts["edit_op"] / n,
        latency_median_ms=float(np.median(lat)),
        latency_p95_ms=float(np.percentile(lat, 95)),
        exact_match=(n - len(failures)) / n,
        failures=failures,
    )


def time_parse(parser: EmbeddedParser, texts: Sequence[str], context: ParseContext | None = None) -> list[float]:
    """Milliseconds per `parser.parse` call, one call per text (after one warm-up parse)."""
    parser.parse(texts[0], context)
    out = []
    for text in texts:
        start = time.perf_counter()
        parser.parse(text, context)
        out.append(1000.0 * (time.perf_counter() - start))
    return out


def main(argv: list[str] | None = None) -> int:
    paths = (argv if argv is not None else sys.argv[1:]) or [None]
    parser = EmbeddedParser()
    for path in paths:
        report = evaluate_parser(parser, load_evalset(path))
        print(json.dumps({"path": str(path or EVALSET_PATH), **report.summary()}, indent=2))
        for failure in report.failures:
            print(json.dumps(asdict(failure), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
