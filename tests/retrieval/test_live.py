"""`LiveRetriever` (retrieval/live.py) on a copy of the tiny benchmark: the model's own ranking
until feedback arrives, then the fold-in; its per-feed memo never serves a stale ranking."""

from __future__ import annotations

import shutil
import time

import pytest

from generec.retrieval import RETRIEVERS
from generec.retrieval.data import full_data
from generec.retrieval.live import LiveRetriever
from generec.retrieval.trainer import default_config
from generec.types import Event, Interaction
from generec.workspace import Workspace


@pytest.fixture
def live(tiny_bench, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(tiny_bench[0], root)
    with Workspace.open(root) as ws:
        model = RETRIEVERS["ease"](default_config("ease")).fit(full_data(ws))
        yield ws, model, LiveRetriever(model, ws, ws.interactions.last_id())


def _ids(rec) -> list[str]:
    return [s.item_id for s in rec.items]


def test_nothing_new_ranks_as_the_model_does(live):
    ws, model, retriever = live
    for user in ws.users.ids()[:5]:
        assert _ids(retriever.recommend(user, 10)) == _ids(model.recommend(user, 10))
        assert _ids(retriever.recommend(user, 10, exclude_seen=False)) == _ids(model.recommend(user, 10, exclude_seen=False))
    assert retriever.recommend("nobody", 3).fallback == model.recommend("nobody", 3).fallback == "popularity: unknown user"


def test_each_new_event_changes_the_next_ranking(live):
    ws, model, retriever = live
    user = ws.users.ids()[0]
    first = _ids(retriever.recommend(user, 10))
    assert _ids(retriever.recommend(user, 10)) == first  # memoised, same answer
    ws.interactions.add(Interaction(user, first[0], time.time(), Event.SKIP))
    second = _ids(retriever.recommend(user, 10))
    assert first[0] not in second
    ws.interactions.add(Interaction(user, second[0], time.time(), Event.LIKE))
    third = retriever.recommend(user, 10)
    assert second[0] not in _ids(third) and _ids(third) != second
    assert retriever.fresh(user).events == 2
    ws.interactions.add(Interaction(user, second[1], time.time(), Event.IMPRESSION))  # not feedback
    assert _ids(retriever.recommend(user, 10)) == _ids(third)


def test_a_user_who_rejected_everything_they_liked_gets_popularity(live):
    ws, model, retriever = live
    user = ws.users.ids()[1]
    row = model.data_.user_index[user]
    trained = [str(model.data_.item_ids[j]) for j in model.data_.matrix.indices[model.data_.matrix.indptr[row] : model.data_.matrix.indptr[row + 1]]]
    ws.interactions.add_many([Interaction(user, i, time.time(), Event.DISLIKE) for i in trained])
    rec = retriever.recommend(user, 5)
    assert rec.fallback.startswith("popularity, less") and not set(_ids(rec)) & set(trained)
