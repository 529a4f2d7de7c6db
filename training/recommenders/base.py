"""The interface every recommender here implements, and full-ranking top-k over unseen items.

A recommender is fitted on a binary user x item CSR matrix and returns dense scores for a batch of
users; excluding already-seen items and picking the top k happen once, here, for every model.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

DEFAULT_BATCH = 2048


class Recommender(Protocol):
    """``fit(matrix)`` then ``scores(users)``: float32 [len(users), n_items], higher is better."""

    def fit(self, matrix: sp.csr_matrix) -> Recommender: ...

    def scores(self, users: np.ndarray) -> np.ndarray: ...

    def params(self) -> dict[str, Any]: ...


def mask_seen(scores: np.ndarray, matrix: sp.csr_matrix, users: np.ndarray) -> np.ndarray:
    """Set the scores of items each user already has in ``matrix`` to -inf (in place)."""
    rows = matrix[users]
    scores[np.repeat(np.arange(len(users)), np.diff(rows.indptr)), rows.indices] = -np.inf
    return scores


def top_of(scores: np.ndarray, k: int) -> np.ndarray:
    """Column positions of each row's k best finite scores, best first; -1 pads missing slots."""
    k_eff = min(k, scores.shape[1])
    part = np.argpartition(-scores, k_eff - 1, axis=1)[:, :k_eff]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    top = np.take_along_axis(part, order, axis=1)
    top[~np.isfinite(np.take_along_axis(part_scores, order, axis=1))] = -1
    if k_eff < k:
        top = np.hstack([top, np.full((len(top), k - k_eff), -1, dtype=top.dtype)])
    return top


def top_k(
    model: Recommender, matrix: sp.csr_matrix, users: np.ndarray, k: int, batch: int = DEFAULT_BATCH
) -> np.ndarray:
    """Full ranking: each user's top k among all items not in their row of ``matrix``."""
    out = [
        top_of(mask_seen(model.scores(users[start : start + batch]), matrix, users[start : start + batch]), k)
        for start in range(0, len(users), batch)
    ]
    return np.vstack(out) if out else np.zeros((0, k), dtype=np.int64)
