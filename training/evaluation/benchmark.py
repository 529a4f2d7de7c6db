"""One protocol end to end: split, tune every baseline on validation, score it and the given models.

The models that matter are passed in as a ``ModelLists`` callable (the served funnel, built by
``orchestration.defs.evaluation.served``); training cannot build it, since building it runs the
loop's assets. Every model is scored on the same users with the same metrics, and each
non-baseline model gets a paired bootstrap interval of its NDCG@10 lead over the best baseline.
Used by ``bench.quality`` and the ``evaluation/protocol_evaluation`` asset alike.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from training.config import RetrievalConfig
from training.evaluation.bootstrap import paired_interval, per_user_ndcg
from training.evaluation.config import MetricConfig, ProtocolConfig, TuningConfig
from training.evaluation.interactions import Interactions
from training.evaluation.metrics import hit_matrix
from training.evaluation.protocols import Split, replays, split
from training.evaluation.report import evaluate_lists, evaluation_users, list_length
from training.evaluation.tuning import tune
from training.recommenders import BASELINES
from training.recommenders.base import Recommender, top_k
from training.recommenders.two_tower import TwoTowerRecommender
from training.stacking.config import StackingConfig
from training.stacking.stacked import StackedRecommender

STACKED = "stacked"  # the offline-only stacked reference model
TWO_TOWER = "two_tower"
INTERVAL_METRIC = "ndcg@10"
# (split, evaluation users, list length) -> {model name: [users, k] item positions}
ModelLists = Callable[[Split, np.ndarray, int], tuple[dict[str, np.ndarray], dict[str, Any]]]


@dataclass(frozen=True)
class BenchmarkConfig:
    protocol: ProtocolConfig = field(default_factory=ProtocolConfig)
    metrics: MetricConfig = field(default_factory=MetricConfig)
    tuning: TuningConfig = field(default_factory=TuningConfig)
    stacking: StackingConfig = field(default_factory=StackingConfig)
    two_tower: RetrievalConfig = field(default_factory=RetrievalConfig)
    bootstrap_resamples: int = 2_000
    # A seeded sample of the test users (None: every user with a held-out item). Bounds the
    # served funnel's page requests and the scoring on a big file; every model gets the same users.
    max_test_users: int | None = None


@dataclass
class SideTables:
    """World users/items for the stacked model's two-tower source (side features)."""

    users: pd.DataFrame
    items: pd.DataFrame


def _maker(name: str, seed: int) -> Any:
    cls = BASELINES[name]
    return functools.partial(cls, seed=seed) if name == "als" else cls


def _rounded(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 5) if isinstance(v, float) else v for k, v in metrics.items()}


