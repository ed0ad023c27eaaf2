"""Baselines from the `implicit` library (Frederickson, 0.7): ALS and BPR, behind our contract.

ALS (Hu, Koren, Volinsky, "Collaborative Filtering for Implicit Feedback Datasets", ICDM 2008):

    min_{U,V} Σ_{u,i} c_ui (p_ui − u_u·v_i)² + λ (Σ_u ‖u_u‖² + Σ_i ‖v_i‖²),
    c_ui = 1 + α x_ui,  p_ui = x_ui

implicit's solver reads a stored entry as the confidence c_ui itself and every missing entry as
c = 1, p = 0 (for user u: A = VᵀV + λI + Σ_{i∈L} (c_ui − 1) v_i v_iᵀ, b = Σ_{i∈L} c_ui v_i) and
multiplies the stored entries by its own `alpha`; so we hand it X with its alpha set to 1 + α.
It trains with 3 conjugate-gradient steps per row per sweep (warm-started), not an exact solve.

BPR (Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI 2009):
SGD on Σ ln σ(x_ui − x_uj) over sampled (u, liked i, unliked j). implicit appends a bias column:
user rows are [u_u, 1] and item rows [v_i, b_i], so x_ui = u_u·v_i + b_i = [u_u, 1]·[v_i, b_i];
we keep both (D+1)-column matrices as they are, so `v @ item_factors_.T` is implicit's score.

Neither uses a validation set: these are fixed-budget baselines; `valid` is accepted and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from generec.retrieval.base import FactorRetriever
from generec.retrieval.foldin import ridge_fold_in

# implicit's own threads. ALS solves each row independently, so its factors do not depend on the
# thread count (on 2 cores, 1 thread fit MovieLens-100k faster: 0.6-0.8 s against 0.95 s);
# BPR is Hogwild SGD, reproducible from a seed only on one thread.
ALS_THREADS = 1
BPR_THREADS = 1


def _binary(data) -> sp.csr_matrix:
    """X ∈ {0,1}^{U×I} as float32 CSR with sorted indices (what implicit expects)."""
    x = data.matrix.tocsr().astype(np.float32)
    x.sum_duplicates()
    x.sort_indices()
    x.data[:] = 1.0
    return x


def _callback(progress, total):
    if progress is None:
        return None
    return lambda epoch, *_: progress(epoch + 1, total)


@dataclass(frozen=True)
class ImplicitALSConfig:
    factors: int = 64  # D
    regularization: float = 0.05  # λ
    alpha: float = 1.0  # α: confidence c_ui = 1 + α x_ui
    iterations: int = 15  # alternating sweeps (users, then items)
    seed: int = 0


class ImplicitALS(FactorRetriever):
    name = "implicit-als"
    config_cls = ImplicitALSConfig

    def fit(self, data, valid=None, progress=None):
        from implicit.cpu.als import AlternatingLeastSquares

        self._bind(data)
        c = self.config
        with threadpool_limits(1, "blas"):  # implicit's advice: BLAS threads fight its own
            model = AlternatingLeastSquares(
                factors=c.factors, regularization=c.regularization, alpha=1.0 + c.alpha,
                iterations=c.iterations, random_state=c.seed, num_threads=ALS_THREADS,
            )  # fmt: skip
            model.fit(_binary(data), show_progress=False, callback=_callback(progress, c.iterations))
        self.model_ = model  # implicit's own object, for inspection; a loaded checkpoint has none
        self.set_state({"user_factors": model.user_factors, "item_factors": model.item_factors})  # (U, D), (I, D)
        return self

    def fold_in_vector(self, liked: np.ndarray) -> np.ndarray:
        # the exact user step of ALS: u = (VᵀV + α V_LᵀV_L + λI)⁻¹ (1 + α) V_Lᵀ 1, the same normal
        # equations as implicit's `recalculate_user` (Cholesky), not the CG steps used in training
        c = self.config
        return ridge_fold_in(self.item_factors_, liked, reg=c.regularization, alpha=c.alpha, gram=self.gram_)  # (D,)



@dataclass(frozen=True)
class ImplicitBPRConfig:
    factors: int = 64  # D (implicit adds the bias column: D + 1 stored)
    learning_rate: float = 0.01  # η
    regularization: float = 0.01  # λ, applied at every SGD step
    iterations: int = 100  # epochs: |X| sampled triples each
    seed: int = 0


class ImplicitBPR(FactorRetriever):
    name = "implicit-bpr"
    config_cls = ImplicitBPRConfig

    # BPR has no least-squares user step, so fold-in borrows ALS's: ridge over all D+1 columns,
    # p_i ≈ [u, w]·[v_i, b_i] with confidence 1 + α p_i, so the weight w on the item bias is fit
    # too (fixing w = 1 let popular items crowd out the liked ones' neighbours). λ is relative to
    # the mean eigenvalue of the Gram matrix, so it does not depend on the factors' scale.
    FOLD_IN_REL_REG = 10.0  # λ = FOLD_IN_REL_REG · tr(VᵀV) / (D+1)
    FOLD_IN_ALPHA = 20.0  # α

    def fit(self, data, valid=None, progress=None):
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        self._bind(data)
        c = self.config
        with threadpool_limits(1, "blas"):
            model = BayesianPersonalizedRanking(
                factors=c.factors, learning_rate=c.learning_rate, regularization=c.regularization,
                iterations=c.iterations, random_state=c.seed, num_threads=BPR_THREADS,
            )  # fmt: skip
            model.fit(_binary(data), show_progress=False, callback=_callback(progress, c.iterations))
        self.model_ = model  # as in ImplicitALS
        # (U, D+1) with a last column of 1s, (I, D+1) with a last column b_i
        self.set_state({"user_factors": model.user_factors, "item_factors": model.item_factors})
        return self

    def fold_in_vector(self, liked: np.ndarray) -> np.ndarray:
        reg = self.FOLD_IN_REL_REG * np.trace(self.gram_) / len(self.gram_)
        return ridge_fold_in(self.item_factors_, liked, reg=reg, alpha=self.FOLD_IN_ALPHA, gram=self.gram_)  # (D+1,)

