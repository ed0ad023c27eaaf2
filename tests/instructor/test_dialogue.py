"""Dialogue sessions: refinement, relative durations, resets, independence, persistence."""

from __future__ import annotations

from typing import Any

import pytest

from generec.errors import InputError
from generec.instructor.dialogue import Dialogue, merge, reset_request
from generec.instructor.guidance import Guidance


class ScriptedParser:
    """A real parser for tests: each known text maps to the Guidance a parser would return."""

    def __init__(self, script: dict[str, dict[str, Any]]) -> None:
        self.script = script
        self.seen: list[tuple[str, Any]] = []

    def parse(self, text: str, context: Any = None) -> Guidance:
        self.seen.append((text, context))
        return Guidance(source="embedded", text=text, **self.script.get(text, {}))


def g(**fields: Any) -> Guidance:
    return Guidance(source="embedded", **fields)


CATS = g(text="show me cats", include=("cat", "animal"))
CARTOON = g(text="actually make it a cartoon", style="cartoon", mode="repurpose", edit_op="style")


def test_cartoon_turn_changes_only_the_style():
    merged = merge(CATS, CARTOON)
    assert merged.include == ("cat", "animal") and merged.style == "cartoon"
    assert merged.mode == "retrieve" and not merged.mode_explicit  # an implicit mode does not win
    assert merged.edit_op is None
    same = {"include", "exclude", "max_duration_s", "min_duration_s", "target_item", "user_vector", "mode"}
    assert {k: getattr(merged, k) for k in same} == {k: getattr(CATS, k) for k in same}
    assert merged.text == "actually make it a cartoon"


def test_make_it_refers_back_to_the_session():
    # the embedded parser reads "make it a cartoon" as an explicit repurpose with no item and asks which
    asked = CARTOON.model_copy(update={"mode_explicit": True, "clarify": "Which video do you mean?", "confidence": 0.4})
    merged = merge(CATS, asked)
    assert merged.mode == "retrieve" and merged.edit_op is None and merged.clarify is None
    assert merged.include == ("cat", "animal") and merged.style == "cartoon"
    # after a repurpose of v1, "it" is v1
    cover = g(text="make a cover for v1", mode="repurpose", mode_explicit=True, edit_op="cover", target_item="v1")
    merged = merge(cover, asked)
    assert merged.mode == "repurpose" and merged.edit_op == "style" and merged.target_item == "v1"
    assert merged.clarify is None
    # a bare "edit it" says nothing to change: the question stands
    bare = g(text="edit it", mode="repurpose", mode_explicit=True, clarify="Which video do you mean?")
    merged = merge(CATS, bare)
    assert merged.mode == "repurpose" and merged.clarify == "Which video do you mean?"


def test_concepts_accumulate_and_move_between_include_and_exclude():
    first = g(text="cats and dogs, no beaches", include=("cat", "dog"), exclude=("beach",))
    second = g(text="no dogs after all, beaches are fine, add birds", include=("beach", "bird"), exclude=("dog",))
    merged = merge(first, second)
    assert merged.include == ("cat", "beach", "bird") and merged.exclude == ("dog",)


def test_explicit_mode_wins_and_clarify_comes_from_the_newest_turn_only():
    first = g(text="edit it", mode="repurpose", mode_explicit=True, clarify="Which video?", confidence=0.4)
    second = g(text="make a new one instead", mode="create", mode_explicit=True, include=("cat",))
    merged = merge(first, second)
    assert merged.mode == "create" and merged.mode_explicit
    assert merged.clarify is None and merged.confidence == 1.0
    third = merge(merged, g(text="with a dog", include=("dog",), mode="retrieve"))
    assert third.mode == "create" and third.include == ("cat", "dog")


def test_repurpose_keeps_its_target_and_takes_the_newest_op():
    cover = g(text="make a cover for v1", mode="repurpose", mode_explicit=True, edit_op="cover", target_item="v1")
    merged = merge(cover, CARTOON)
    assert merged.mode == "repurpose" and merged.edit_op == "style" and merged.target_item == "v1"


