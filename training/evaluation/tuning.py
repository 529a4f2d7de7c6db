"""Grid search of a baseline on the validation split: fit on val_train, score NDCG@10 on val.

The test split is not an argument, so tuning cannot see it. An optimum on a grid edge is followed
past that edge (``beyond``), so a baseline is never reported at the border of what was searched.
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


def _numeric(values: list[Any]) -> bool:
    return len(values) >= 2 and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def beyond(values: list[Any], best: Any, bounds: tuple[float, float] | None) -> Any | None:
    """The next value past the edge ``best`` sits on (geometric step), or None if interior/bounded."""
    ordered = sorted(values)
    if not _numeric(ordered) or best not in (ordered[0], ordered[-1]):
        return None
    low, high = bounds or (-np.inf, np.inf)
    edge, inner = (ordered[-1], ordered[-2]) if best == ordered[-1] else (ordered[0], ordered[1])
    new = edge * edge / inner if edge > 0 and inner > 0 else 2 * edge - inner
    if isinstance(edge, int):
        new = round(new)
    return new if low <= new <= high and new not in ordered else None


def _scorer(
    make: Callable[..., Recommender],
    val_train: sp.csr_matrix,
    val: sp.csr_matrix,
    metric: str,
    config: MetricConfig,
    max_users: int | None,
    seed: int,
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """One trial: fit ``make(**point)`` on ``val_train``, score ``metric`` on ``val``'s users (a
    seeded sample of ``max_users`` of them)."""
    users = evaluation_users(val)
    if max_users is not None and len(users) > max_users:
        users = np.sort(np.random.default_rng(seed).choice(users, size=max_users, replace=False))

    def trial(point: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        model = make(**point).fit(val_train)
        score = validation_score(model, val_train, val, users, metric, config)
        return {"params": point, metric: round(score, 5), "seconds": round(time.perf_counter() - started, 2)}

    return trial


def _past_edges(
    trial: Callable[[dict[str, Any]], dict[str, Any]],
    trials: list[dict[str, Any]],
    grid: dict[str, list[Any]],
    metric: str,
    edge_steps: int,
    bounds: dict[str, tuple[float, float]] | None,
) -> dict[str, Any]:
    """Steps each axis whose optimum sits on its edge past it (line search from the best point) up
    to ``edge_steps`` times per axis; returns the best point of all ``trials`` (``trial`` records
    each new point in them)."""
    axes = {name: list(values) for name, values in grid.items()}
    steps = dict.fromkeys(axes, 0)
    while True:
        best = max(trials, key=lambda t: t[metric])["params"]
        moved = False
        for name in sorted(axes):
            new = beyond(axes[name], best[name], (bounds or {}).get(name))
            if new is None or steps[name] >= edge_steps:
                continue
            axes[name].append(new)
            steps[name] += 1
            trial(best | {name: new})
            moved = True
        if not moved:
            return dict(max(trials, key=lambda t: t[metric])["params"])


def tune(
    make: Callable[..., Recommender],
    grid: dict[str, list[Any]],
    val_train: sp.csr_matrix,
    val: sp.csr_matrix,
    metric: str,
    config: MetricConfig,
    max_users: int | None = None,
    seed: int = 0,
    edge_steps: int = 0,
    bounds: dict[str, tuple[float, float]] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(best params, every point with its validation score and fit seconds).

    With ``edge_steps``, each axis whose optimum is on its edge is stepped past it (line search from
    the best point) up to that many times per axis, until the optimum is interior or bounded.
    """
    score = _scorer(make, val_train, val, metric, config, max_users, seed)
    trials: list[dict[str, Any]] = []

    def trial(point: dict[str, Any]) -> dict[str, Any]:
        trials.append(score(point))
        return trials[-1]

    for point in grid_points(grid):
        trial(point)
    return _past_edges(trial, trials, grid, metric, edge_steps, bounds), trials


def coordinate_tune(
    make: Callable[..., Recommender],
    grid: dict[str, list[Any]],
    start: dict[str, Any],
    val_train: sp.csr_matrix,
    val: sp.csr_matrix,
    metric: str,
    config: MetricConfig,
    max_users: int | None = None,
    seed: int = 0,
    passes: int = 2,
    edge_steps: int = 0,
    bounds: dict[str, tuple[float, float]] | None = None,
    budget_s: float | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """:func:`tune` one axis at a time: from ``start``, each axis in turn tries its values with the
    others at the best point so far, for up to ``passes`` rounds (fewer once nothing moves). The
    sum of the axes' lengths per round instead of their product: what a build can afford on a
    catalogue where one fit takes seconds. Same result as the grid when the axes do not interact.

    Once ``budget_s`` seconds are spent no further point is tried: the best so far is the answer
    (on a big catalogue the search is cut short rather than the build held up)."""
    score = _scorer(make, val_train, val, metric, config, max_users, seed)
    trials: list[dict[str, Any]] = []
    seen: dict[tuple, dict[str, Any]] = {}
    started = time.perf_counter()

    def once(point: dict[str, Any]) -> dict[str, Any]:
        key = tuple(sorted(point.items()))
        if key in seen:
            return seen[key]
        if budget_s is not None and trials and time.perf_counter() - started > budget_s:
            return {"params": point, metric: -np.inf}  # not tried, not recorded
        seen[key] = score(point)
        trials.append(seen[key])
        return seen[key]

    best = once(dict(start))
    for _ in range(passes):
        before = best["params"]
        for name in sorted(grid):
            for value in grid[name]:
                result = once(best["params"] | {name: value})
                if result[metric] > best[metric]:
                    best = result
        if best["params"] == before:
            break
    return _past_edges(once, trials, grid, metric, edge_steps, bounds), trials
