"""Sparse item-to-item weights and a user's catalogue scores from them: the storage and scoring
shared by the item-kNN and EASE sources.

Each item keeps at most a few hundred weighted neighbours (a sparse item x item matrix, never a
dense one in a bundle); a request scores the catalogue as the mean weight from the user's latest
engagements to every item: one sparse row sum.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp


def top_neighbours(weights: sp.csr_matrix, k: int, by_magnitude: bool = False) -> sp.csr_matrix:
    """Keep each row's ``k`` largest entries (by absolute value when ``by_magnitude``: a negative
    EASE weight says as much as a positive one), ties by column; drop the rest."""
    sim = weights.tocsr()
    sim.eliminate_zeros()
    rows = np.repeat(np.arange(sim.shape[0]), np.diff(sim.indptr))
    key = np.abs(sim.data) if by_magnitude else sim.data
    order = np.lexsort((sim.indices, -key, rows))
    rank = np.arange(len(order)) - sim.indptr[rows[order]]
    keep = order[rank < k]
    return sp.csr_matrix((sim.data[keep], (rows[keep], sim.indices[keep])), shape=sim.shape, dtype=np.float32)


class NeighbourLists:
    """Item ids, their sparse neighbour weights, and how many history items score a request."""

    FILE: ClassVar[str] = "neighbours.npz"

    def __init__(self, item_ids: np.ndarray, weights: sp.csr_matrix, max_seeds: int) -> None:
        self.item_ids = np.asarray(item_ids, dtype=object)
        self.weights = weights.tocsr()
        self.max_seeds = max_seeds
        self._position = pd.Index(self.item_ids)

    def __len__(self) -> int:
        return len(self.item_ids)

    def _seeds(self, history: Sequence[str]) -> np.ndarray:
        found = self._position.get_indexer(list(dict.fromkeys(history))[: self.max_seeds])
        return found[found >= 0]

    def catalogue_scores(self, history: Sequence[str]) -> np.ndarray:
        """Mean weight from the user's latest items (newest first) to every item: [n_items]."""
        seeds = self._seeds(history)
        if not len(seeds):
            return np.zeros(len(self.item_ids), dtype=np.float32)
        rows = self.weights[seeds]
        total = np.bincount(rows.indices, weights=rows.data, minlength=len(self.item_ids))
        return (total / len(seeds)).astype(np.float32)

    def top(self, history: Sequence[str], k: int, exclude: Iterable[str] = ()) -> list[str]:
        """The ``k`` best-scored items with a positive score, history and ``exclude`` left out."""
        scores = self.catalogue_scores(history)
        skip = self._position.get_indexer(list({*history, *exclude}))
        scores[skip[skip >= 0]] = 0.0
        reached = np.flatnonzero(scores > 0)
        if not len(reached) or k <= 0:
            return []
        best = reached[np.argsort(-scores[reached], kind="stable")[:k]]
        return self.item_ids[best].tolist()

    def scores_of(self, history: Sequence[str], candidates: Sequence[str]) -> np.ndarray:
        """The score of each candidate (0 for an item without neighbours): a ranker feature."""
        scores = self.catalogue_scores(history)
        found = self._position.get_indexer(list(candidates))
        return np.where(found >= 0, scores[np.maximum(found, 0)], 0.0).astype(np.float64)

    def neighbours(self, item_id: str, k: int) -> list[str]:
        """The item's ``k`` strongest positive neighbours."""
        position = self._position.get_indexer([item_id])[0]
        if position < 0:
            return []
        row = self.weights[position]
        positive = row.data > 0
        data, indices = row.data[positive], row.indices[positive]
        order = np.argsort(-data, kind="stable")[: max(k, 0)]
        return self.item_ids[indices[order]].tolist()

    def save(self, directory: str | Path) -> Path:
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        w = self.weights
        np.savez(
            out / self.FILE,
            item_ids=self.item_ids.astype(str),
            data=w.data,
            indices=w.indices,
            indptr=w.indptr,
            max_seeds=self.max_seeds,
        )
        return out / self.FILE

    @classmethod
    def load(cls, path: str | Path) -> Self:
        with np.load(path, allow_pickle=False) as data:
            ids = data["item_ids"].astype(object)
            w = sp.csr_matrix((data["data"], data["indices"], data["indptr"]), shape=(len(ids), len(ids)))
            return cls(ids, w, int(data["max_seeds"]))
