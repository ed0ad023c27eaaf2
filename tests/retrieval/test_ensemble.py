import numpy as np

from generec.evaluation.ranking import evaluate_ranking
from generec.retrieval.base import load_retriever
from generec.retrieval.ease import EASE, EASEConfig
from generec.retrieval.ensemble import Ensemble, EnsembleConfig

CFG = EnsembleConfig(member_configs=({"l2": 10.0}, {"factors": 8, "regularization": 0.1}), weight=0.3)


def test_weight_zero_is_the_first_member(planted):
    import dataclasses

    ens = Ensemble(dataclasses.replace(CFG, weight=0.0)).fit(planted.train)
    ease = EASE(EASEConfig(l2=10.0)).fit(planted.train)
    a = [s.item_id for s in ens.recommend("u4", 8).items]
    b = [s.item_id for s in ease.recommend("u4", 8).items]
    assert a == b


def test_ensemble_beats_random_round_trips_and_folds_in(planted, tmp_path):
    ens = Ensemble(CFG).fit(planted.train)
    rng = np.random.default_rng(0)
    ndcg = evaluate_ranking(ens.score_users, planted.train.matrix, planted.test, ks=(10,)).metrics["ndcg@10"]
    rand = evaluate_ranking(lambda u: rng.random((len(u), 40)), planted.train.matrix, planted.test, ks=(10,)).metrics["ndcg@10"]
    assert ndcg > rand + 0.2
    ens.save(tmp_path / "e")
    loaded = load_retriever(tmp_path / "e")
    assert loaded.recommend("u2", 5) == ens.recommend("u2", 5)
    group1 = [f"i{j}" for j in range(13, 20)]
    rec = ens.recommend_for_vector(ens.fold_in(group1), 5, exclude=group1)
    assert sum(13 <= int(s.item_id[1:]) < 26 for s in rec.items) >= 4
