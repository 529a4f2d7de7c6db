"""Grid search of a baseline on the validation split: fit on val_train, score NDCG@10 on val.

The test split is not an argument, so tuning cannot see it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from training.evaluation.config import MetricConfig
from training.evaluation.metrics import accuracy_metrics, hit_matrix
from training.evaluation.report import evaluation_users
from training.recommenders.base import Recommender, top_k


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values ({} for an empty grid: one default point)."""
    names = sorted(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(grid[n] for n in names))]


def validation_score(
    model: Recommender,
    val_train: sp.csr_matrix,
    val: sp.csr_matrix,
    users: np.ndarray,
    metric: str,
    config: MetricConfig,
) -> float:
    k = int(metric.split("@")[1])
    top = top_k(model, val_train, users, k, config.user_batch)
    hits = hit_matrix(top, val, users)
    return accuracy_metrics(hits, np.diff(val[users].indptr), (k,), config.mrr_k)[metric]


def tune(
    make: Callable[..., Recommender],
    grid: dict[str, list[Any]],
    val_train: sp.csr_matrix,
    val: sp.csr_matrix,
    metric: str,
    config: MetricConfig,
    max_users: int | None = None,
    seed: int = 0,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(best params, every point with its validation score and fit seconds)."""
    users = evaluation_users(val)
    if max_users is not None and len(users) > max_users:
        users = np.sort(np.random.default_rng(seed).choice(users, size=max_users, replace=False))
    trials = []
    for point in grid_points(grid):
        started = time.perf_counter()
        model = make(**point).fit(val_train)
        score = validation_score(model, val_train, val, users, metric, config)
        trials.append(
            {"params": point, metric: round(score, 5), "seconds": round(time.perf_counter() - started, 2)}
        )
    best = max(trials, key=lambda t: t[metric])
    return dict(best["params"]), trials
