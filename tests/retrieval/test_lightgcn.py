"""LightGCN on the planted data set (conftest): 60 users in 3 groups, each liking its own block of items."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from generec.errors import InputError
from generec.evaluation.ranking import evaluate_ranking
from generec.retrieval import RETRIEVERS
from generec.retrieval.base import load_retriever
from generec.retrieval.lightgcn import LightGCN, LightGCNConfig, normalized_adjacency, propagate

BLOCK = 13  # group g likes items 13g .. 13g+12
FAST = LightGCNConfig(dim=16, layers=2, lr=0.05, l2=1e-4, epochs=30, batch_size=256, seed=0)


def ndcg(score_users, train: sp.csr_matrix, test: sp.csr_matrix, k: int) -> float:
    return evaluate_ranking(score_users, train, test, ks=(k,)).metrics[f"ndcg@{k}"]


def test_registered():
    assert RETRIEVERS["lightgcn"] is LightGCN


def test_normalized_adjacency_and_propagation():
    # R = [[1, 1], [0, 1]]: user degrees (2, 1), item degrees (1, 2); Â_uv = 1 / sqrt(d_u d_v)
    a_hat = normalized_adjacency(sp.csr_matrix(np.array([[1, 1], [0, 1]], np.float32)))
    s = 1 / np.sqrt(2)
    expected = np.array([[0, 0, s, 0.5], [0, 0, 0, s], [s, 0, 0, 0], [0.5, s, 0, 0]], np.float32)
    np.testing.assert_allclose(a_hat.to_dense().numpy(), expected, rtol=1e-6)
    # E = (E⁰ + ÂE⁰ + Â²E⁰) / 3, and its gradient through the symmetric sparse product
    ego = torch.randn(4, 3, dtype=torch.float32, requires_grad=True)
    a = torch.from_numpy(expected)
    propagate(a_hat, ego, 2).pow(2).sum().backward()
    ours = ego.grad.clone()
    ego.grad = None
    ((ego + a @ ego + a @ a @ ego) / 3).pow(2).sum().backward()
    np.testing.assert_allclose(ours.numpy(), ego.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_beats_random(planted):
    model = LightGCN(FAST).fit(planted.train)
    rng = np.random.default_rng(0)
    random = ndcg(lambda users: rng.random((len(users), planted.train.n_items)), planted.train.matrix, planted.test, 10)
    ours = ndcg(model.score_users, planted.train.matrix, planted.test, 10)
    assert ours > random + 0.3, (ours, random)
    assert model.train_log_.epochs == model.train_log_.best_epoch == FAST.epochs  # no validation: every epoch


def test_factors_are_numpy(planted):
    model = LightGCN(dataclasses.replace(FAST, epochs=2)).fit(planted.train)
    n_users, n_items = planted.train.matrix.shape
    assert model.user_factors_.shape == (n_users, FAST.dim) and model.item_factors_.shape == (n_items, FAST.dim)
    assert isinstance(model.item_factors_, np.ndarray) and model.user_vectors(np.array([0, 5])).dtype == np.float32
    np.testing.assert_allclose(model.score_users(np.array([3])), model.user_factors_[[3]] @ model.item_factors_.T)


def test_early_stopping_restores_the_best(planted):
    calls = []
    config = dataclasses.replace(FAST, epochs=200, eval_every=2, patience=3)
    model = LightGCN(config).fit(planted.train_inner, valid=planted.valid, progress=lambda e, n: calls.append((e, n)))
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
    a, b = LightGCN(config).fit(planted.train), LightGCN(config).fit(planted.train)
    c = LightGCN(dataclasses.replace(config, seed=1)).fit(planted.train)
    users = np.arange(planted.train.n_users)
    np.testing.assert_array_equal(a.score_users(users), b.score_users(users))
    assert not np.array_equal(a.score_users(users), c.score_users(users))


def test_save_load_same_recommendations(planted, tmp_path):
    model = LightGCN(FAST).fit(planted.train)
    loaded = load_retriever(model.save(tmp_path / "lightgcn"), expect_data_hash=planted.train.data_hash)
    assert isinstance(loaded, LightGCN) and loaded.config == model.config
    np.testing.assert_array_equal(loaded.item_factors_, model.item_factors_)
    for user in ("u0", "u1", "u2", "u17"):
        assert loaded.recommend(user, k=5).items == model.recommend(user, k=5).items


def test_fold_in_recommends_the_group_block(planted):
    model = LightGCN(FAST).fit(planted.train)
    for g in range(3):
        liked = [f"i{BLOCK * g + k}" for k in range(4)]
        vector = model.fold_in(liked)
        assert vector.shape == (FAST.dim,)
        top = model.recommend_for_vector(vector, k=5, exclude=liked).items
        in_block = sum(int(s.item_id[1:]) // BLOCK == g for s in top)
        assert in_block >= 4, (g, top)


def test_refuses_bad_input(planted):
    with pytest.raises(InputError, match="validation matrix"):
        LightGCN(FAST).fit(planted.train, valid=sp.csr_matrix((3, 3)))
    with pytest.raises(InputError, match="layers"):
        LightGCNConfig(layers=-1)
