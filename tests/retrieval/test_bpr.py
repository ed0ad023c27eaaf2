"""BPR-MF on the planted data set (conftest): 60 users in 3 groups, each liking its own block of items."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from generec.errors import InputError
from generec.evaluation.ranking import evaluate_ranking
from generec.retrieval import RETRIEVERS
from generec.retrieval.base import load_retriever
from generec.retrieval.bpr import BPRMF, BPRMFConfig

BLOCK = 13  # group g likes items 13g .. 13g+12
FAST = BPRMFConfig(dim=16, lr=0.05, l2=0.05, epochs=30, batch_size=256, seed=0)


def ndcg(score_users, train: sp.csr_matrix, test: sp.csr_matrix, k: int) -> float:
    return evaluate_ranking(score_users, train, test, ks=(k,)).metrics[f"ndcg@{k}"]


def test_registered():
    assert RETRIEVERS["bpr"] is BPRMF


def test_beats_random(planted):
    model = BPRMF(FAST).fit(planted.train)
    rng = np.random.default_rng(0)
    random = ndcg(lambda users: rng.random((len(users), planted.train.n_items)), planted.train.matrix, planted.test, 10)
    ours = ndcg(model.score_users, planted.train.matrix, planted.test, 10)
    assert ours > random + 0.3, (ours, random)
    assert model.train_log_.epochs == model.train_log_.best_epoch == FAST.epochs  # no validation: every epoch


def test_bias_is_a_factor_dimension(planted):
    model = BPRMF(dataclasses.replace(FAST, epochs=2)).fit(planted.train)
    n_users, n_items = planted.train.matrix.shape
    assert model.user_factors_.shape == (n_users, FAST.dim + 1) and model.item_factors_.shape == (n_items, FAST.dim + 1)
    assert np.all(model.user_factors_[:, -1] == 1.0)
    assert model.user_vectors(np.array([0, 5])).dtype == np.float32
    plain = BPRMF(dataclasses.replace(FAST, use_bias=False, epochs=2)).fit(planted.train)
    assert plain.item_factors_.shape == (n_items, FAST.dim)


def test_early_stopping_restores_the_best(planted):
    calls = []
    config = dataclasses.replace(FAST, epochs=200, eval_every=2, patience=3)
    model = BPRMF(config).fit(planted.train_inner, valid=planted.valid, progress=lambda e, n: calls.append((e, n)))
    log = model.train_log_
    assert 0 < log.best_epoch <= log.epochs < 200  # stopped before the maximum
    assert log.best_epoch % 2 == 0 and len(log.history) == log.epochs // 2
    assert log.best_valid == max(log.history)
    assert log.epochs - log.best_epoch == 3 * 2  # `patience` evaluations after the best
    assert calls == [(e, 200) for e in range(1, log.epochs + 1)]
    restored = ndcg(model.score_users, planted.train_inner.matrix, planted.valid, 20)
    assert restored == pytest.approx(log.best_valid)


def test_same_seed_same_factors(planted):
    config = dataclasses.replace(FAST, epochs=5)
    a, b = BPRMF(config).fit(planted.train), BPRMF(config).fit(planted.train)
    c = BPRMF(dataclasses.replace(config, seed=1)).fit(planted.train)
    users = np.arange(planted.train.n_users)
    np.testing.assert_array_equal(a.score_users(users), b.score_users(users))
    assert not np.array_equal(a.score_users(users), c.score_users(users))


def test_save_load_same_recommendations(planted, tmp_path):
    model = BPRMF(FAST).fit(planted.train)
    loaded = load_retriever(model.save(tmp_path / "bpr"), expect_data_hash=planted.train.data_hash)
    assert isinstance(loaded, BPRMF) and loaded.config == model.config
    np.testing.assert_array_equal(loaded.item_factors_, model.item_factors_)
    for user in ("u0", "u1", "u2", "u17"):
        assert loaded.recommend(user, k=5).items == model.recommend(user, k=5).items


def test_fold_in_recommends_the_group_block(planted):
    # the ridge fold-in's vector is on a smaller scale than trained users', so the item bias weighs
    # more and a few popular items of other blocks come in: ≥ 3 of 5 from the block (chance: 1.25)
    model = BPRMF(FAST).fit(planted.train)
    for g in range(3):
        liked = [f"i{BLOCK * g + k}" for k in range(4)]
        vector = model.fold_in(liked)
        assert vector.shape == (FAST.dim + 1,) and vector[-1] == 1.0
        top = model.recommend_for_vector(vector, k=5, exclude=liked).items
        in_block = sum(int(s.item_id[1:]) // BLOCK == g for s in top)
        assert in_block >= 3, (g, top)


def test_refuses_bad_input(planted):
    with pytest.raises(InputError, match="validation matrix"):
        BPRMF(FAST).fit(planted.train, valid=sp.csr_matrix((3, 3)))
    with pytest.raises(InputError, match="dim"):
        BPRMFConfig(dim=0)
