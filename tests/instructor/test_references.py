"""Item references in an instruction."""

from __future__ import annotations

from generec.instructor.context import ParseContext, ParserConfig
from generec.instructor.references import Reference, find_references, normalise_item_id, resolve_reference
from generec.instructor.tokens import Tokens, tokenize

FEED = ("v00010", "v00020", "v00030", "v00040")
CURRENT = "v00042"
KNOWN = {"v00007", "v00012", "v00042", "v00123"}


def test_find_references_kinds_and_positions():
    t = Tokens(tokenize("make the second one like this, then #3, the last video, item v12 and it"))
    refs = find_references(t, is_content=lambda w: False)
    assert [(r.kind, r.value) for r in refs] == [
        ("feed", 2), ("deictic", None), ("feed", 3), ("feed", -1), ("id", "v12"), ("pronoun", None),
    ]  # fmt: skip
    # "that" introducing a clause or modifying a topic is not a reference
    assert find_references(Tokens(tokenize("anything that isn't food")), lambda w: False) == []
    assert find_references(Tokens(tokenize("that microscope stuff")), lambda w: w == "microscope") == []


def test_resolve_reference_never_raises():
    cfg = ParserConfig()
    ctx = ParseContext(last_feed=FEED, current_item=CURRENT, item_exists=KNOWN.__contains__)
    assert resolve_reference(Reference("feed", 2, 0, 1), ctx, cfg) == ("v00020", None)
    assert resolve_reference(Reference("feed", -1, 0, 1), ctx, cfg) == ("v00040", None)
    assert resolve_reference(Reference("deictic", None, 0, 1), ctx, cfg) == (CURRENT, None)
    assert resolve_reference(Reference("id", "v12", 0, 1), ctx, cfg) == ("v00012", None)
    target, question = resolve_reference(Reference("feed", 7, 0, 1), ctx, cfg)
    assert target is None and "only showed you 4" in question
    target, question = resolve_reference(Reference("id", "v999", 0, 1), ctx, cfg)
    assert target is None and "can't find item v999" in question
    target, question = resolve_reference(Reference("deictic", None, 0, 1), ParseContext(), cfg)
    assert target is None and "Which video" in question
    assert normalise_item_id("V7", cfg) == ["v7", "v00007"]
