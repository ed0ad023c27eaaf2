"""implicit's ALS and BPR behind our contract, on a tiny planted-block data set."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from generec.evaluation.ranking import evaluate_ranking
from generec.retrieval import RETRIEVERS
from generec.retrieval.base import load_retriever
from generec.retrieval.data import InteractionData
from generec.retrieval.implicit_baselines import ImplicitALS, ImplicitALSConfig, ImplicitBPR, ImplicitBPRConfig

N_USERS, N_ITEMS, N_GROUPS = 60, 40, 3
BLOCKS = np.array_split(np.arange(N_ITEMS), N_GROUPS)  # group g likes the items of block g

MODELS = [
    pytest.param((ImplicitALS, ImplicitALSConfig(factors=8, alpha=5.0)), id="als"),
    pytest.param((ImplicitBPR, ImplicitBPRConfig(factors=8, learning_rate=0.05)), id="bpr"),
]


@pytest.fixture(scope="module")
def planted():
    """60 users in 3 groups; each likes 70 % of its group's block and 3 % of the rest; 20 % of each user held out."""
    rng = np.random.default_rng(0)
    group = np.arange(N_USERS) % N_GROUPS
    prob = np.full((N_USERS, N_ITEMS), 0.03)
    for g, block in enumerate(BLOCKS):
        prob[np.ix_(group == g, block)] = 0.7
    x = rng.random((N_USERS, N_ITEMS)) < prob
    train, test = x.copy(), np.zeros_like(x)
    for u in range(N_USERS):
        liked = np.flatnonzero(x[u])
        held = rng.choice(liked, size=int(round(0.2 * len(liked))), replace=False)
        train[u, held], test[u, held] = False, True
    data = InteractionData(
        np.array([f"u{u:02d}" for u in range(N_USERS)]), np.array([f"i{i:02d}" for i in range(N_ITEMS)]),
        sp.csr_matrix(train.astype(np.float32)), name="planted",
    )  # fmt: skip
    return data, sp.csr_matrix(test.astype(np.float32))


@pytest.fixture(scope="module", params=MODELS)
def fitted(request, planted):
    cls, config = request.param
    data, _ = planted
    return cls(config).fit(data)


def test_beats_random_scorer(fitted, planted):
    data, test = planted
    rng = np.random.default_rng(1)
    ours = evaluate_ranking(fitted.score_users, data.matrix, test, ks=(10,)).metrics["ndcg@10"]
    chance = evaluate_ranking(lambda u: rng.random((len(u), N_ITEMS)), data.matrix, test, ks=(10,)).metrics["ndcg@10"]
    assert ours > chance + 0.2, (ours, chance)


def test_contract_ranks_like_implicit(fitted, planted):
    data, _ = planted
    x = data.matrix
    for u in range(0, N_USERS, 7):
        ids, scores = fitted.model_.recommend(u, x[u], N=10, filter_already_liked_items=True)
        ours = fitted.recommend(data.user_ids[u], k=10)
        assert [s.item_id for s in ours.items] == list(data.item_ids[ids])
        np.testing.assert_allclose([s.score for s in ours.items], scores, rtol=1e-5, atol=1e-5)


def test_same_seed_same_factors(fitted, planted):
    data, _ = planted
    again = type(fitted)(fitted.config).fit(data)
    np.testing.assert_array_equal(again.user_factors_, fitted.user_factors_)
    np.testing.assert_array_equal(again.item_factors_, fitted.item_factors_)


def test_save_load_round_trip(fitted, planted, tmp_path):
    data, _ = planted
    loaded = load_retriever(fitted.save(tmp_path / "ckpt"), expect_data_hash=data.data_hash)
    assert type(loaded) is RETRIEVERS[fitted.name] and loaded.config == fitted.config
    for u in data.user_ids[::5]:
        assert loaded.recommend(u, k=10) == fitted.recommend(u, k=10)
    np.testing.assert_array_equal(loaded.fold_in(["i00", "i01"]), fitted.fold_in(["i00", "i01"]))


@pytest.mark.parametrize("g", range(N_GROUPS))
def test_fold_in_recommends_the_groups_block(fitted, planted, g):
    data, _ = planted
    liked = [str(data.item_ids[i]) for i in BLOCKS[g][:5]]
    rec = fitted.recommend_for_vector(fitted.fold_in(liked), k=5, exclude=liked)
    block = {str(data.item_ids[i]) for i in BLOCKS[g]}
    assert {s.item_id for s in rec.items} <= block, [s.item_id for s in rec.items]


def test_als_fold_in_is_implicits_exact_user_step(planted):
    """fold_in solves the same normal equations as implicit's recalculate_user (c = 1 + α x)."""
    data, _ = planted
    model = ImplicitALS(ImplicitALSConfig(factors=8, alpha=5.0)).fit(data)
    for u in (0, 1, 2):
        liked = data.matrix.indices[data.matrix.indptr[u] : data.matrix.indptr[u + 1]]
        theirs = model.model_.recalculate_user(u, data.matrix[u])
        np.testing.assert_allclose(model.fold_in_vector(liked), theirs, rtol=1e-3, atol=1e-4)


def test_progress_reports_every_iteration(planted):
    data, _ = planted
    seen = []
    ImplicitALS(ImplicitALSConfig(factors=4, iterations=3)).fit(data, progress=lambda *step: seen.append(step))
    assert seen == [(1, 3), (2, 3), (3, 3)]
