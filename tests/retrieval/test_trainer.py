from generec.retrieval.ease import EASEConfig
from generec.retrieval.trainer import SEARCH_SPACES, default_config, tune_and_fit


def test_greedy_search_respects_budget_and_starts_from_defaults(planted):
    result = tune_and_fit("ease", planted, budget=4)
    assert len(result.trials) == 4
    assert result.trials[0].config == {**EASEConfig().__dict__}
    # one change at a time from the best so far: every trial differs from the defaults in at most
    # the parameters searched so far
    assert all(set(t.config) == set(EASEConfig().__dict__) for t in result.trials)
    assert result.valid == max(t.valid for t in result.trials)
    assert result.model.data_ is planted.train  # refit on all training data
    assert result.model.recommend("u0", k=3).items


def test_nothing_to_tune_is_one_trial(planted):
    assert tune_and_fit("mostpop", planted, budget=8).trials.__len__() == 1


def test_search_spaces_name_real_config_fields():
    from generec.retrieval import RETRIEVERS

    for name, space in SEARCH_SPACES.items():
        fields = set(RETRIEVERS[name].config_cls().__dataclass_fields__)
        assert set(space) <= fields, (name, set(space) - fields)
    assert default_config("bpr", seed=3).seed == 3
