"""Retrieval order: the candidates' collaborative signals fused by standardised score, with tuned weights.

Each signal (two-tower affinity, item-kNN similarity, EASE weight, ALS preference) becomes a
z-score within the request: no common scale is needed across signals or datasets, yet how far a
candidate stands above the rest still counts (a rank share forgets it: measured on MovieLens 100K,
stratified, EASE and ALS fused by rank 0.463 NDCG@10, by z-score 0.471, EASE alone 0.476). The
weighted mean is squashed by the logistic function into (0, 1), the API's score range, keeping the
order. How much each signal counts is chosen per bundle on the replayed funnel's own held-out
engagements (``orchestration.defs.ranking.fusion_tuning``), never on test data; a bundle without
a tuned file weighs them equally.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from training.candidates.cross_scores import ALS_SCORE, EASE_SCORE, ITEM_KNN_SCORE

FUSED_SIGNALS = ("retrieval_score", ITEM_KNN_SCORE, EASE_SCORE, ALS_SCORE)
FUSION_FILE = "retrieval_fusion.json"  # in the bundle root, written by ranking/training_set


def standardised(signals: np.ndarray) -> np.ndarray:
    """Per column of ``signals`` (candidates x signals): each candidate's z-score among the
    request's candidates; a column that scores nothing (constant) is all NaN."""
    out = np.full(signals.shape, np.nan)
    if signals.shape[0] < 2:
        return out
    spread = signals.std(axis=0)
    varies = spread > 0
    out[:, varies] = (signals[:, varies] - signals[:, varies].mean(axis=0)) / spread[varies]
    return out


def fuse_standardised(z: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of the z-scores over the signals that score anything (weights: signals x
    orders; one column per order), squashed into (0, 1). Candidates x orders; 0 where no weighted
    signal scores (no evidence)."""
    present = ~np.isnan(z)
    filled = np.where(present, z, 0.0)
    total = present.astype(float) @ weights
    mean = np.divide(filled @ weights, total, out=np.zeros_like(total), where=total > 0)
    return np.where(total > 0, 1.0 / (1.0 + np.exp(-mean)), 0.0)


def fuse(signals: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> np.ndarray:
    """Each candidate's fused score over ``signals`` (equal weights by default), in (0, 1)."""
    if not signals:
        return np.zeros(0)
    matrix = np.column_stack([np.asarray(s, dtype=np.float64) for s in signals])
    vector = np.ones((matrix.shape[1], 1)) if weights is None else np.asarray(weights, float)[:, None]
    return fuse_standardised(standardised(matrix), vector)[:, 0]


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