@pytest.mark.parametrize(
    ("before", "text", "after"),
    [
        ({"max_duration_s": 30.0}, "no, longer", {"min_duration_s": 30.0, "max_duration_s": None}),
        ({"min_duration_s": 10.0, "max_duration_s": 30.0}, "longer", {"min_duration_s": 30.0, "max_duration_s": None}),
        ({"min_duration_s": 20.0}, "too short", {"min_duration_s": 40.0, "max_duration_s": None}),
        ({"min_duration_s": 20.0, "max_duration_s": 60.0}, "shorter", {"min_duration_s": None, "max_duration_s": 20.0}),
        ({"max_duration_s": 60.0}, "way too long", {"min_duration_s": None, "max_duration_s": 30.0}),
        ({"max_duration_s": 30.0}, "I no longer want cats", {"min_duration_s": None, "max_duration_s": 30.0}),
        ({}, "longer", {"min_duration_s": None, "max_duration_s": None}),
    ],
)
def test_relative_durations(before, text, after):
    merged = merge(g(text="cats", include=("cat",), **before), g(text=text))
    assert {"min_duration_s": merged.min_duration_s, "max_duration_s": merged.max_duration_s} == after
    assert merged.include == ("cat",)
    if not before:
        assert merged.notes == ("longer: no earlier duration to compare with",)


def test_explicit_durations_win_and_drop_a_contradicting_bound():
    merged = merge(g(text="under 30 s", max_duration_s=30.0), g(text="at least a minute", min_duration_s=60.0))
    assert merged.min_duration_s == 60.0 and merged.max_duration_s is None
    both = g(text="10 to 60 s", min_duration_s=10.0, max_duration_s=60.0)
    merged = merge(both, g(text="under 40 s", max_duration_s=40.0))
    assert merged.min_duration_s == 10.0 and merged.max_duration_s == 40.0


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("start over", ""),
        ("Start Over!", ""),
        ("strat over", ""),
        ("ok, let's start over please", ""),
        ("RESET", ""),
        ("forget that", ""),
        ("nevermind everything", ""),
        ("no, start over: show me dogs", "show me dogs"),
    ],
)
def test_reset_phrases_are_tolerant(text, rest):
    assert reset_request(text) == (True, rest)


@pytest.mark.parametrize(
    "text", ["show me cats", "no, longer", "rest", "forget that cat video and show dogs", "start a cartoon"]
)
def test_ordinary_instructions_are_not_resets(text):
    assert reset_request(text) == (False, text)


def test_dialogue_refines_then_resets():
    parser = ScriptedParser({
        "show me cats": {"include": ("cat", "animal")},
        "actually make it a cartoon": {"style": "cartoon", "mode": "repurpose", "edit_op": "style"},
        "under 30 seconds": {"max_duration_s": 30.0},
        "show me dogs": {"include": ("dog",)},
    })  # fmt: skip
    dialogue = Dialogue()
    dialogue.turn("u1", "s1", "show me cats", parser, None)
    merged = dialogue.turn("u1", "s1", "actually make it a cartoon", parser, None)
    assert merged.include == ("cat", "animal") and merged.style == "cartoon" and merged.mode == "retrieve"
    dialogue.turn("u1", "s1", "under 30 seconds", parser, None)
    merged = dialogue.turn("u1", "s1", "no, longer", parser, None)
    assert merged.min_duration_s == 30.0 and merged.max_duration_s is None and merged.style == "cartoon"
    state = dialogue.get("u1", "s1")
    texts = ["show me cats", "actually make it a cartoon", "under 30 seconds", "no, longer"]
    assert [t.text for t in state.turns] == texts
    assert state.current == merged and state.turns[1].guidance.include == ()

    reset = dialogue.turn("u1", "s1", "Start over", parser, None)
    assert reset.include == () and reset.style is None and reset.notes == ("dialogue reset",)
    assert dialogue.get("u1", "s1").turns == [] and dialogue.get("u1", "s1").current is None

    fresh = dialogue.turn("u1", "s1", "reset, show me dogs", parser, None)
    assert fresh.include == ("dog",) and fresh.style is None and "dialogue reset" in fresh.notes
    assert parser.seen[-1][0] == "show me dogs"