def run_protocol(
    data: Interactions,
    protocol: str,
    config: BenchmarkConfig | None = None,
    seed: int = 0,
    models: ModelLists | None = None,
    baselines: tuple[str, ...] = tuple(BASELINES),
    stacked: SideTables | bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """``{"protocol", "models": {name: metrics}, "intervals", "best_params", "tuning", "timing", ...}``.

    ``models`` adds the lists of the models under test; ``stacked`` adds the offline stacked
    reference (with a two-tower source when given the side tables).
    """
    config = config or BenchmarkConfig()
    started = time.perf_counter()
    parts = split(data, protocol, config.protocol, seed)
    train, test = parts.part("train").matrix(), parts.part("test").matrix()
    every_user = evaluation_users(test)
    users = sample_users(every_user, config.max_test_users, seed)
    k = list_length(config.metrics)
    run: dict[str, Any] = {
        "protocol": protocol,
        "seed": seed,
        "split": {name: int(getattr(parts, name).sum()) for name in ("train", "test", "val_train", "val")}
        | {"users": data.n_users, "items": data.n_items, "test_users": len(users)}
        | {"test_users_all": len(every_user)},
        "models": {},
        "best_params": {},
        "tuning": {},
        "timing": {},
        "baselines": list(baselines),
    }
    tops: dict[str, np.ndarray] = {}
    best = _tune_baselines(parts, config, seed, baselines, run)
    for name in baselines:
        t0 = time.perf_counter()
        model = _maker(name, seed)(**best[name]).fit(train)
        tops[name] = top_k(model, train, users, k, config.metrics.user_batch)
        run["timing"][name] = round(run["timing"][name] + time.perf_counter() - t0, 2)
    if models is not None:
        t0 = time.perf_counter()
        lists, report = models(parts, users, k)
        tops |= lists
        run["served"] = report
        run["timing"]["served"] = round(time.perf_counter() - t0, 2)
    if stacked:
        t0 = time.perf_counter()
        side = stacked if isinstance(stacked, SideTables) else None
        model = _fit_stacked(parts, config, seed, best, side, progress)
        tops[STACKED] = top_k(model, train, users, k, config.metrics.user_batch)
        run["best_params"][STACKED] = model.params()
        run["stacked"] = model.report
        run["timing"][STACKED] = round(time.perf_counter() - t0, 2)
    per_user: dict[str, np.ndarray] = {}
    n_rel = np.diff(test[users].indptr)
    for name, top in tops.items():
        result = evaluate_lists(top, users, train, test, data.item_category, config.metrics)
        run["models"][name] = _rounded(result)
        per_user[name] = per_user_ndcg(hit_matrix(top, test, users), n_rel, 10)
    run["intervals"] = intervals(per_user, baselines, run["models"], config.bootstrap_resamples, seed)
    run["timing"]["total"] = round(time.perf_counter() - started, 2)
    return run


def sample_users(users: np.ndarray, limit: int | None, seed: int) -> np.ndarray:
    """At most ``limit`` of ``users`` (sorted), drawn with ``seed``; all of them without a limit."""
    if limit is None or len(users) <= limit:
        return users
    return np.sort(np.random.default_rng(seed).choice(users, size=limit, replace=False))


def intervals(
    per_user: dict[str, np.ndarray],
    baselines: tuple[str, ...],
    models: dict[str, dict[str, Any]],
    resamples: int,
    seed: int,
) -> dict[str, dict[str, Any]]:
    """Each non-baseline model's paired NDCG@10 difference to the best baseline (by test NDCG@10)."""
    present = [b for b in baselines if b in per_user]
    if not present:
        return {}
    best = max(present, key=lambda b: models[b][INTERVAL_METRIC])
    return {
        name: {"against": best, **paired_interval(values, per_user[best], resamples, seed=seed)}
        for name, values in per_user.items()
        if name not in baselines
    }


def _tune_baselines(
    parts: Split, config: BenchmarkConfig, seed: int, baselines: tuple[str, ...], run: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Each baseline's grid searched on validation (fit on val_train, NDCG@10 on val)."""
    val_train, val = parts.part("val_train").matrix(), parts.part("val").matrix()
    best: dict[str, dict[str, Any]] = {}
    for name in baselines:
        t0 = time.perf_counter()
        params, trials = tune(
            _maker(name, seed),
            config.tuning.grids.get(name, {}),
            val_train,
            val,
            config.tuning.metric,
            config.metrics,
            config.tuning.max_val_users,
            seed,
            config.tuning.edge_steps,
            config.tuning.bounds,
        )
        best[name] = params
        run["best_params"][name], run["tuning"][name] = params, trials
        run["timing"][name] = round(time.perf_counter() - t0, 2)
    return best


def _fit_stacked(
    parts: Split,
    config: BenchmarkConfig,
    seed: int,
    best: dict[str, dict[str, Any]],
    side: SideTables | None,
    progress: bool,
) -> Recommender:
    data = parts.data
    factories: dict[str, Any] = {}
    for source in config.stacking.sources:
        if source == TWO_TOWER:
            if side is not None:
                factories[source] = functools.partial(
                    TwoTowerRecommender, side.users, side.items, data.user_ids, data.item_ids,
                    config.two_tower, timestamps=data.time_matrix(),
                )  # fmt: skip
        elif source in BASELINES:
            factories[source] = functools.partial(_maker(source, seed), **best.get(source, {}))
    folds = [
        (data.subset(a).matrix(), data.subset(b).matrix())
        for a, b in replays(parts, config.stacking.replay_folds, config.protocol, seed)
    ]
    model = StackedRecommender(factories, data.item_category, config.stacking, progress)
    return model.fit(
        parts.part("train").matrix(), parts.part("val_train").matrix(), parts.part("val").matrix(), folds
    )
