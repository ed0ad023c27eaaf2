"""VBPR on planted data whose items carry content features that reveal their group."""

import numpy as np
import pytest

from generec.errors import InputError
from generec.evaluation.ranking import evaluate_ranking
from generec.retrieval.base import load_retriever
from generec.retrieval.data import InteractionData
from generec.retrieval.multimodal import VBPR, VBPRConfig
from generec.retrieval.mostpop import MostPopular

CFG = VBPRConfig(dim=8, visual_dim=8, epochs=60, eval_every=5, patience=4, lr=0.02, batch_size=256)


def _features(n_items, groups=3, seed=0):
    rng = np.random.default_rng(seed)
    block = n_items // groups
    centres = rng.normal(0, 1, (groups, 16))
    group = np.minimum(np.arange(n_items) // block, groups - 1)
    return (centres[group] + rng.normal(0, 0.3, (n_items, 16))).astype(np.float32)


@pytest.fixture
def featured(planted):
    feats = _features(planted.train.n_items)
    planted.train.item_features = feats
    planted.train_inner.item_features = feats
    return planted


def test_beats_random_and_early_stops(featured):
    model = VBPR(CFG).fit(featured.train_inner, valid=featured.valid)
    assert model.train_log_.best_epoch >= 1 and model.train_log_.history
    model = VBPR(CFG).fit(featured.train)
    rng = np.random.default_rng(0)
    ndcg = evaluate_ranking(model.score_users, featured.train.matrix, featured.test, ks=(10,)).metrics["ndcg@10"]
    rand = evaluate_ranking(lambda u: rng.random((len(u), 40)), featured.train.matrix, featured.test, ks=(10,)).metrics["ndcg@10"]
    assert ndcg > rand + 0.2


def test_cold_items_are_ranked_from_content(featured):
    # hide items 10 and 11 (group 0) from training entirely: they are cold
    m = featured.train.matrix.tolil()
    m[:, [10, 11]] = 0
    data = featured.train.with_matrix(m.tocsr())
    data.item_features = featured.train.item_features
    model = VBPR(CFG).fit(data)
    cold = np.array([10, 11, 36, 37])  # two cold items of group 0, two (warm) of group 2
    group0_users = np.arange(0, 60, 3)
    scores = model.score_users(group0_users)[:, cold]
    assert (scores[:, :2].mean(1) > scores[:, 2:].mean(1)).mean() > 0.8
    # most popular cannot tell cold items apart
    pop = MostPopular().fit(data)
    assert np.all(pop.score_users(group0_users)[:, [10, 11]] == 0)


def test_score_content_of_a_new_cover(featured):
    model = VBPR(CFG).fit(featured.train)
    feats = featured.train.item_features
    same = model.score_content(["u0"], feats[[5]], base_item_ids=["i5"])
    assert np.allclose(same, model.score(["u0"], ["i5"]), atol=1e-4)
    new = model.score_content(["u0", "u0"], feats[[2, 30]])  # u0 is in group 0: prefers group 0 content
    assert new[0] > new[1]


def test_needs_features_and_is_deterministic(featured, tmp_path):
    bare = InteractionData(featured.train.user_ids, featured.train.item_ids, featured.train.matrix)
    with pytest.raises(InputError, match="needs item content features"):
        VBPR(CFG).fit(bare)
    a = VBPR(CFG).fit(featured.train)
    b = VBPR(CFG).fit(featured.train)
    assert np.array_equal(a.item_factors_, b.item_factors_)
    a.save(tmp_path / "m")
    loaded = load_retriever(tmp_path / "m")
    assert loaded.recommend("u1", 5) == a.recommend("u1", 5)
