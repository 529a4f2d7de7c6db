"""Most-interacted items first: the floor every personalised model must clear."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp


class PopularityRecommender:
    """Scores are the number of training users per item (same list for everyone, minus the seen)."""

    def __init__(self) -> None:
        self.counts = np.zeros(0, dtype=np.float32)

    def fit(self, matrix: sp.csr_matrix) -> PopularityRecommender:
        self.counts = np.asarray(matrix.sum(axis=0)).ravel().astype(np.float32)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.tile(self.counts, (len(users), 1))

    def params(self) -> dict[str, Any]:
        return {}
