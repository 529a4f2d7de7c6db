"""Paired bootstrap intervals: is one model's mean per-user metric really above another's?

Both models are scored on the same users, so the users are resampled together and the interval
is of the mean *difference*; a lower end above zero means the lead holds beyond user sampling noise.
"""

from __future__ import annotations

import numpy as np

DEFAULT_RESAMPLES = 2_000


def per_user_ndcg(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """NDCG@k of each row (binary gains, the conventions of ``metrics.accuracy_metrics``); 0 where
    a row has no relevant item."""
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits[:, :k].astype(np.float64) * discount[: hits[:, :k].shape[1]]).sum(axis=1)
    ideal_cum = np.cumsum(discount)
    n_rel = np.minimum(n_relevant, k).astype(int)
    ideal = np.where(n_rel > 0, ideal_cum[np.maximum(n_rel, 1) - 1], 1.0)
    return np.where(n_rel > 0, dcg / ideal, 0.0)


def paired_interval(
    a: np.ndarray, b: np.ndarray, resamples: int = DEFAULT_RESAMPLES, level: float = 0.95, seed: int = 0
) -> dict[str, float]:
    """Mean of ``a - b`` and its percentile bootstrap interval over users (paired rows)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired arrays must be 1-D and the same length, got {a.shape} and {b.shape}")
    diff = a - b
    if len(diff) == 0:
        return {"difference": 0.0, "low": 0.0, "high": 0.0, "users": 0, "resamples": resamples}
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for start in range(0, resamples, 256):  # bounded memory: 256 resamples x users at a time
        stop = min(start + 256, resamples)
        picks = rng.integers(0, len(diff), size=(stop - start, len(diff)))
        means[start:stop] = diff[picks].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return {
        "difference": float(diff.mean()),
        "low": float(low),
        "high": float(high),
        "users": len(diff),
        "resamples": resamples,
        "level": level,
    }
