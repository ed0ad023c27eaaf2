"""Activation: reading items against guidance, and the retrieve / repurpose / create rules."""

from __future__ import annotations

import pytest

from generec.errors import InputError
from generec.instructor.activation import (
    ActivationConfig,
    check_candidates,
    check_item,
    decide,
    read_item,
    recent_events,
    skip_streak,
)
from generec.instructor.guidance import Guidance
from generec.types import Event, Interaction, Item, Kind, Media, User

VOCAB = ("animal", "food", "person", "space")


def video(item_id: str, title: str, tags: list[str], duration: float = 10.0) -> Item:
    return Item(item_id, Kind.VIDEO, title=title, tags=tags, media=Media("ab" * 8, "video/mp4", duration))


def g(**fields) -> Guidance:
    return Guidance(source="embedded", **fields)


def test_items_are_read_through_tags_and_grounded_title_words():
    r = read_item(video("v1", "Amazing pets moments", ["food", "black_and_white"]))
    assert {"animal", "food"} <= r.concepts  # "pets" grounds to animal
    assert r.looks == {"black_and_white"} and "black_and_white" not in r.concepts
    assert {"pets", "pet", "moments"} <= r.words


def test_concepts_and_exclusions():
    pets = video("v1", "My pets clip", ["animal"])
    check = check_item(pets, g(include=("animal", "food")), vocabulary=VOCAB)
    assert check.include_hits == ("animal",) and check.match == 0.5
    assert check_item(pets, g(include=("animal",), exclude=("food",)), vocabulary=VOCAB).match == 1.0
    banned = check_item(pets, g(exclude=("animal",)), vocabulary=VOCAB)
    assert banned.exclude_hits == ("animal",) and banned.match == 0.0 and banned.match_if_edited == 0.0
    # a narrow word off the vocabulary matches only literally: "cats" is not every animal
    assert check_item(pets, g(include=("animal",), exclude=("cats",)), vocabulary=VOCAB).exclude_hits == ()
    cats = video("v2", "Funny cats", ["animal"])
    assert check_item(cats, g(include=("animal",), exclude=("cats",)), vocabulary=VOCAB).exclude_hits == ("cats",)


def test_durations_and_looks():
    long = video("v1", "Space tour", ["space"], duration=12.0)
    too_long = check_item(long, g(include=("space",), max_duration_s=5.0), vocabulary=VOCAB)
    assert (too_long.duration_ok, too_long.duration_fixable, too_long.edits) == (False, True, ("clip",))
    assert too_long.match == 0.0 and too_long.match_if_edited == 1.0 and too_long.edit_op == "clip"
    too_short = check_item(long, g(min_duration_s=20.0), vocabulary=VOCAB)
    assert not too_short.duration_fixable and too_short.match_if_edited == 0.0
    under_a_clip = check_item(long, g(max_duration_s=0.5), vocabulary=VOCAB)  # shorter than the shortest clip
    assert not under_a_clip.duration_fixable
    restyle = check_item(long, g(include=("space",), style="cartoon"), vocabulary=VOCAB)
    assert restyle.edits == ("style",) and restyle.edit_op == "style" and restyle.match_if_edited == 1.0
    both = check_item(long, g(style="sketch", max_duration_s=5.0), vocabulary=VOCAB)
    assert both.edit_op == "clip"  # a clip renders the look too
    tagged = video("v2", "Space tour", ["space", "cartoon"])
    assert check_item(tagged, g(style="cartoon"), vocabulary=VOCAB).match == 1.0
    assert check_item(tagged, g(style="natural"), vocabulary=VOCAB).look_ok is False
    assert check_item(long, g(style="calm"), vocabulary=VOCAB).match == 1.0  # pacing is not read from metadata


def checks(*items: Item, guidance: Guidance):
    return [check_item(it, guidance, rank, 1.0 - rank / 10, VOCAB) for rank, it in enumerate(items)]


