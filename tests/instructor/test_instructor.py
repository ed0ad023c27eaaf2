"""The instructor end to end on the tiny benchmark: sessions, persistence, fusion, activation, feeds."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from generec.errors import InputError
from generec.instructor.guidance import Guidance
from generec.instructor.activation import ActivationConfig
from generec.instructor.instructor import Instructor, InstructorConfig, session_from_instructions
from generec.pipeline import GeneRec, GeneRecConfig, get_parser
from generec.retrieval import RETRIEVERS
from generec.retrieval.data import full_data
from generec.retrieval.serving import save_current
from generec.retrieval.trainer import default_config
from generec.types import Event, Interaction, Origin
from generec.workspace import Workspace

NOW = 2_000_000_000.0  # later than every logged event


@pytest.fixture(scope="module")
def bench(tiny_bench, tmp_path_factory):
    """A copy of the tiny benchmark with EASE trained and saved as the current retriever."""
    root = tmp_path_factory.mktemp("instructor") / "ws"
    shutil.copytree(tiny_bench[0], root)
    ws = Workspace.open(root)
    data = full_data(ws)
    save_current(ws, RETRIEVERS["ease"](default_config("ease")).fit(data))
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def fan(bench) -> str:
    """The user with the most positives."""
    data = full_data(bench)
    return str(data.user_ids[int(np.argmax(np.asarray(data.matrix.sum(1)).ravel()))])


@pytest.fixture(scope="module")
def loop(bench):
    """The loop without impression logging: these tests share one workspace."""
    return GeneRec(bench, GeneRecConfig(log_impressions=False), get_parser(), clock=lambda: NOW)


@pytest.fixture(scope="module")
def instructor(loop):
    return loop.instructor


PLAIN = ("animal", "food", "person", "space", "architecture", "science")  # words that parse to themselves


def top_concept(instructor: Instructor, user: str) -> str:
    """A concept tag of one of the user's top retrieved items (so an edit can always serve it)."""
    for scored in instructor.retriever().recommend(user, 10).items:
        for tag in instructor.ws.items.get(scored.item_id).tags:
            if tag in PLAIN:
                return tag
    raise AssertionError(f"no plain concept among {user}'s top items")


def test_feedback_alone(instructor, fan, bench):
    g = instructor(fan, None, session="fb")
    assert (g.mode, g.include, g.user_vector, g.source) == ("retrieve", (), "history", "feedback")
    assert len(g.vector) == 384 and g.vector_space == "minilm-l6-v2"
    assert g.notes[-1].startswith("activation: retrieve")
    assert bench.instructions.for_session(fan, "fb") == []  # no text, nothing stored


def test_too_long_for_the_top_candidates_is_a_clip(instructor, fan):
    concept = top_concept(instructor, fan)
    g = instructor(fan, f"show me {concept} under 2 seconds", session="clip")
    assert g.mode == "repurpose" and g.edit_op == "clip" and g.target_item is not None
    assert concept in g.include and g.max_duration_s == 2.0 and g.user_vector == "history+instruction"
    assert "too long" in g.notes[-1]
    assert not g.mode_explicit  # "show me" asked to retrieve; activation chose to repurpose


def test_explicit_create_and_skip_streaks(instructor, fan):
    assert instructor(fan, "make me a video about space", session="create").mode == "create"
    skips = [Interaction(fan, f"v{k:05d}", NOW - 60 + k, Event.SKIP) for k in range(3)]
    g = instructor(fan, None, history=skips, session="skips")
    assert g.mode == "create" and "skipped 3 items in a row" in g.notes[-1]
    old = [Interaction(fan, e.item_id, e.ts - 86_400, e.event) for e in skips]  # a streak from yesterday
    assert instructor(fan, None, history=old, session="skips").mode == "retrieve"


def test_bad_inputs_store_nothing(instructor, fan, bench):
    before = bench.instructions.count()
    with pytest.raises(InputError, match="unknown user"):
        instructor("nobody", "more cats")
    for text in ("", "   ", "x" * 5000, "\x00\x01\x02\x03"):
        with pytest.raises(InputError):
            instructor(fan, text, session="bad")
    with pytest.raises(InputError, match="history"):
        instructor(fan, None, history="v00001")
    with pytest.raises(InputError, match="session"):
        instructor(fan, "more cats", session="")
    assert bench.instructions.count() == before and instructor.dialogue.get(fan, "bad") is None


