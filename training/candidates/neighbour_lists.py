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

BLOCK_ENTRIES = 4_000_000  # entries sorted at once while pruning: bounds the sort's index arrays


def top_neighbours(
    weights: sp.csr_matrix, k: int, by_magnitude: bool = False, block_entries: int = BLOCK_ENTRIES
) -> sp.csr_matrix:
    """Keep each row's ``k`` largest entries (by absolute value when ``by_magnitude``: a negative
    EASE weight says as much as a positive one), ties by column; drop the rest.

    Rows are pruned a block at a time (about ``block_entries`` stored entries each), so the sort's
    index arrays stay bounded on a co-occurrence matrix of tens of millions of pairs."""
    sim = weights.tocsr()
    sim.eliminate_zeros()
    parts = [
        _top_of_rows(sim, start, stop, k, by_magnitude)
        for start, stop in _row_blocks(sim.indptr, block_entries)
    ]
    if not parts:
        return sp.csr_matrix(sim.shape, dtype=np.float32)
    rows, cols, data = (np.concatenate(p) for p in zip(*parts, strict=True))
    return sp.csr_matrix((data, (rows, cols)), shape=sim.shape, dtype=np.float32)


def top_of_dense(weights: np.ndarray, k: int, block_rows: int = 512) -> sp.csr_matrix:
    """:func:`top_neighbours` by magnitude of a dense matrix (EASE's weights), a block of rows at a
    time: never a sparse copy of all n^2 entries (6,000 items: 36M of them). Same result, ties too:
    each block keeps what reaches its rows' k-th magnitude, then the exact rule applies."""
    n, m = weights.shape
    keep = min(k, m)
    parts = []
    for start in range(0, n if keep > 0 else 0, block_rows):
        chunk = weights[start : start + block_rows]
        if keep < m:
            magnitude = np.abs(chunk)
            kth = np.partition(magnitude, m - keep, axis=1)[:, m - keep : m - keep + 1]
            chunk = np.where(magnitude >= kth, chunk, 0.0)
        parts.append(top_neighbours(sp.csr_matrix(chunk), k, by_magnitude=True))
    return (
        sp.vstack(parts, format="csr", dtype=np.float32) if parts else sp.csr_matrix((n, m), dtype=np.float32)
    )


def _row_blocks(indptr: np.ndarray, block_entries: int) -> list[tuple[int, int]]:
    """Consecutive row ranges holding about ``block_entries`` stored entries each (at least a row)."""
    blocks, start, n = [], 0, len(indptr) - 1
    while start < n:
        stop = int(np.searchsorted(indptr, indptr[start] + block_entries, side="right")) - 1
        stop = min(max(stop, start + 1), n)
        blocks.append((start, stop))
        start = stop
    return blocks


def _top_of_rows(
    sim: sp.csr_matrix, start: int, stop: int, k: int, by_magnitude: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, hi = sim.indptr[start], sim.indptr[stop]
    data, indices = sim.data[lo:hi], sim.indices[lo:hi]
    rows = np.repeat(np.arange(start, stop), np.diff(sim.indptr[start : stop + 1]))
    key = np.abs(data) if by_magnitude else data
    order = np.lexsort((indices, -key, rows))
    rank = np.arange(len(order)) - (sim.indptr[rows[order]] - lo)
    keep = order[rank < k]
    return rows[keep], indices[keep], data[keep]


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
