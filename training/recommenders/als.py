"""Implicit ALS (Hu, Koren, Volinsky 2008) from the ``implicit`` package, CPU implementation.

Confidence is ``1 + alpha * x`` on the binary matrix. BLAS is held to one thread while fitting
because implicit parallelises over users itself and warns (and slows) when BLAS threads too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits


class ALSRecommender:
    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.01,
        alpha: float = 1.0,
        iterations: int = 15,
        seed: int = 0,
        threads: int = 1,
        exact: bool = False,
    ) -> None:
        self.factors = int(factors)
        self.regularization = float(regularization)
        self.alpha = float(alpha)
        self.iterations = int(iterations)
        self.seed = int(seed)
        self.threads = int(threads)  # 0: all cores; 1 fits ml-100k twice as fast on a busy 2-core box
        self.exact = bool(exact)  # exact solves instead of conjugate-gradient steps
        self.user_factors = np.zeros((0, 0), dtype=np.float32)
        self.item_factors = np.zeros((0, 0), dtype=np.float32)

    def fit(self, matrix: sp.csr_matrix) -> ALSRecommender:
        with threadpool_limits(limits=1, user_api="blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=self.threads,
                use_cg=not self.exact,
            )
            model.fit(matrix.astype(np.float32).tocsr(), show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float32)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors[users] @ self.item_factors.T

    def params(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "iterations": self.iterations,
        }
