"""The `regenerate` op (SDEdit of the video's best frame) and revision from feedback."""

from __future__ import annotations

import numpy as np

from generec.datasets.oracle import Oracle
from generec.editor.regenerate import rejected_variants
from generec.encoders.video import cover_image
from generec.media.image import load_image
from generec.pipeline import edit
from generec.types import Event, Interaction, Origin


def users_and_items(ws, n: int) -> list[tuple[str, str]]:
    """n (user, catalogue video) pairs, a different video for each user."""
    items = sorted(ws.items.ids(origin=Origin.HUMAN))
    return [(user, items[k % len(items)]) for k, user in enumerate(sorted(ws.users.ids())[:n])]


def test_regenerate_stores_a_new_cover_for_the_parent_video(creator_ws):
    ws = creator_ws
    [(user, item)] = users_and_items(ws, 1)
    result = edit(ws, "regenerate", user, item)
    new, parent = result.item, ws.items.get(item)
    assert new.origin == Origin.AI_EDITED and new.parent_id == item and new.media == parent.media
    cover, original = load_image(result.cover_path), cover_image(ws, parent)
    assert cover.shape == original.shape and float(np.abs(cover.astype(int) - original.astype(int)).mean()) > 1.0
    p = result.params
    assert 0.0 < p["strength"] <= 1.0 and p["checkpoint"] and p["revision_of"] == [] and len(p["frames"]) >= 1
    assert new.provenance["generator"] == "generec.editor.regenerate"


def test_a_skip_makes_the_next_variant_a_revision_that_moves_away(creator_ws):
    ws = creator_ws
    [(user, item)] = users_and_items(ws, 1)
    first = edit(ws, "regenerate", user, item)
    assert rejected_variants(ws, user, item) == []
    ws.interactions.add(Interaction(user, first.item.id, 2e9, Event.SKIP, source="repurpose"))
    assert [r.id for r in rejected_variants(ws, user, item)] == [first.item.id]
    second = edit(ws, "regenerate", user, item)
    assert second.item.id != first.item.id and second.params["revision_of"] == [first.item.id]
    assert not set(second.params["frames"]) & set(first.params["frames"])  # other retrieved frames
    look = first.params["style"] or "natural"
    assert (second.params["style"] or "natural") != look or look == "natural"  # never the rejected look again
    assert any("revision of" in n for n in second.notes)
    # another user's skip is not this user's rejection
    other = sorted(ws.users.ids())[1]
    assert rejected_variants(ws, other, item) == []


def test_revisions_after_simulated_skips_have_a_higher_click_probability_on_average(creator_ws):
    """The oracle's judged click probability: rejected variants against their revisions."""
    ws = creator_ws
    oracle = Oracle.load(ws.oracle_dir)
    rng = np.random.default_rng(0)
    rejected_p, revised_p = [], []
    for user, item in users_and_items(ws, 12):
        first = edit(ws, "regenerate", user, item)
        p1 = oracle.click_prob(user, load_image(first.cover_path))
        if rng.random() < p1:  # clicked: nothing to revise
            continue
        ws.interactions.add(Interaction(user, first.item.id, 2e9, Event.SKIP, source="repurpose"))
        second = edit(ws, "regenerate", user, item)
        rejected_p.append(p1)
        revised_p.append(oracle.click_prob(user, load_image(second.cover_path)))
    assert len(rejected_p) >= 3
    assert np.mean(revised_p) > np.mean(rejected_p)
