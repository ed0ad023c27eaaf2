"""Fold a new user into a factor model without retraining.

Weighted ridge regression in the manner of implicit ALS (Hu, Koren, Volinsky, 2008): with item
factors V (I, D), preference p_i = 1 for liked items and 0 otherwise, confidence c_i = 1 + α p_i,

    u = argmin Σ_i c_i (p_i − u·v_i)² + λ‖u‖²  =  (VᵀV + α V_LᵀV_L + λI)⁻¹ (1 + α) V_Lᵀ 1

where V_L are the liked items' rows. Solving it costs O(I·D²) once for VᵀV (cached by the
caller) plus O(|L|·D² + D³).
"""

from __future__ import annotations

import numpy as np


def ridge_fold_in(item_factors: np.ndarray, liked: np.ndarray, reg: float = 0.1, alpha: float = 20.0, gram: np.ndarray | None = None) -> np.ndarray:
    v = item_factors.astype(np.float64)
    g = v.T @ v if gram is None else gram.astype(np.float64)
    vl = v[liked]
    a = g + alpha * vl.T @ vl + reg * np.eye(v.shape[1])
    b = (1.0 + alpha) * vl.sum(axis=0)
    return np.linalg.solve(a, b).astype(np.float32)
