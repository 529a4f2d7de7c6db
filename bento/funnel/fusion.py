"""Retrieval order: the candidates' collaborative signals fused by rank, with tuned weights.

Each signal (two-tower affinity, item-kNN similarity, EASE weight, ALS preference) becomes a rank
share within the request (0 worst .. 1 best): no common scale is needed, so the order is as good
as the sources agree, on any dataset. How much each signal counts is chosen per bundle on the
replayed funnel's own held-out engagements (``orchestration.defs.ranking.fusion_tuning``), never
on test data; a bundle without a tuned file weighs them equally.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from training.candidates.cross_scores import ALS_SCORE, EASE_SCORE, ITEM_KNN_SCORE

FUSED_SIGNALS = ("retrieval_score", ITEM_KNN_SCORE, EASE_SCORE, ALS_SCORE)
FUSION_FILE = "retrieval_fusion.json"  # in the bundle root, written by ranking/training_set


def rank_shares(signals: np.ndarray) -> np.ndarray:
    """Per column of ``signals`` (candidates x signals): each candidate's average-tie rank share,
    0 for the lowest and 1 for the highest; a column that scores nothing (constant) is all NaN."""
    n = signals.shape[0]
    shares = np.full(signals.shape, np.nan)
    if n < 2:
        return shares
    for j in range(signals.shape[1]):
        column = signals[:, j]
        if np.ptp(column) > 0:
            shares[:, j] = (_average_ranks(column) - 1.0) / (n - 1)
    return shares


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties averaged (``pandas.Series.rank(method="average")``), in NumPy."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values))
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def fuse_shares(shares: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of the rank shares over the signals that score anything (weights: signals x
    orders; one column per order). Candidates x orders; 0 where no weighted signal scores."""
    present = ~np.isnan(shares)
    filled = np.where(present, shares, 0.0)
    total = present.astype(float) @ weights
    return np.divide(filled @ weights, total, out=np.zeros_like(total), where=total > 0)


def fuse(signals: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> np.ndarray:
    """Each candidate's weighted mean rank share over ``signals`` (equal weights by default)."""
    if not signals:
        return np.zeros(0)
    matrix = np.column_stack([np.asarray(s, dtype=np.float64) for s in signals])
    vector = np.ones((matrix.shape[1], 1)) if weights is None else np.asarray(weights, float)[:, None]
    return fuse_shares(rank_shares(matrix), vector)[:, 0]


def signal_weights(weights: Mapping[str, float] | None) -> list[float] | None:
    """``weights`` in ``FUSED_SIGNALS`` order (None stays None: equal)."""
    return None if weights is None else [float(weights.get(name, 0.0)) for name in FUSED_SIGNALS]


def load_fusion_weights(root: Path) -> dict[str, float] | None:
    """The bundle's tuned weights, or None (equal weights) when it has none."""
    path = root / FUSION_FILE
    if not path.exists():
        return None
    weights = json.loads(path.read_text())["weights"]
    return {name: float(weights.get(name, 0.0)) for name in FUSED_SIGNALS}
