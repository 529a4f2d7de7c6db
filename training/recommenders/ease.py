"""EASE (Steck, WWW 2019): a closed-form item x item linear model with a zero diagonal.

B = I - P diagMat(1 / diag(P)) with P = (X^T X + l2 I)^-1, i.e. B_ij = -P_ij / P_jj off the diagonal.
One dense inverse of the item Gram matrix: exact and fast up to ~20k items.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp


def ease_weights(matrix: sp.csr_matrix, l2: float) -> np.ndarray:
    """The EASE item-item weight matrix B [n_items, n_items] (float32) for regularisation ``l2``."""
    gram = (matrix.T @ matrix).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += l2
    precision = np.linalg.inv(gram)
    weights = -precision / np.diag(precision)[None, :]
    weights[np.diag_indices_from(weights)] = 0.0
    return weights.astype(np.float32)


class EASERecommender:
    def __init__(self, l2: float = 500.0) -> None:
        self.l2 = float(l2)
        self.weights = np.zeros((0, 0), dtype=np.float32)
        self.matrix: sp.csr_matrix | None = None

    def fit(self, matrix: sp.csr_matrix) -> EASERecommender:
        self.matrix = matrix.astype(np.float32).tocsr()
        self.weights = ease_weights(self.matrix, self.l2)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        assert self.matrix is not None, "fit first"
        return np.asarray(self.matrix[users] @ self.weights, dtype=np.float32)

    def params(self) -> dict[str, Any]:
        return {"l2": self.l2}
