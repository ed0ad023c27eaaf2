"""The shared serving path, exercised through a real model (EASE) on planted data."""

import numpy as np
import pytest

from generec.errors import InputError
from generec.retrieval.base import Constraints, load_retriever
from generec.retrieval.ease import EASE


@pytest.fixture
def model(planted):
    return EASE().fit(planted.train)


def test_recommend_excludes_seen_and_is_sorted(model, planted):
    rec = model.recommend("u0", k=5)
    seen = set(planted.train.item_ids[planted.train.matrix[0].indices])
    ids = [s.item_id for s in rec.items]
    assert len(ids) == 5 and not (set(ids) & seen) and rec.fallback is None
    scores = [s.score for s in rec.items]
    assert scores == sorted(scores, reverse=True)
    with_seen = model.recommend("u0", k=5, exclude_seen=False)
    assert set(s.item_id for s in with_seen.items) & seen


def test_constraints(model):
    base = [s.item_id for s in model.recommend("u0", k=5).items]
    excluded = model.recommend("u0", k=5, constraints=Constraints(exclude=frozenset(base[:2])))
    assert not set(base[:2]) & {s.item_id for s in excluded.items}
    allowed = frozenset({"i30", "i31", "i39"})
    only = model.recommend("u0", k=3, constraints=Constraints(allowed=allowed))
    assert {s.item_id for s in only.items} <= allowed
    odd = model.recommend("u0", k=4, constraints=Constraints(predicate=lambda i: int(i[1:]) % 2 == 1))
    assert len(odd.items) == 4 and all(int(s.item_id[1:]) % 2 for s in odd.items)
    # fewer eligible items than k: returns what there is
    assert len(model.recommend("u0", k=3, constraints=Constraints(allowed=frozenset({"i1"}))).items) <= 1


def test_unknown_user_falls_back_to_popularity_and_says_so(model):
    rec = model.recommend("stranger", k=3)
    assert rec.fallback == "popularity: unknown user"
    top = np.argsort(-model.popularity_, kind="stable")[:3]
    assert [s.item_id for s in rec.items] == [f"i{j}" for j in top]


def test_bad_k(model):
    for k in (0, -1):
        with pytest.raises(InputError, match="k must be a positive integer"):
            model.recommend("u0", k=k)
    with pytest.raises(InputError, match="larger than the catalogue"):
        model.recommend("u0", k=41)


def test_score_pairs_match_recommend(model):
    rec = model.recommend("u3", k=2)
    scores = model.score(["u3", "u3"], [s.item_id for s in rec.items])
    assert np.allclose(scores, [s.score for s in rec.items])
    with pytest.raises(InputError, match="unknown item"):
        model.score(["u3"], ["nope"])


def test_fold_in_cold_start_user(model, planted):
    group2 = [f"i{j}" for j in range(26, 33)]
    vec = model.fold_in(group2)
    rec = model.recommend_for_vector(vec, k=5, exclude=group2)
    assert sum(26 <= int(s.item_id[1:]) < 39 for s in rec.items) >= 4
    with pytest.raises(InputError, match="at least one liked item"):
        model.fold_in([])


def test_save_load_round_trip_and_hash_check(model, tmp_path, planted):
    model.save(tmp_path / "m")
    loaded = load_retriever(tmp_path / "m", expect_data_hash=planted.train.data_hash)
    assert loaded.recommend("u5", k=5) == model.recommend("u5", k=5)
    with pytest.raises(InputError, match="trained on other data"):
        load_retriever(tmp_path / "m", expect_data_hash="0" * 16)
    with pytest.raises(InputError, match="not a retriever checkpoint"):
        load_retriever(tmp_path / "nothing")


def test_empty_training_data_is_refused(planted):
    empty = planted.train.with_matrix(planted.train.matrix * 0)
    empty.matrix.eliminate_zeros()
    with pytest.raises(InputError, match="empty data"):
        EASE().fit(empty)


def test_recency_weighted_model_survives_a_checkpoint(tmp_path):
    import scipy.sparse as sp

    from generec.retrieval.data import InteractionData
    from generec.retrieval.ease import EASEConfig

    m = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 1, 1]], np.float32))
    t = sp.csr_matrix(np.array([[5, 9, 0, 0], [0, 2, 7, 0], [1, 0, 3, 8]], np.float64))
    data = InteractionData(np.array(["a", "b", "c"]), np.array(["w", "x", "y", "z"]), m, times=t)
    model = EASE(EASEConfig(l2=1.0, recency_half_life=1.0)).fit(data)
    model.save(tmp_path / "m")
    loaded = load_retriever(tmp_path / "m")
    assert (loaded.data_.times != t).nnz == 0
    assert np.allclose(loaded.score_users(np.arange(3)), model.score_users(np.arange(3)))
    assert not np.allclose(model.score_users(np.arange(3)), EASE(EASEConfig(l2=1.0)).fit(data).score_users(np.arange(3)))


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_state_file_is_one_clear_error_naming_it(model, tmp_path, damage):
    model.save(tmp_path / "m")
    state = tmp_path / "m" / "state.npz"
    data = state.read_bytes()
    state.write_bytes(b"not a checkpoint" if damage == "garbage" else data[: len(data) // 2])
    with pytest.raises(InputError, match=r"state\.npz does not load as a ease checkpoint.*generec train --model ease"):
        load_retriever(tmp_path / "m")
