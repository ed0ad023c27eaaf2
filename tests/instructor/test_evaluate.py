from __future__ import annotations

import json
from pathlib import Path

import pytest

from generec.errors import InputError
from generec.instructor.evaluate import (
    EVALSET_PATH,
    VOICE_EVALSET_PATH,
    InstructorReport,
    compare,
    evaluate_parser,
    load_evalset,
)
from generec.instructor.guidance import Guidance
from generec.instructor.parser import EmbeddedParser

HELDOUT_PATH = Path(__file__).with_name("heldout.jsonl")
FEATURES = {  # every feature the parser claims is exercised by the evaluation set
    "create": lambda e: e.expected["mode"] == "create",
    "repurpose": lambda e: e.expected["mode"] == "repurpose",
    "exclude": lambda e: bool(e.expected["exclude"]),
    "include and exclude": lambda e: bool(e.expected["include"]) and bool(e.expected["exclude"]),
    "duration range": lambda e: e.expected["min_duration_s"] is not None and e.expected["max_duration_s"] is not None,
    "style": lambda e: e.expected["style"] is not None,
    "feed reference": lambda e: e.expected["target_item"] in e.context.last_feed,
    "current item": lambda e: e.context.current_item is not None
    and e.expected["target_item"] == e.context.current_item,
    "clarify": lambda e: e.expected["clarify"],
    "cover": lambda e: e.expected["edit_op"] == "cover",
    "out of vocabulary": lambda e: any(
        c not in e.context.vocabulary for c in e.expected["include"] + e.expected["exclude"]
    ),
}


@pytest.fixture(scope="module")
def parser() -> EmbeddedParser:
    return EmbeddedParser().warm_up()


def check_targets(report: InstructorReport) -> None:
    summary = json.dumps(report.summary(), indent=1)
    failures = "\n".join(f"{f.text!r}: {f.fields}" for f in report.failures)
    assert report.mode_accuracy >= 0.9, summary + failures
    assert report.include_f1 >= 0.85, summary + failures
    assert report.exclude_f1 >= 0.85, summary + failures
    assert report.duration_accuracy >= 0.95, summary + failures
    # parse latency is measured by `generec evaluate instructor` (docs/BENCHMARKS.md), not asserted in a timed test


def test_evalset_size_and_coverage():
    examples = load_evalset()
    assert len(examples) >= 170
    assert len({e.text for e in examples}) == len(examples)
    for name, has in FEATURES.items():
        assert sum(map(has, examples)) >= 3, f"the evaluation set has too few {name} examples"


def test_heldout_is_separate():
    heldout = load_evalset(HELDOUT_PATH)
    assert len(heldout) >= 40
    assert not {e.text.lower() for e in heldout} & {e.text.lower() for e in load_evalset()}


def test_evalset_meets_targets(parser):
    report = evaluate_parser(parser, load_evalset())
    check_targets(report)
    assert report.n == len(load_evalset()) and 0 < report.latency_median_ms <= report.latency_p95_ms
    assert set(report.to_dict()) >= {
        "mode_accuracy", "include_f1", "exclude_f1", "style_accuracy", "duration_accuracy", "reference_accuracy",
        "clarify_accuracy", "failures", "latency_median_ms", "latency_p95_ms",
    }  # fmt: skip


def test_heldout_meets_targets(parser):
    check_targets(evaluate_parser(parser, load_evalset(HELDOUT_PATH)))


def test_metrics_count_what_they_claim(parser, tmp_path):
    rows = [
        {"text": "more cats", "expected": {"include": ["animal"]}},  # right
        {"text": "no dogs", "expected": {"include": ["animal"]}},  # wrong polarity: include fn, exclude fp
        {"text": "under 10 seconds", "expected": {"max_duration_s": 20}},  # wrong duration
        {"text": "edit the second one", "context": {"last_feed": ["a", "b"]},
         "expected": {"mode": "repurpose", "target_item": "b"}},  # fmt: skip
    ]
    path = tmp_path / "mini.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = evaluate_parser(parser, load_evalset(path))
    assert report.n == 4
    assert report.mode_accuracy == 1.0
    assert report.include_f1 == pytest.approx(2 * 1 / (2 * 1 + 0 + 1))  # tp 1, fp 0, fn 1
    assert report.exclude_f1 == 0.0  # tp 0, fp 1
    assert report.duration_accuracy == 0.75
    assert report.reference_accuracy == 1.0  # one example with a context
    assert [f.text for f in report.failures] == ["no dogs", "under 10 seconds"]
    assert report.failures[1].fields == {"max_duration_s": {"expected": 20, "got": 10.0}}


def test_compare_treats_concepts_as_sets():
    g = Guidance(include=("food", "animal"))
    assert compare(g, {**_defaults(), "include": ["animal", "food"]}) == {}
    diff = compare(g, {**_defaults(), "include": ["animal"]})
    assert diff == {"include": {"expected": ["animal"], "got": ["animal", "food"]}}


def _defaults() -> dict:
    return {"mode": "retrieve", "include": [], "exclude": [], "style": None, "max_duration_s": None,
            "min_duration_s": None, "target_item": None, "edit_op": None, "clarify": False}  # fmt: skip


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "invalid JSON"),
        ('{"expected": {}}', '"text" string'),
        ('{"text": "x", "expected": {"mood": "sad"}}', "unknown expected keys"),
        ('{"text": "x", "context": {"feed": []}}', "unknown context keys"),
        ('{"text": "x", "alternatives": {"clarify": true}}', "must be a list"),
        ('{"text": "x", "answer": {}}', "unknown keys"),
    ],
)
def test_load_evalset_refuses_bad_lines(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(InputError, match=message):
        load_evalset(path)
    with pytest.raises(InputError, match="no file"):
        load_evalset(tmp_path / "missing.jsonl")


def test_packaged_evalset_path():
    assert EVALSET_PATH.name == "evalset.jsonl" and EVALSET_PATH.is_file()


def test_an_alternative_answer_counts_as_right(parser, tmp_path):
    rows = [
        {"text": "quiero videos de gatos", "expected": {"include": ["animal"]}, "alternatives": [{"clarify": True}]},
        {"text": "shorter videos pls", "context": {"usual_duration_s": 20.0}, "expected": {"max_duration_s": 12.0}},
    ]
    path = tmp_path / "alt.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    examples = load_evalset(path)
    assert examples[0].alternatives[0]["clarify"] is True and examples[0].alternatives[0]["include"] == []
    assert examples[1].context.usual_duration_s == 20.0
    report = evaluate_parser(parser, examples)
    assert report.failures == [] and report.clarify_accuracy == 1.0 and report.include_f1 == 1.0


def test_voice_evalset_is_users_own_voice_and_scored_honestly(parser):
    examples = load_evalset(VOICE_EVALSET_PATH)
    assert len(examples) >= 150
    assert sum(bool(e.alternatives) for e in examples) >= 20  # sarcasm, other languages: a question is fine
    assert sum(e.context.vocabulary[0] == "cooking" for e in examples) >= 25  # an imported catalogue's topics
    report = evaluate_parser(parser, examples)
    # the first score, as written, before the fixes: 93 / 158 exact, include F1 0.698, exclude F1 0.574
    assert report.n - len(report.failures) >= 145, [(f.text, f.fields) for f in report.failures]
    assert report.include_f1 >= 0.9 and report.exclude_f1 >= 0.9 and report.duration_accuracy >= 0.95

