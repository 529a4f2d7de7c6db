"""Item-based k-nearest neighbours: shrunk cosine similarity, top-k neighbours per item.

score(u, j) = sum over the user's items i of sim(i, j), where sim keeps only each item's
``neighbours`` most similar items; ``shrink`` damps similarities resting on few co-occurrences.
Up to ``BaselineScaleConfig.itemknn_dense_max_items`` the similarity is computed dense (fast on a
small catalogue); above it, from the sparse co-occurrence product, pruned a block at a time: the
same neighbour lists in memory that grows with the pairs, not with items^2.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from training.candidates.neighbour_lists import top_neighbours
from training.config import BaselineScaleConfig


def cosine_neighbours(
    matrix: sp.csr_matrix, neighbours: int, shrink: float, dense_max_items: int | None = None
) -> sp.csr_matrix:
    """Sparse [n_items, n_items] similarity: column j holds item j's top ``neighbours`` items."""
    limit = BaselineScaleConfig().itemknn_dense_max_items if dense_max_items is None else dense_max_items
    n = matrix.shape[1]
    k = min(neighbours, n - 1) if n > 1 else 0
    if k <= 0:
        return sp.csr_matrix((n, n), dtype=np.float32)
    if n > limit:
        return _sparse_cosine(matrix, k, shrink)
    co = (matrix.T @ matrix).toarray().astype(np.float32)
    norms = np.sqrt(np.diag(co)).astype(np.float32)
    sim = co / (np.outer(norms, norms) + shrink + 1e-8)
    np.fill_diagonal(sim, 0.0)
    rows = np.argpartition(-sim, k - 1, axis=0)[:k]  # [k, n]: best rows of each column
    cols = np.broadcast_to(np.arange(n), rows.shape)
    values = sim[rows, cols]
    return sp.csr_matrix((values.ravel(), (rows.ravel(), cols.ravel())), shape=(n, n), dtype=np.float32)


def _sparse_cosine(matrix: sp.csr_matrix, k: int, shrink: float) -> sp.csr_matrix:
    """The same similarity from the sparse co-occurrences (symmetric, so row j's top k are column j's)."""
    co = (matrix.T @ matrix).tocsr().astype(np.float32)
    norms = np.sqrt(co.diagonal()).astype(np.float32)
    co.setdiag(0.0)
    co.eliminate_zeros()
    rows = np.repeat(np.arange(co.shape[0]), np.diff(co.indptr))
    co.data = co.data / (norms[rows] * norms[co.indices] + np.float32(shrink + 1e-8))
    del rows
    return top_neighbours(co, k).T.tocsr()


class ItemKNNRecommender:
    def __init__(
        self, neighbours: int = 100, shrink: float = 10.0, dense_max_items: int | None = None
    ) -> None:
        self.neighbours = int(neighbours)
        self.shrink = float(shrink)
        self.dense_max_items = dense_max_items
        self.similarity: sp.csr_matrix | None = None
        self.matrix: sp.csr_matrix | None = None

    def fit(self, matrix: sp.csr_matrix) -> ItemKNNRecommender:
        self.matrix = matrix.astype(np.float32).tocsr()
        self.similarity = cosine_neighbours(self.matrix, self.neighbours, self.shrink, self.dense_max_items)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        assert self.matrix is not None and self.similarity is not None, "fit first"
        return np.asarray((self.matrix[users] @ self.similarity).toarray(), dtype=np.float32)

    def params(self) -> dict[str, Any]:
        return {"neighbours": self.neighbours, "shrink": self.shrink}
