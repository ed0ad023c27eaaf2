"""The ANN index on a tiny clustered catalogue: exact top-k at full probing, exclusion, recall, seeds, errors."""

import numpy as np
import pytest
import scipy.sparse as sp

from generec.errors import InputError
from generec.retrieval.ann import AnnConfig, AnnIndex, AnnRetriever, recall_at_k
from generec.retrieval.base import Constraints
from generec.retrieval.bpr import BPRMF, BPRMFConfig
from generec.retrieval.data import InteractionData
from generec.retrieval.ease import EASE


def clustered(n_items=3000, n_queries=40, dim=16, clusters=30, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    items = centres[rng.integers(clusters, size=n_items)] + rng.standard_normal((n_items, dim)).astype(np.float32)
    queries = centres[rng.integers(clusters, size=n_queries)] + rng.standard_normal((n_queries, dim)).astype(np.float32)
    return items.astype(np.float32), queries.astype(np.float32)


def exact_top(items, queries, k, exclude=None):
    scores = queries @ items.T
    if exclude is not None:
        for b, e in enumerate(exclude):
            scores[b, e] = -np.inf
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("kind", ["flat", "ivf-flat", "hnsw"])
def test_exact_top_k_at_full_search(kind):
    items, queries = clustered()
    index = AnnIndex(AnnConfig(kind=kind, nlist=20, nprobe=20, ef_search=400)).fit(items)
    result = index.search(queries, 10)
    truth = exact_top(items, queries, 10)
    assert result.ids.shape == (40, 10) and result.ids.dtype == np.int64
    assert recall_at_k(result.ids, truth) == 1.0
    np.testing.assert_allclose(result.scores, np.take_along_axis(queries @ items.T, truth, 1), rtol=1e-4, atol=1e-4)


def test_low_nprobe_loses_recall_and_recall_counts_overlap():
    items, queries = clustered()
    index = AnnIndex(AnnConfig(nlist=60, nprobe=1)).fit(items)
    low = recall_at_k(index.search(queries, 10).ids, exact_top(items, queries, 10))
    high = recall_at_k(index.set_search(nprobe=60).search(queries, 10).ids, exact_top(items, queries, 10))
    assert low < high == 1.0 and index.config.nprobe == 60
    # hand-counted: 2 of 4 and 3 of 3 (-1 pads a short list); an empty truth row is left out
    approx = np.array([[1, 2, 9, 8], [5, 6, 7, -1], [1, 2, 3, 4]])
    exact = np.array([[1, 2, 3, 4], [7, 6, 5, -1], [-1, -1, -1, -1]])
    assert recall_at_k(approx, exact) == pytest.approx((0.5 + 1.0) / 2)


@pytest.mark.parametrize("kind", ["flat", "ivf-flat", "hnsw"])
def test_excluded_items_never_come_back(kind):
    items, queries = clustered()
    full = AnnIndex(AnnConfig(kind=kind, nlist=20, nprobe=20, ef_search=400)).fit(items)
    top = full.search(queries, 30).ids
    exclude = [row[::2] for row in top]  # half of each query's own top-30, the best one included
    result = full.search(queries, 10, exclude=exclude)
    for row, e in zip(result.ids, exclude):
        assert not set(row.tolist()) & set(e.tolist()) and (row >= 0).all()
    recall = recall_at_k(result.ids, exact_top(items, queries, 10, exclude))
    assert recall == 1.0 if kind != "hnsw" else recall >= 0.99  # a graph search stays approximate under inner product


def test_same_seed_same_index_other_seed_other_cells():
    items, queries = clustered()
    a = AnnIndex(AnnConfig(nlist=30, nprobe=3, seed=1)).fit(items)
    b = AnnIndex(AnnConfig(nlist=30, nprobe=3, seed=1)).fit(items)
    c = AnnIndex(AnnConfig(nlist=30, nprobe=3, seed=2)).fit(items)
    ra, rb = a.search(queries, 10), b.search(queries, 10)
    np.testing.assert_array_equal(ra.ids, rb.ids)
    np.testing.assert_array_equal(ra.scores, rb.scores)
    assert a.memory_bytes() == b.memory_bytes() > items.nbytes  # vectors + ids + centroids
    assert not np.array_equal(a.index_.quantizer.reconstruct_n(0, 30), c.index_.quantizer.reconstruct_n(0, 30))


def test_bad_input_is_refused():
    items, queries = clustered(n_items=500)
    with pytest.raises(InputError, match="unknown index kind 'ivf'; valid: flat, ivf-flat, hnsw"):
        AnnConfig(kind="ivf")
    with pytest.raises(InputError, match="nprobe must be at least 1"):
        AnnConfig(nprobe=0)
    with pytest.raises(InputError, match="not built yet"):
        AnnIndex().search(queries, 10)
    with pytest.raises(InputError, match=r"non-empty \(items, dim\)"):
        AnnIndex().fit(np.zeros((0, 16), np.float32))
    bad = items.copy()
    bad[3, 2] = np.nan
    with pytest.raises(InputError, match="finite"):
        AnnIndex().fit(bad)
    with pytest.raises(InputError, match="more cells than items"):
        AnnIndex(AnnConfig(nlist=501)).fit(items)
    index = AnnIndex(AnnConfig(kind="flat")).fit(items)
    for k in (0, -3, 2.5, True):
        with pytest.raises(InputError, match="k must be a positive integer"):
            index.search(queries, k)
    with pytest.raises(InputError, match="larger than the index"):
        index.search(queries, 501)
    with pytest.raises(InputError, match=r"\(queries, 16\)"):
        index.search(queries[:, :8], 10)
    with pytest.raises(InputError, match="one list of item indices per query"):
        index.search(queries, 10, exclude=[[1]])
    with pytest.raises(InputError, match="outside the index's 0..499"):
        index.search(queries[:1], 10, exclude=[[500]])


def factor_model(items, seed=0):
    """A real BPR-MF retriever holding given item factors, bound like a loaded checkpoint."""
    rng = np.random.default_rng(seed)
    n_users, (n_items, dim) = 20, items.shape
    seen = sp.random(n_users, n_items, density=0.01, random_state=seed, format="csr", dtype=np.float32)
    seen.data[:] = 1
    data = InteractionData(np.array([f"u{u}" for u in range(n_users)]), np.array([f"i{i}" for i in range(n_items)]), seen)
    model = BPRMF(BPRMFConfig(dim=dim, use_bias=False))
    model._bind(data)
    model.set_state({"user_factors": rng.standard_normal((n_users, dim)).astype(np.float32), "item_factors": items})
    return model


def test_ann_retriever_recommends_as_the_model_does():
    items, _ = clustered(n_items=1000)
    model = factor_model(items)
    ann = AnnRetriever(model, AnnIndex(AnnConfig(nlist=10, nprobe=10)).fit(items))
    never = frozenset({"i1", "i2", "i3"})
    for u in model.data_.user_ids:
        for constraints in (None, Constraints(exclude=never), Constraints(predicate=lambda i: int(i[1:]) % 3 == 0),
                            Constraints(allowed=frozenset(f"i{i}" for i in range(0, 1000, 7))), Constraints(exclude=never, allowed=never | {"i9", "i10"})):  # fmt: skip
            want, got = model.recommend(u, 10, constraints=constraints), ann.recommend(u, 10, constraints=constraints)
            assert [s.item_id for s in got.items] == [s.item_id for s in want.items]
            np.testing.assert_allclose([s.score for s in got.items], [s.score for s in want.items], rtol=1e-4, atol=1e-4)
    # unknown users get the model's own popularity fallback; fold-in vectors are searched too
    assert ann.recommend("nobody", 5).fallback == model.recommend("nobody", 5).fallback == "popularity: unknown user"
    v = model.fold_in(["i4", "i5"])
    want, got = model.recommend_for_vector(v, 10, exclude=["i4"]), ann.recommend_for_vector(v, 10, exclude=["i4"])
    assert [s.item_id for s in got.items] == [s.item_id for s in want.items]
    with pytest.raises(InputError, match="k must be a positive integer"):
        ann.recommend("u0", 0)


def test_ann_retriever_refuses_models_without_factors_and_stale_indexes(planted):
    ease = EASE().fit(planted.train)
    with pytest.raises(InputError, match="needs a factor model .* not 'ease'"):
        AnnRetriever(ease, AnnIndex(AnnConfig(kind="flat")).fit(np.ones((40, 4), np.float32)))
    items, _ = clustered(n_items=1000)
    with pytest.raises(InputError, match="rebuild the index"):
        AnnRetriever(factor_model(items), AnnIndex(AnnConfig(kind="flat")).fit(items[:900]))
