"""BPR-MF on a tiny planted data set: 60 users in 3 groups, each group liking its own block of items."""

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
from generec.retrieval.data import InteractionData

N_USERS, N_ITEMS, GROUPS, BLOCK = 60, 40, 3, 13
FAST = BPRMFConfig(dim=16, lr=0.05, l2=1e-3, epochs=30, batch_size=256, seed=0)


def planted(seed: int = 0) -> tuple[InteractionData, sp.csr_matrix]:
    """User u belongs to group u % 3 and likes items of block g (items 13g..13g+12) with p = 0.6,
    others with p = 0.03; 20 % of each user's positives are held out as test."""
    rng = np.random.default_rng(seed)
    group = np.arange(N_USERS) % GROUPS
    in_block = (np.arange(N_ITEMS)[None, :] // BLOCK) == group[:, None]  # (U, I)
    liked = rng.random((N_USERS, N_ITEMS)) < np.where(in_block, 0.6, 0.03)
    held = liked & (rng.random(liked.shape) < 0.2)
    train = sp.csr_matrix((liked & ~held).astype(np.float32))
    data = InteractionData(np.array([f"u{u}" for u in range(N_USERS)]), np.array([f"i{i}" for i in range(N_ITEMS)]), train, name="planted")
    return data, sp.csr_matrix(held.astype(np.float32))


def carve(data: InteractionData, seed: int = 1) -> tuple[InteractionData, sp.csr_matrix]:
    """Move 20 % of the training positives to a validation matrix."""
    m = data.matrix.tocoo()
    mask = np.random.default_rng(seed).random(m.nnz) < 0.2
    pick = lambda keep: sp.csr_matrix((m.data[keep], (m.row[keep], m.col[keep])), shape=m.shape)  # noqa: E731
    return data.with_matrix(pick(~mask)), pick(mask)


@pytest.fixture(scope="module")
def fitted() -> tuple[BPRMF, InteractionData, sp.csr_matrix]:
    data, test = planted()
    return BPRMF(FAST).fit(data), data, test


def ndcg10(score_users, data: InteractionData, test: sp.csr_matrix) -> float:
    return evaluate_ranking(score_users, data.matrix, test, ks=(10,)).metrics["ndcg@10"]


def test_registered():
    assert RETRIEVERS["bpr"] is BPRMF


def test_beats_random(fitted):
    model, data, test = fitted
    rng = np.random.default_rng(0)
    random = ndcg10(lambda users: rng.random((len(users), N_ITEMS)), data, test)
    ours = ndcg10(model.score_users, data, test)
    assert ours > random + 0.25, (ours, random)
    assert model.train_log_.epochs == FAST.epochs  # no validation: every epoch


def test_bias_is_a_factor_dimension(fitted):
    model, _, _ = fitted
    assert model.user_factors_.shape == (N_USERS, FAST.dim + 1) and model.item_factors_.shape == (N_ITEMS, FAST.dim + 1)
    assert np.all(model.user_factors_[:, -1] == 1.0)
    assert model.user_vectors(np.array([0, 5])).dtype == np.float32
    plain = BPRMF(dataclasses.replace(FAST, use_bias=False, epochs=2)).fit(planted()[0])
    assert plain.item_factors_.shape == (N_ITEMS, FAST.dim)


def test_early_stopping_restores_the_best(tmp_path):
    data, _ = planted()
    inner, valid = carve(data)
    calls = []
    model = BPRMF(dataclasses.replace(FAST, epochs=200, eval_every=2, patience=3)).fit(inner, valid=valid, progress=lambda e, n: calls.append((e, n)))
    log = model.train_log_
    assert 0 < log.best_epoch <= log.epochs < 200  # stopped before the maximum
    assert log.best_epoch % 2 == 0 and len(log.history) == log.epochs // 2
    assert log.best_valid == max(log.history)
    assert log.epochs - log.best_epoch == 3 * 2  # patience evaluations after the best
    assert calls == [(e, 200) for e in range(1, log.epochs + 1)]
    restored = evaluate_ranking(model.score_users, inner.matrix, valid, ks=(20,)).metrics["ndcg@20"]
    assert restored == pytest.approx(log.best_valid)


def test_same_seed_same_factors():
    data, _ = planted()
    config = dataclasses.replace(FAST, epochs=5)
    a, b = BPRMF(config).fit(data), BPRMF(config).fit(data)
    c = BPRMF(dataclasses.replace(config, seed=1)).fit(data)
    users = np.arange(N_USERS)
    np.testing.assert_array_equal(a.score_users(users), b.score_users(users))
    assert not np.array_equal(a.score_users(users), c.score_users(users))


def test_save_load_same_recommendations(fitted, tmp_path):
    model, data, _ = fitted
    loaded = load_retriever(model.save(tmp_path / "bpr"), expect_data_hash=data.data_hash)
    assert isinstance(loaded, BPRMF) and loaded.config == model.config
    for user in ("u0", "u1", "u2", "u17"):
        assert loaded.recommend(user, k=5).items == model.recommend(user, k=5).items


def test_fold_in_recommends_the_group_block(fitted):
    model, _, _ = fitted
    for g in range(GROUPS):
        liked = [f"i{BLOCK * g + k}" for k in range(4)]
        vector = model.fold_in(liked)
        assert vector.shape == (FAST.dim + 1,) and vector[-1] == 1.0
        top = model.recommend_for_vector(vector, k=5, exclude=liked).items
        in_block = sum(int(s.item_id[1:]) // BLOCK == g for s in top)
        assert in_block >= 4, (g, top)


def test_refuses_bad_input():
    data, _ = planted()
    with pytest.raises(InputError, match="validation matrix"):
        BPRMF(FAST).fit(data, valid=sp.csr_matrix((3, 3)))
    with pytest.raises(InputError, match="dim"):
        BPRMFConfig(dim=0)