def test_sessions_persist_and_a_new_process_continues(bench, fan):
    first = Instructor(bench, get_parser(), clock=lambda: NOW)
    first(fan, "animals please, mail me at bob@example.com", session="talk")
    g = first(fan, "in black and white", session="talk")
    assert g.include == ("animal",) and g.style == "black_and_white"
    rows = bench.instructions.for_session(fan, "talk")
    assert len(rows) == 2 and "bob@example.com" not in rows[0].text and "[email]" in rows[0].text
    assert rows[1].guidance["include"] == []  # each row is the turn's own guidance, before merging
    # a new instructor (a new process) rebuilds the session from the rows
    second = Instructor(bench, get_parser(), clock=lambda: NOW)
    g = second(fan, "under 3 seconds", session="talk")
    assert (g.include, g.style, g.max_duration_s) == (("animal",), "black_and_white", 3.0)
    assert len(second.dialogue.get(fan, "talk").turns) == 3
    # a reset is stored too, and honoured when rebuilding
    second(fan, "start over", session="talk")
    state = session_from_instructions(fan, "talk", bench.instructions.for_session(fan, "talk"))
    assert state.current is None and state.turns == []
    third = Instructor(bench, get_parser(), clock=lambda: NOW)
    assert third(fan, "space", session="talk").include == ("space",)


def test_without_a_retriever_the_parsed_mode_stays(tiny_bench, tmp_path, fan):
    root = tmp_path / "ws"
    shutil.copytree(tiny_bench[0], root)
    with Workspace.open(root) as ws:
        ins = Instructor(ws, get_parser(), InstructorConfig(persist=False), clock=lambda: NOW)
        g = ins(fan, "show me food under 2 seconds")
        assert g.mode == "retrieve" and any("no retriever" in n for n in g.notes)
        assert ws.instructions.count() == 0
        result = GeneRec(ws, GeneRecConfig(InstructorConfig(persist=False)), get_parser(), lambda: NOW).feed(fan, 3, guidance=g)
        assert result.items == [] and any("no retriever" in n for n in result.notes)


def test_apply_retrieve_honours_exclusions(instructor, loop, fan, bench):
    g = instructor(fan, f"no {top_concept(instructor, fan)} please", session="feed")
    result = loop.feed(fan, 5, guidance=g, session="feed")
    assert result.mode == "retrieve" and len(result.items) == 5
    for entry in result.items:
        assert g.exclude[0] not in bench.items.get(entry.item_id).tags
    assert instructor.dialogue.get(fan, "feed").last_feed == tuple(result.item_ids)
    # the feed is what "the second one" refers to
    again = instructor(fan, "make the second one black and white", session="feed")
    assert (again.mode, again.target_item, again.edit_op) == ("repurpose", result.item_ids[1], "style")


def test_apply_create_without_a_trained_creator_falls_back_to_retrieval(instructor, loop, fan):
    g = instructor(fan, "make me a video about space", session="create")
    result = loop.feed(fan, 4, guidance=g)
    assert result.requested_mode == "create" and result.mode == "retrieve" and len(result.items) == 4
    assert result.creations == [] and any("generec train --model creator" in n for n in result.notes)


def test_apply_repurpose_edits_the_target(instructor, loop, fan, bench):
    g = instructor(fan, f"show me {top_concept(instructor, fan)} under 2 seconds", session="clip")
    result = loop.feed(fan, 3, guidance=g, session="clip")
    assert result.mode == "repurpose" and len(result.edits) == 1
    edited = result.edits[0]
    assert result.items[0].item_id == edited.item.id and edited.item.origin == Origin.AI_EDITED
    assert edited.parent.id == g.target_item and edited.params["end"] - edited.params["start"] <= 2.0 + 1e-6
    assert edited.item.provenance["guidance"]["vector"] is None  # the request is kept, not the vector
    assert g.target_item not in result.item_ids
    # an edit that cannot be made falls back to retrieval
    impossible = Guidance(mode="repurpose", target_item=g.target_item, edit_op="clip", max_duration_s=0.5)
    fallback = loop.feed(fan, 2, guidance=impossible)
    assert fallback.mode == "retrieve" and fallback.edits == [] and any("could not clip" in n for n in fallback.notes)
    with pytest.raises(InputError, match="k must be"):
        loop.feed(fan, 0, guidance=g)


def test_activation_checks_what_the_feed_would_serve(bench, fan):
    """The "no candidate satisfies" check and the served feed agree, even when the retriever's
    top-k (here 1) shows none of what was asked but the constrained pool the feed draws from does."""
    small_loop = GeneRec(bench, GeneRecConfig(InstructorConfig(activation=ActivationConfig(k=1)), log_impressions=False), get_parser(), lambda: NOW)
    small = small_loop.instructor
    top = small.retriever().recommend(fan, 1, exclude_seen=True).items[0].item_id
    concept = next(c for c in PLAIN if c not in bench.items.get(top).tags)
    g = small(fan, f"more {concept}", session="agree")
    feed = small_loop.feed(fan, 3, guidance=g, session="agree")
    assert g.mode == "retrieve", g.notes
    assert concept in bench.items.get(feed.item_ids[0]).tags

