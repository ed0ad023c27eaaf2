"""EASE and its denoising generalisation, in closed form.

EASE (Steck, WWW 2019): with G = XᵀX and P = (G + Λ)⁻¹, the item-item weights under the
constraint diag(B) = 0 are B = I − P · diagMat(1 / diag(P)), i.e. B_ij = −P_ij / P_jj (eq. 8).

Dropout emphasis (Steck, "Autoencoders that don't overfit towards the identity", NeurIPS 2020):
training the linear autoencoder on inputs with dropout rate p is equivalent to the item-specific
regulariser Λ = p / (1 − p) · diagMat(diag(G)) + λI. With `zero_diagonal` this is EDLAE
(EASE with Λ); without it, DLAE's full-rank solution B = (G + Λ)⁻¹ G. `dropout = 0` with
`zero_diagonal` is plain EASE. Scores: x_u B, where x_u may weigh recent positives more (`recency_half_life`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generec.retrieval.base import ItemItemRetriever


@dataclass(frozen=True)
class EASEConfig:
    l2: float = 500.0  # λ
    dropout: float = 0.0  # p of the dropout-emphasis regulariser, in [0, 1)
    zero_diagonal: bool = True  # EASE/EDLAE; False: DLAE
    recency_half_life: float = 0.0  # > 0: weigh the r-th most recent positive of a user by 2^(−r/h); 0: all 1
    use_confidence: bool = False  # weigh positives by their confidence (ratings), in training and scoring


class EASE(ItemItemRetriever):
    name = "ease"
    config_cls = EASEConfig

    def fit(self, data, valid=None, progress=None):
        self._bind(data)
        x = data.weighted(self.config.use_confidence).astype(np.float64)  # X (U, I), or X ∘ C
        gram = (x.T @ x).toarray()  # G: (I, I)
        p = self.config.dropout
        reg = p / (1.0 - p) * np.diag(gram) + self.config.l2  # diag(Λ): (I,)
        if self.config.zero_diagonal:
            inv = np.linalg.inv(gram + np.diag(reg))  # P
            b = -inv / np.diag(inv)[None, :]
            b[np.diag_indices_from(b)] = 0.0
        else:
            b = np.linalg.solve(gram + np.diag(reg), gram)
        self.weights_ = b.astype(np.float32)
        return self
