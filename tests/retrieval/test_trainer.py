from generec.retrieval.ease import EASEConfig
from generec.retrieval.trainer import candidate_configs, tune_and_fit


def test_candidates_start_with_defaults_and_respect_budget():
    configs = candidate_configs("ease", budget=5, seed=1)
    assert configs[0] == EASEConfig() and len(configs) == 5 and len(set(configs)) == 5
    assert candidate_configs("ease", 5, seed=1) == configs  # seeded
    assert len(candidate_configs("mostpop", 8)) == 1  # nothing to tune


def test_tune_and_fit_picks_the_best_validation_score(planted):
    result = tune_and_fit("ease", planted, budget=4)
    assert len(result.trials) == 4
    assert result.valid == max(t.valid for t in result.trials)
    assert result.model.data_ is planted.train  # refit on all training data
    assert result.model.recommend("u0", k=3).items
