"""EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019).

Closed form: with G = XᵀX + λI and P = G⁻¹, the item-item weights are
B = I − P · diag(1 / diag(P)), i.e. B_ij = −P_ij / P_jj and B_jj = 0 (eq. 8). Scores: x_u B.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from generec.retrieval.base import Retriever


@dataclass(frozen=True)
class EASEConfig:
    l2: float = 300.0  # λ


class EASE(Retriever):
    name = "ease"
    config_cls = EASEConfig

    def fit(self, data, valid=None, progress=None):
        self._bind(data)
        x = data.matrix.astype(np.float64)
        gram = (x.T @ x).toarray()  # (I, I)
        gram[np.diag_indices_from(gram)] += self.config.l2
        p = np.linalg.inv(gram)
        b = -p / np.diag(p)[None, :]
        b[np.diag_indices_from(b)] = 0.0
        self.weights_ = b.astype(np.float32)
        return self

    def user_vectors(self, users: np.ndarray) -> sp.csr_matrix:
        return self.data_.matrix[users]  # sparse rows: scoring costs O(|history| · I)

    def scores_from_vectors(self, vectors: np.ndarray) -> np.ndarray:
        return np.asarray(vectors @ self.weights_)

    def fold_in_vector(self, liked: np.ndarray) -> np.ndarray:
        x = np.zeros(self.data_.n_items, np.float32)
        x[liked] = 1.0
        return x

    def state(self):
        return {"weights": self.weights_}

    def set_state(self, state):
        self.weights_ = state["weights"]
