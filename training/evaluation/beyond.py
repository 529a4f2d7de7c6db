"""Beyond-accuracy metrics over integer top-k lists: coverage, diversity, novelty, popularity bias.

Why these: an accurate model can still recommend the same blockbusters to everyone; these say how
much of the catalogue it uses, how varied each list is and how far from the head it reaches.
"""

from __future__ import annotations

import numpy as np


def coverage(top: np.ndarray, n_items: int) -> float:
    """Distinct recommended items over the catalogue size (``-1`` padding ignored)."""
    return float(len(np.unique(top[top >= 0])) / n_items) if n_items else 0.0


def intra_list_diversity(top: np.ndarray, category: np.ndarray) -> float:
    """Mean over lists of the share of item pairs in different categories (0: all one category)."""
    scores = []
    for row in top:
        cats = category[row[row >= 0]]
        n = len(cats)
        if n < 2:
            continue
        same = (cats[:, None] == cats[None, :]).sum() - n
        scores.append(1.0 - same / (n * (n - 1)))
    return float(np.mean(scores)) if scores else 0.0


def novelty(top: np.ndarray, item_users: np.ndarray, n_users: int) -> float:
    """Mean self-information -log2(p(i)) of recommended items, p(i) = share of training users with i.

    Items no training user has are counted as one user's, so novelty stays finite.
    """
    items = top[top >= 0]
    if not len(items) or n_users <= 0:
        return 0.0
    p = np.maximum(item_users[items], 1) / n_users
    return float(np.mean(-np.log2(p)))


def popularity_bins(item_users: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin per item: items sorted by training popularity and cut into ``n_bins`` equal-size groups.

    Bin 0 is the least popular tenth (for 10 bins), bin ``n_bins - 1`` the head.
    """
    order = np.argsort(item_users, kind="stable")
    bins = np.empty(len(item_users), dtype=np.int64)
    bins[order] = (np.arange(len(item_users)) * n_bins) // max(len(item_users), 1)
    return bins


def popularity_shares(top: np.ndarray, bins: np.ndarray, n_bins: int) -> list[float]:
    """Share of all recommendations falling in each popularity bin (sums to 1 when non-empty)."""
    items = top[top >= 0]
    counts = np.bincount(bins[items], minlength=n_bins).astype(np.float64)
    return (counts / max(counts.sum(), 1.0)).tolist()
