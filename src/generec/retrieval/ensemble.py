"""A score ensemble of retrievers: s_u = Σ_m w_m · z(s_u^(m)), z standardising each user's scores.

Standardising per user puts members with different score scales (EASE's reconstruction, a factor
model's dot product) on one footing before the weighted sum. The default pairs EASE in its
dropout-emphasis form with ALS factors: item-item and low-rank views of the same matrix make
different mistakes. The members' default settings are those the greedy search chose for each on
MovieLens-100k's validation split; the search here tunes the mixing weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from generec.config import from_dict
from generec.retrieval.base import Retriever


@dataclass(frozen=True)
class EnsembleConfig:
    members: tuple[str, ...] = ("ease", "implicit-als")
    member_configs: tuple[dict, ...] = (
        {"l2": 500.0, "dropout": 0.5, "zero_diagonal": False, "use_confidence": True},
        {"factors": 32, "regularization": 10.0},
    )
    weight: float = 0.1  # w of the second member; the first gets 1 − w
    seed: int = 0


def _standardise(scores: np.ndarray) -> np.ndarray:
    return (scores - scores.mean(1, keepdims=True)) / (scores.std(1, keepdims=True) + 1e-9)


class Ensemble(Retriever):
    name = "ensemble"
    config_cls = EnsembleConfig

    def _members(self) -> list[Retriever]:
        from generec.retrieval import RETRIEVERS

        out = []
        for name, cfg in zip(self.config.members, self.config.member_configs):
            cls = RETRIEVERS[name]
            config = from_dict(cls.config_cls, dict(cfg), source=f"ensemble member {name}")
            if hasattr(config, "seed"):
                import dataclasses

                config = dataclasses.replace(config, seed=self.config.seed)
            out.append(cls(config))
        return out

    def fit(self, data, valid=None, progress=None):
        self._bind(data)
        self.members_ = [m.fit(data) for m in self._members()]
        return self

    @property
    def _weights(self) -> list[float]:
        return [1.0 - self.config.weight, self.config.weight]

    def score_users(self, users: np.ndarray) -> np.ndarray:
        # each member scores from its own (possibly sparse) user vectors: no dense concatenation
        return sum(w * _standardise(m.score_users(users).astype(np.float32)) for w, m in zip(self._weights, self.members_))

    def user_vectors(self, users: np.ndarray) -> np.ndarray:
        # members' vectors side by side, dense: (B, Σ D_m)
        parts = [m.user_vectors(users) for m in self.members_]
        return np.hstack([p.toarray() if sp.issparse(p) else np.asarray(p) for p in parts]).astype(np.float32)

    def _split(self, vectors: np.ndarray) -> list[np.ndarray]:
        out, start = [], 0
        for m in self.members_:
            width = m.user_vectors(np.array([0])).shape[1]
            out.append(vectors[:, start : start + width])
            start += width
        return out

    def scores_from_vectors(self, vectors: np.ndarray) -> np.ndarray:
        total = 0.0
        for w, m, v in zip(self._weights, self.members_, self._split(vectors)):
            total = total + w * _standardise(m.scores_from_vectors(v).astype(np.float32))
        return total

    def fold_in_vector(self, liked: np.ndarray) -> np.ndarray:
        return np.concatenate([np.ravel(m.fold_in_vector(liked)) for m in self.members_]).astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        return {f"m{k}.{key}": value for k, m in enumerate(self.members_) for key, value in m.state().items()}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.members_ = self._members()
        for k, m in enumerate(self.members_):
            m._bind(self.data_)
            m.set_state({key[len(f"m{k}."):]: v for key, v in state.items() if key.startswith(f"m{k}.")})
