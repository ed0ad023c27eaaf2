"""Training with a fixed hyperparameter budget, the same for every model.

`tune_and_fit`: 1. from the defaults, a greedy coordinate search over the model's search space,
`budget` configurations in all; 2. each fitted on the training part of the training data, with
early stopping on the validation part for epoch-based models; 3. keep the configuration with the
best validation metric (and its best epoch); 4. refit it on all the training data.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


from generec.evaluation.ranking import evaluate_ranking
from generec.retrieval import RETRIEVERS
from generec.retrieval.base import Retriever
from generec.retrieval.data import InteractionData, Split

# name -> {config field -> values to try}, the most important field first; the defaults are tried first.
SEARCH_SPACES: dict[str, dict[str, list[Any]]] = {
    "mostpop": {},
    "itemknn": {"neighbours": [50, 200, 400], "recency_half_life": [10.0], "shrink": [0.0, 50.0], "use_confidence": [True]},
    "ease": {"recency_half_life": [10.0], "dropout": [0.5], "zero_diagonal": [False], "l2": [100.0, 300.0, 1000.0], "use_confidence": [True]},
    "bpr": {"l2": [0.01, 0.05], "dim": [32, 128], "lr": [0.01]},
    "lightgcn": {"l2": [1e-4, 3e-3], "layers": [2], "dim": [32, 128], "lr": [0.01]},
    "multimodal": {"dim": [32, 64], "visual_dim": [16, 32, 64], "lr": [0.001, 0.005], "l2": [1e-5, 1e-4, 1e-3]},
    "implicit-als": {"factors": [32, 128, 256], "regularization": [0.5, 5.0, 10.0], "alpha": [5.0, 20.0], "iterations": [30]},
    "ensemble": {"weight": [0.0, 0.2, 0.3, 0.5]},
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


def default_config(name: str, seed: int = 0) -> Any:
    cfg = RETRIEVERS[name].config_cls()
    return dataclasses.replace(cfg, seed=seed) if hasattr(cfg, "seed") else cfg


def tune_and_fit(
    name: str,
    split: Split,
    budget: int = 8,
    seed: int = 0,
    metric: str = "ndcg@20",
    progress: Callable[[str, int, int], None] | None = None,
) -> TrainResult:
    """Greedy coordinate search: start from the defaults, then try each value of each parameter
    in `SEARCH_SPACES` order (the most important first), one change at a time from the best so
    far, until `budget` configurations have been trained."""
    cls = RETRIEVERS[name]
    inner: InteractionData = split.train_inner if split.train_inner is not None else split.train
    k = int(metric.split("@")[1])
    space = {p: v for p, v in SEARCH_SPACES.get(name, {}).items() if hasattr(cls.config_cls(), p)}
    trials: list[Trial] = []
    tried: set[str] = set()  # configs may hold dicts, which do not hash
    started = time.perf_counter()

    def run(cfg: Any) -> float:
        # 1-2. fit one candidate on train_inner (early-stopped on valid), score it on valid
        t0 = time.perf_counter()
        model = cls(cfg).fit(inner, valid=split.valid)
        score = evaluate_ranking(model.score_users, inner.matrix, split.valid, ks=(k,)).metrics[metric]
        log = getattr(model, "train_log_", None)
        trials.append(Trial(dataclasses.asdict(cfg), score, time.perf_counter() - t0, log.best_epoch if log else None))
        tried.add(repr(cfg))
        if progress:
            progress(f"tune {name}", len(trials), budget)
        return score

    best_cfg = default_config(name, seed)
    best = run(best_cfg)
    for param, values in space.items():
        for value in values:
            cfg = dataclasses.replace(best_cfg, **{param: value})
            if len(trials) >= budget:
                break
            if repr(cfg) in tried:
                continue
            score = run(cfg)
            if score > best:
                best, best_cfg = score, cfg
    if progress:
        progress(f"tune {name}", budget, budget)
    tune_seconds = time.perf_counter() - started
    # 3. the best configuration, trained for its best number of epochs
    best_trial = max(trials, key=lambda t: t.valid)
    cfg = best_cfg
    if best_trial.best_epoch and hasattr(cfg, "epochs"):
        cfg = dataclasses.replace(cfg, epochs=max(1, best_trial.best_epoch))
    # 4. refit on all training data
    t0 = time.perf_counter()
    model = cls(cfg).fit(split.train)
    return TrainResult(model, name, dataclasses.asdict(cfg), metric, best, trials, time.perf_counter() - t0, tune_seconds)
