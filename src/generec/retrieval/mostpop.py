"""MostPopular: every user gets the items with the most training positives."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generec.retrieval.base import Retriever


@dataclass(frozen=True)
class MostPopularConfig:
    pass


class MostPopular(Retriever):
    name = "mostpop"
    config_cls = MostPopularConfig

    def fit(self, data, valid=None, progress=None):
        self._bind(data)
        return self

    def user_vectors(self, users: np.ndarray) -> np.ndarray:
        return np.zeros((len(users), 1), np.float32)

    def scores_from_vectors(self, vectors: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity_, (len(vectors), len(self.popularity_))).copy()

    def fold_in_vector(self, liked: np.ndarray) -> np.ndarray:
        return np.zeros(1, np.float32)

    def state(self):
        return {}

    def set_state(self, state):
        pass