def test_sessions_are_independent_per_user_and_session():
    parser = ScriptedParser({"show me cats": {"include": ("cat",)}, "show me dogs": {"include": ("dog",)}})
    dialogue = Dialogue()
    assert dialogue.turn("alice", "s1", "show me cats", parser).include == ("cat",)
    assert dialogue.turn("bob", "s1", "show me dogs", parser).include == ("dog",)
    assert dialogue.turn("alice", "s2", "show me dogs", parser).include == ("dog",)
    assert dialogue.turn("alice", "s1", "show me dogs", parser).include == ("cat", "dog")
    dialogue.turn("bob", "s1", "start over", parser)
    assert dialogue.get("alice", "s1").current.include == ("cat", "dog")
    assert dialogue.get("bob", "s1").current is None and dialogue.get("carol", "s1") is None
    assert len(dialogue) == 3


def test_last_feed_fills_a_context_without_one():
    from dataclasses import dataclass

    @dataclass
    class Context:
        vocabulary: tuple[str, ...] = ()
        last_feed: tuple[str, ...] = ()
        current_item: str | None = None
        item_exists: Any = None

    parser = ScriptedParser({})
    dialogue = Dialogue()
    dialogue.set_feed("u1", "s1", ["v1", "v2"])
    dialogue.turn("u1", "s1", "the second one as a sketch", parser, Context())
    assert parser.seen[-1][1].last_feed == ("v1", "v2")
    dialogue.turn("u1", "s1", "the first one", parser, Context(last_feed=("v9",)))
    assert parser.seen[-1][1].last_feed == ("v9",)  # the caller's own feed wins


def test_json_round_trip():
    parser = ScriptedParser({"show me cats": {"include": ("cat",)}, "cartoon": {"style": "cartoon"}})
    dialogue = Dialogue()
    dialogue.turn("u1", "s1", "show me cats", parser)
    dialogue.turn("u1", "s1", "cartoon", parser)
    dialogue.set_feed("u1", "s1", ["v1"])
    dialogue.turn("u2", "s9", "show me cats", parser)
    restored = Dialogue.from_json(dialogue.to_json())
    for key in [("u1", "s1"), ("u2", "s9")]:
        assert restored.get(*key) == dialogue.get(*key)
    assert restored.get("u1", "s1").last_feed == ("v1",)
    # and the restored dialogue carries on where it was
    assert restored.turn("u1", "s1", "no, longer", parser).style == "cartoon"


@pytest.mark.parametrize(
    "text", ["not json", '{"version": 99, "sessions": []}', '{"version": 1, "sessions": [{"user_id": "u"}]}']
)
def test_from_json_refuses_what_it_did_not_write(text):
    with pytest.raises(InputError, match="dialogue file"):
        Dialogue.from_json(text)


def test_bad_ids_are_refused():
    with pytest.raises(InputError, match="user_id"):
        Dialogue().turn("", "s1", "show me cats", ScriptedParser({}))


def test_through_the_real_embedded_parser():
    parser_module = pytest.importorskip("generec.instructor.parser")
    parser = parser_module.EmbeddedParser()
    context = parser_module.ParseContext(
        vocabulary=("cat", "dog", "animal"), last_feed=(), current_item=None, item_exists=None
    )
    dialogue = Dialogue()
    first = dialogue.turn("u1", "s1", "show me cats", parser, context)
    second = dialogue.turn("u1", "s1", "actually make it a cartoon", parser, context)
    assert "cat" in first.include and second.include == first.include and second.style == "cartoon"
    assert second.mode == first.mode and second.clarify is None
    dialogue.turn("u1", "s1", "under 30 seconds", parser, context)
    longer = dialogue.turn("u1", "s1", "no, longer", parser, context)
    assert longer.min_duration_s == 30.0 and longer.max_duration_s is None and longer.style == "cartoon"
    assert dialogue.turn("u1", "s1", "start over", parser, context).include == ()
    assert dialogue.get("u1", "s1").current is None
