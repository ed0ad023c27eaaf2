"""The three splits of the protocol, on real data."""

import numpy as np
import pytest

from generec.datasets.movielens import load_movielens
from generec.errors import InputError
from generec.retrieval.data import full_data, make_split
from generec.workspace import Workspace


@pytest.fixture(scope="module")
def ml100k(tmp_path_factory):
    ws = Workspace.open(tmp_path_factory.mktemp("ml") / "ws", create=True)
    load_movielens(ws)
    return ws


def test_temporal_split_holds_out_each_users_last_fifth(ml100k):
    split = make_split(ml100k, "temporal")
    assert split.train.matrix.nnz + split.test.nnz == 100_000
    frame = ml100k.interactions.frame()
    uidx, iidx = split.train.user_index, split.train.item_index
    for user in ["1", "405", "943"]:
        rows = frame[frame.user_id == user].sort_values("ts", kind="stable")
        n_test = len(rows) - round(len(rows) * 0.8)
        held = {iidx[i] for i in rows.item_id.iloc[len(rows) - n_test :]}
        assert set(split.test[uidx[user]].indices) == held
        # every held-out interaction is no earlier than every training one of that user
        assert rows.ts.iloc[: len(rows) - n_test].max() <= rows.ts.iloc[len(rows) - n_test :].min()


def test_random_split_is_stratified_and_seeded(ml100k):
    a = make_split(ml100k, "random", seed=0)
    b = make_split(ml100k, "random", seed=0)
    c = make_split(ml100k, "random", seed=1)
    assert (a.test != b.test).nnz == 0 and (a.test != c.test).nnz > 0
    per_user = np.asarray(a.test.sum(1)).ravel() / np.asarray((a.train.matrix + a.test).sum(1)).ravel()
    assert np.allclose(per_user, 0.25, atol=0.03)
    # validation is carved from train only
    assert (a.valid.multiply(a.test)).nnz == 0 and a.train_inner.matrix.nnz + a.valid.nnz == a.train.matrix.nnz


def test_microvideo_split_uses_clicks_and_stored_cutoffs(tiny_bench):
    root, _ = tiny_bench
    with Workspace.open(root) as ws:
        split = make_split(ws, "microvideo")
        cut = ws.datasets.all()[0]["split"]
        clicks = ws.interactions.frame(["click"])
    assert split.train.matrix.nnz == clicks[clicks.ts < cut["test_start"]].drop_duplicates(["user_id", "item_id"]).shape[0]
    assert split.test.nnz > 0


def test_bad_split_names_and_missing_data(ml100k, workspace):
    with pytest.raises(InputError, match="valid splits: temporal, random, microvideo"):
        make_split(ml100k, "kfold")
    with pytest.raises(InputError, match="no stored temporal split"):
        make_split(ml100k, "microvideo")
    with pytest.raises(InputError, match="no positive interactions"):
        full_data(workspace)


def test_recency_profile_weighs_recent_positives_more(ml100k):
    split = make_split(ml100k, "temporal")
    data = split.train
    row = data.recency_profile(np.array([0]), half_life=10.0)
    times = data.times[0].toarray().ravel()
    weights = row.toarray().ravel()
    liked = np.flatnonzero(data.matrix[0].toarray().ravel())
    assert np.allclose(np.sort(weights[liked])[::-1], 0.5 ** (np.arange(len(liked)) / 10))
    # weights never increase with age (ties in time may go either way)
    by_age = liked[np.argsort(-times[liked], kind="stable")]
    assert weights[by_age[0]] == 1.0 and np.all(np.diff(weights[by_age]) <= 1e-7) or times[liked].min() == times[liked].max()
    assert (data.recency_profile(np.array([0]), 0.0) != data.matrix[0]).nnz == 0