def test_retrieve_when_a_candidate_satisfies():
    guidance = g(include=("animal",), max_duration_s=15.0)
    act = decide(guidance, checks(video("a", "x", ["food"]), video("b", "pets", ["animal"]), guidance=guidance))
    assert act.mode == "retrieve" and act.satisfying == 1 and act.target_item is None


def test_repurpose_the_best_editable_candidate():
    guidance = g(include=("animal", "food"), max_duration_s=5.0)
    found = checks(video("a", "x", ["animal"]), video("b", "x", ["food", "animal"]), video("c", "x", ["space"]), guidance=guidance)
    act = decide(guidance, found)
    assert (act.mode, act.target_item, act.edit_op) == ("repurpose", "b", "clip")  # full match beats rank
    assert "too long" in act.reason and act.editable == 2


def test_create_when_nothing_can_be_edited_to_fit():
    guidance = g(include=("space",), style="cartoon")
    act = decide(guidance, checks(video("a", "x", ["animal"]), video("b", "x", ["food"]), guidance=guidance))
    assert act.mode == "create" and "no candidate shows space" in act.reason
    short = g(min_duration_s=60.0)
    assert decide(short, checks(video("a", "x", ["animal"]), guidance=short)).mode == "create"


def test_explicit_modes_win():
    guidance = g(include=("animal",))
    found = checks(video("a", "pets", ["animal"]), guidance=guidance)
    assert decide(g(mode="create", mode_explicit=True, include=("animal",)), found).mode == "create"
    edit = decide(g(mode="repurpose", mode_explicit=True, target_item="a", max_duration_s=3.0), found)
    assert (edit.mode, edit.target_item, edit.edit_op) == ("repurpose", "a", "clip")
    unnamed = decide(g(mode="repurpose", mode_explicit=True, style="warm"), found)
    assert unnamed.target_item is None and unnamed.edit_op == "style"
    # "show me ..." is an explicit retrieve, yet an edit may still serve it
    show = g(mode_explicit=True, include=("animal",), max_duration_s=3.0)
    assert decide(show, checks(video("a", "pets", ["animal"]), guidance=show)).mode == "repurpose"


def test_a_skip_streak_switches_to_create():
    guidance = g(include=("animal",))
    found = checks(video("a", "pets", ["animal"]), guidance=guidance)
    skips = [Interaction("u", f"i{k}", 100.0 + k, Event.SKIP) for k in range(3)]
    assert skip_streak(skips) == 3
    assert decide(guidance, found, skips).mode == "create"
    assert decide(guidance, found, skips, ActivationConfig(skip_streak=4)).mode == "retrieve"
    broken = skips + [Interaction("u", "i9", 101.5, Event.CLICK)]
    assert skip_streak(broken) == 1  # only the skip after the click counts (i2, at 102)
    assert skip_streak(skips + [Interaction("u", "i0", 200.0, Event.IMPRESSION)]) == 3
    assert recent_events(skips, now=102.5, window_s=1.5) == skips[1:]


def test_no_candidates_keeps_the_parsed_mode():
    act = decide(g(mode="create", include=("animal",)), [])
    assert act.mode == "create" and "no retrieved candidates" in act.reason
    assert decide(g(), []).mode == "retrieve"


def test_config_and_inputs_are_checked(workspace):
    with pytest.raises(InputError, match="min_match"):
        ActivationConfig(min_match=0.0)
    with pytest.raises(InputError, match="k and min_satisfying"):
        ActivationConfig(k=0)
    workspace.users.add_many([User("u")])
    workspace.items.add(video("v1", "pets", ["animal"]))
    found = check_candidates(workspace, g(include=("animal",)), ["v1"], [0.5], vocabulary=VOCAB)
    assert found[0].match == 1.0 and found[0].score == 0.5
    with pytest.raises(InputError, match="unknown item"):
        check_candidates(workspace, g(), ["v404"], vocabulary=VOCAB)
    with pytest.raises(InputError, match="single string"):
        check_candidates(workspace, g(), "v1", vocabulary=VOCAB)
