"""Training with a fixed hyperparameter budget, the same for every model.

`tune_and_fit`: 1. draw `budget` configurations from the model's search space (its defaults
first); 2. fit each on the training part of the training data, with early stopping on the
validation part for epoch-based models; 3. keep the configuration with the best validation
metric (and its best epoch); 4. refit it on all the training data.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generec.evaluation.ranking import evaluate_ranking
from generec.retrieval import RETRIEVERS
from generec.retrieval.base import Retriever
from generec.retrieval.data import InteractionData, Split

# name -> {config field -> candidate values}; the defaults are always tried first.
SEARCH_SPACES: dict[str, dict[str, list[Any]]] = {
    "mostpop": {},
    "itemknn": {"neighbours": [50, 100, 200, 400], "shrink": [0.0, 10.0, 50.0, 100.0]},
    "ease": {"l2": [100.0, 250.0, 500.0, 1000.0], "dropout": [0.0, 0.33, 0.5], "zero_diagonal": [True, False]},
    "bpr": {"dim": [32, 64, 128], "lr": [0.001, 0.005, 0.01], "l2": [1e-5, 1e-4, 1e-3]},
    "lightgcn": {"dim": [32, 64, 128], "layers": [1, 2, 3], "lr": [0.001, 0.005], "l2": [1e-5, 1e-4, 1e-3]},
    "multimodal": {"dim": [32, 64], "visual_dim": [16, 32, 64], "lr": [0.001, 0.005], "l2": [1e-5, 1e-4, 1e-3]},
    "implicit-als": {"factors": [32, 64, 128, 256], "regularization": [0.01, 0.05, 0.1, 1.0], "alpha": [1.0, 5.0, 10.0, 20.0, 40.0], "iterations": [15, 30]},
    "implicit-bpr": {"factors": [32, 64, 128], "learning_rate": [0.005, 0.01, 0.05], "regularization": [0.001, 0.01, 0.1], "iterations": [100, 300]},
}


@dataclass
class Trial:
    config: dict[str, Any]
    valid: float
    seconds: float
    best_epoch: int | None = None


@dataclass
class TrainResult:
    model: Retriever = field(repr=False)
    name: str
    config: dict[str, Any]
    metric: str
    valid: float
    trials: list[Trial]
    fit_seconds: float  # the final fit on all training data
    tune_seconds: float


def candidate_configs(name: str, budget: int, seed: int = 0) -> list[Any]:
    """`budget` distinct configurations: the defaults, then draws from the search space."""
    cls = RETRIEVERS[name]
    default = cls.config_cls()
    space = {k: v for k, v in SEARCH_SPACES.get(name, {}).items() if hasattr(default, k)}
    grid = [dict(zip(space, values)) for values in itertools.product(*space.values())]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(grid)) if grid else []
    configs = [default]
    for k in order:
        if len(configs) >= budget:
            break
        cfg = dataclasses.replace(default, **grid[k])
        if cfg not in configs:
            configs.append(cfg)
    return configs


def _with_seed(config: Any, seed: int) -> Any:
    return dataclasses.replace(config, seed=seed) if hasattr(config, "seed") else config


def tune_and_fit(
    name: str,
    split: Split,
    budget: int = 8,
    seed: int = 0,
    metric: str = "ndcg@20",
    progress: Callable[[str, int, int], None] | None = None,
) -> TrainResult:
    cls = RETRIEVERS[name]
    inner: InteractionData = split.train_inner if split.train_inner is not None else split.train
    configs = [_with_seed(c, seed) for c in candidate_configs(name, budget, seed)]
    trials: list[Trial] = []
    started = time.perf_counter()
    # 1-2. fit each candidate on train_inner, score it on valid
    for n, cfg in enumerate(configs):
        t0 = time.perf_counter()
        model = cls(cfg).fit(inner, valid=split.valid)
        score = evaluate_ranking(model.score_users, inner.matrix, split.valid, ks=(int(metric.split("@")[1]),)).metrics[metric]
        log = getattr(model, "train_log_", None)
        trials.append(Trial(dataclasses.asdict(cfg), score, time.perf_counter() - t0, log.best_epoch if log else None))
        if progress:
            progress(f"tune {name}", n + 1, len(configs))
    tune_seconds = time.perf_counter() - started
    # 3. the best configuration, trained for its best number of epochs
    best = max(range(len(trials)), key=lambda k: trials[k].valid)
    cfg = configs[best]
    if trials[best].best_epoch and hasattr(cfg, "epochs"):
        cfg = dataclasses.replace(cfg, epochs=max(1, trials[best].best_epoch))
    # 4. refit on all training data
    t0 = time.perf_counter()
    model = cls(cfg).fit(split.train)
    return TrainResult(model, name, dataclasses.asdict(cfg), metric, trials[best].valid, trials, time.perf_counter() - t0, tune_seconds)
