"""MostPopular, ItemKNN and EASE end to end on planted data: each beats random."""

import numpy as np
import pytest

from generec.evaluation.ranking import evaluate_ranking
from generec.retrieval import RETRIEVERS
from generec.retrieval.ease import EASE, EASEConfig
from generec.retrieval.mostpop import MostPopular


def _ndcg(score_users, split):
    return evaluate_ranking(score_users, split.train.matrix, split.test, ks=(10,)).metrics["ndcg@10"]


@pytest.mark.parametrize("name", ["itemknn", "ease"])
def test_beats_random(planted, name):
    model = RETRIEVERS[name]().fit(planted.train)
    rng = np.random.default_rng(0)
    random = _ndcg(lambda u: rng.random((len(u), planted.train.n_items)), planted)
    assert _ndcg(model.score_users, planted) > random + 0.2


def test_mostpop_ranks_by_count(planted):
    model = MostPopular().fit(planted.train)
    counts = np.asarray(planted.train.matrix.sum(0)).ravel()
    top = [s.item_id for s in model.recommend("u0", k=3, exclude_seen=False).items]
    assert [int(i[1:]) for i in top] == list(np.argsort(-counts, kind="stable")[:3])


@pytest.mark.parametrize("cfg", [EASEConfig(), EASEConfig(dropout=0.5, l2=10.0), EASEConfig(dropout=0.5, zero_diagonal=False)])
def test_ease_variants(planted, cfg):
    model = EASE(cfg).fit(planted.train)
    if cfg.zero_diagonal:
        assert np.allclose(np.diag(model.weights_), 0.0)
    rng = np.random.default_rng(0)
    assert _ndcg(model.score_users, planted) > _ndcg(lambda u: rng.random((len(u), 40)), planted) + 0.2


def test_ease_matches_closed_form(planted):
    x = planted.train.matrix.toarray().astype(np.float64)
    p = np.linalg.inv(x.T @ x + 7.0 * np.eye(x.shape[1]))
    b = np.eye(x.shape[1]) - p / np.diag(p)
    model = EASE(EASEConfig(l2=7.0)).fit(planted.train)
    assert np.allclose(model.weights_, b, atol=1e-5)
