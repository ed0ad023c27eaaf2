"""ItemKNN (Sarwar et al., 2001) with shrunk cosine similarity.

s_ij = x_i · x_j / (‖x_i‖ ‖x_j‖ + h), x_i the item's column of X and h the shrinkage; each item
keeps its `neighbours` most similar items. Scores: x_u S.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generec.retrieval.base import ItemItemRetriever


@dataclass(frozen=True)
class ItemKNNConfig:
    neighbours: int = 100
    shrink: float = 10.0
    recency_half_life: float = 0.0  # > 0: weigh the r-th most recent positive of a user by 2^(−r/h); 0: all 1
    use_confidence: bool = False  # weigh positives by their confidence (ratings), in training and scoring


class ItemKNN(ItemItemRetriever):
    name = "itemknn"
    config_cls = ItemKNNConfig

    def fit(self, data, valid=None, progress=None):
        self._bind(data)
        x = data.weighted(self.config.use_confidence).astype(np.float32).tocsc()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())  # (I,)
        co = (x.T @ x).toarray()  # (I, I) co-occurrence counts
        sim = co / (norms[:, None] * norms[None, :] + self.config.shrink + 1e-12)
        np.fill_diagonal(sim, 0.0)
        k = min(self.config.neighbours, sim.shape[0] - 1)
        if k < sim.shape[0] - 1:  # keep the top-k neighbours of each item (column j: who is similar to j)
            drop = np.argpartition(-sim, k, axis=0)[k:]
            np.put_along_axis(sim, drop, 0.0, axis=0)
        self.weights_ = sim.astype(np.float32)  # S
        return self
