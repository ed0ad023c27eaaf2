"""`GeneRec`, the loop object (pipeline.py), on a copy of the tiny benchmark: the feed's steps,
feedback that changes the next feed without a retrain, and a new checkpoint picked up live."""

from __future__ import annotations

import json
import shutil

import pytest

from generec.errors import FieldError, InputError, NotFoundError
from generec.pipeline import FeedbackEvent, GeneRec, edit
from generec.retrieval import RETRIEVERS
from generec.retrieval.data import full_data
from generec.retrieval.serving import save_current, staleness
from generec.retrieval.trainer import default_config
from generec.types import Event
from generec.workspace import Workspace
from helpers import generec, snapshot


@pytest.fixture
def ws(tiny_bench, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(tiny_bench[0], root)
    with Workspace.open(root) as w:
        save_current(w, RETRIEVERS["ease"](default_config("ease")).fit(full_data(w)), w.interactions.last_id())
        yield w


def user_of(ws) -> str:
    return ws.users.ids()[0]


def test_a_feed_is_labelled_reasoned_and_logged(ws):
    loop, user = GeneRec(ws), user_of(ws)
    before = ws.interactions.count()
    feed = loop.feed(user, 5)
    assert feed.mode == "retrieve" and len(feed.items) == 5 and len(set(feed.item_ids)) == 5
    assert all(e.way == "retrieve" and e.origin == "human" and e.label is None and e.reason.startswith("retrieved by ease") for e in feed.items)
    logged = ws.interactions.for_user(user)[-5:]
    assert ws.interactions.count() == before + 5
    assert [(e.item_id, e.event, e.source) for e in logged] == [(i, Event.IMPRESSION, "retrieve") for i in feed.item_ids]


def test_a_feed_serves_the_users_personal_variant_in_place_of_its_parent(ws):
    loop, user = GeneRec(ws), user_of(ws)
    top = loop.retriever().recommend(user, 1).items[0].item_id
    variant = edit(ws, "cover", user, top).item
    feed = loop.feed(user, 5)
    entry = feed.items[feed.item_ids.index(variant.id)]
    assert entry.way == "repurpose" and entry.origin == "ai_edited" and entry.label.startswith("AI-edited") and entry.parent_id == top
    assert top not in feed.item_ids and "personal cover" in entry.reason
    other = ws.users.ids()[1]
    assert variant.id not in GeneRec(ws).feed(other, 20).item_ids  # made for one user only
    with pytest.raises(NotFoundError):
        loop.visible(other, variant.id)


def test_feedback_changes_the_next_feed_without_a_retrain(ws):
    loop, user = GeneRec(ws), user_of(ws)
    model = loop.retriever()
    first = loop.feed(user, 5).item_ids
    assert loop.feedback(user, first[0], "like", event_id="e-1").stored == 1
    assert loop.feedback(user, first[0], "like", event_id="e-1").duplicates == 1  # a retry
    loop.feedback(user, first[1], "skip")
    second = loop.feed(user, 5).item_ids
    assert first[0] not in second and first[1] not in second and second != first
    assert loop.retriever() is model  # the same checkpoint: the feedback was folded in
    fresh = model.fresh(user)
    index = model.data_.item_index
    assert fresh.positives == {index[first[0]]} and fresh.negatives == {index[first[1]]}
    # the retriever's live ranking is the fold-in of trained + new positives, less the rejected
    trained = _trained(model, user)
    folded = model.model.recommend_for_vector(model.fold_in([*trained, first[0]]), 10, exclude=[*trained, first[0], first[1]])
    live = model.recommend(user, 10)
    assert [s.item_id for s in live.items] == [s.item_id for s in folded.items]
    old = {s.item_id: s.score for s in model.model.recommend(user, model.data_.n_items).items}
    assert any(abs(old[s.item_id] - s.score) > 1e-6 for s in live.items if s.item_id in old)  # scores moved, not only exclusions


def _trained(model, user: str) -> list[str]:
    data = model.data_
    row = data.user_index[user]
    return [str(data.item_ids[j]) for j in data.matrix.indices[data.matrix.indptr[row] : data.matrix.indptr[row + 1]]]


def test_feedback_on_an_ai_variant_counts_for_its_parent(ws):
    loop, user = GeneRec(ws), user_of(ws)
    top = loop.retriever().recommend(user, 1).items[0].item_id
    variant = edit(ws, "cover", user, top).item
    loop.feedback(user, variant.id, "watch", 0.9)
    assert loop.retriever().fresh(user).positives == {loop.retriever().data_.item_index[top]}
    assert top not in loop.feed(user, 10).item_ids and variant.id not in loop.feed(user, 10).item_ids  # seen, as its parent


def test_bad_feedback_names_the_field_and_stores_nothing(ws):
    loop, user = GeneRec(ws), user_of(ws)
    item = ws.items.ids()[0]
    before = snapshot(ws.root)
    cases = [
        ([FeedbackEvent(item, "teleport")], FieldError, "event.event"),
        ([FeedbackEvent(item, "watch", 1.5)], FieldError, "event.value"),
        ([FeedbackEvent(item, "watch")], FieldError, "event.value"),
        ([FeedbackEvent(item, "like", 0.3)], FieldError, "event.value"),
        ([FeedbackEvent(item, "like"), FeedbackEvent("ghost", "like")], NotFoundError, "ghost"),
        ([], FieldError, "events"),
    ]
    for events, error, match in cases:
        with pytest.raises(error, match=match):
            loop.feedback_many(user, events)
    with pytest.raises(InputError, match="unknown user"):
        loop.feedback("nobody", item, "like")
    for k in (0, 101, 2.5, True):
        with pytest.raises(InputError, match="k must be"):
            loop.feed(user, k)
    assert snapshot(ws.root) == before


def test_a_new_checkpoint_is_picked_up_without_a_restart(ws):
    loop, user = GeneRec(ws), user_of(ws)
    old = loop.retriever()
    assert staleness(ws)[0] == 0
    loop.feedback(user, ws.items.ids()[3], "like")
    assert staleness(ws)[0] == 1
    save_current(ws, RETRIEVERS["itemknn"](default_config("itemknn")).fit(full_data(ws)), ws.interactions.last_id())
    new = loop.retriever()
    assert new is not old and new.name == "itemknn" and staleness(ws)[0] == 0
    assert loop.feed(user, 3).items[0].reason.startswith("retrieved by itemknn")


def test_train_if_stale_and_the_loop_commands(ws):
    root, user = ws.root, user_of(ws)
    run = generec("train", "--if-stale", "--min-events", "3", "--json", "-w", root)
    assert run.returncode == 0 and json.loads(run.stdout)["trained"] is False
    item = ws.items.ids()[5]
    for event in ("click", "like", "skip"):
        assert generec("feedback", "--user", user, "--item", item, "--event", event, "-w", root).returncode == 0
    run = generec("train", "--if-stale", "--min-events", "3", "--json", "-w", root)
    assert run.returncode == 0 and json.loads(run.stdout)["trained"] is True and staleness(ws)[0] == 0
    feed = json.loads(generec("feed", "--user", user, "-k", "4", "--json", "-w", root).stdout)
    assert len(feed["items"]) == 4 and item not in [e["item_id"] for e in feed["items"]]
    bad = generec("feedback", "--user", user, "--item", item, "--event", "teleport", "-w", root)
    assert bad.returncode == 1 and "event: 'teleport' is not one of" in bad.stderr and "Traceback" not in bad.stderr
    key = generec("users", "token", user, "-w", root)
    assert key.returncode == 0 and key.stdout.startswith("gr_") and ws.api_keys.lookup(key.stdout.strip()).user_id == user
    assert key.stdout.strip() not in (root / "generec.db").read_bytes().decode("latin-1")  # stored hashed only
    assert generec("users", "token", "ghost", "-w", root).returncode == 1
    assert generec("users", "token", "--revoke", user, "-w", root).returncode == 0 and ws.api_keys.lookup(key.stdout.strip()) is None


class _Counting:
    """The real text encoder, counting the texts it is asked to encode."""

    def __init__(self, encoder) -> None:
        self.encoder, self.version, self.asked = encoder, encoder.version, 0

    def encode(self, texts):
        self.asked += len(texts)
        return self.encoder.encode(texts)


def test_warm_loads_the_models_and_embeds_the_catalogue_texts(ws):
    from generec.encoders.text import get_text_encoder
    from generec.instructor.catalogue import catalogue_items
    from generec.instructor.fusion import TEXT_CACHE, item_embeddings, item_text

    TEXT_CACHE._cache.clear()  # the cache is the process's: start from nothing
    loop = GeneRec(ws)
    counting = _Counting(get_text_encoder())
    loop.instructor.text_encoder = counting
    info = loop.warm(max_items=5)
    items = list(catalogue_items(ws).values())
    warmed = {item_text(i) for i in items[:5]}
    assert info["retriever"] and info["texts"] == 5 and loop.instructor._retriever is not None
    assert counting.asked == len(warmed)
    item_embeddings(items[:5], counting)  # warmed: answered from the cache
    assert counting.asked == len(warmed)
    later = {item_text(i) for i in items[5:9]} - warmed
    item_embeddings(items[5:9], counting)  # past max_items: encoded when a feed asks
    assert later and counting.asked == len(warmed) + len(later)
