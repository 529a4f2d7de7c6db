"""One protocol end to end: split, tune every baseline on validation, fit, score, then our funnel.

Used by ``bench.quality`` and the evaluation asset alike, so the README numbers and the Dagster
metadata come from the same code path.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from training.config import RetrievalConfig
from training.evaluation.config import MetricConfig, ProtocolConfig, TuningConfig
from training.evaluation.interactions import Interactions
from training.evaluation.protocols import replays, split
from training.evaluation.report import evaluate_model, evaluation_users
from training.evaluation.tuning import tune
from training.funnel.config import FunnelConfig
from training.funnel.funnel import FunnelRecommender
from training.recommenders import BASELINES
from training.recommenders.base import Recommender
from training.recommenders.two_tower import TwoTowerRecommender

OURS = "ours"
TWO_TOWER = "two_tower"


@dataclass(frozen=True)
class BenchmarkConfig:
    protocol: ProtocolConfig = field(default_factory=ProtocolConfig)
    metrics: MetricConfig = field(default_factory=MetricConfig)
    tuning: TuningConfig = field(default_factory=TuningConfig)
    funnel: FunnelConfig = field(default_factory=FunnelConfig)
    two_tower: RetrievalConfig = field(default_factory=RetrievalConfig)


@dataclass
class SideTables:
    """World users/items for the two-tower source (side features); absent -> no two-tower source."""

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
    side: SideTables | None = None,
    baselines: tuple[str, ...] = tuple(BASELINES),
    progress: bool = False,
) -> dict[str, Any]:
    """``{"protocol", "models": {name: metrics}, "best_params", "tuning", "timing", "split", "funnel"}``."""
    config = config or BenchmarkConfig()
    started = time.perf_counter()
    parts = split(data, protocol, config.protocol, seed)
    train, test = parts.part("train").matrix(), parts.part("test").matrix()
    val_train, val = parts.part("val_train").matrix(), parts.part("val").matrix()
    users = evaluation_users(test)
    category = data.item_category
    run: dict[str, Any] = {
        "protocol": protocol,
        "seed": seed,
        "split": {name: int(getattr(parts, name).sum()) for name in ("train", "test", "val_train", "val")}
        | {"users": data.n_users, "items": data.n_items, "test_users": len(users)},
        "models": {},
        "best_params": {},
        "tuning": {},
        "timing": {},
    }
    best: dict[str, dict[str, Any]] = {}
    for name in baselines:
        t0 = time.perf_counter()
        make = _maker(name, seed)
        grid = config.tuning.grids.get(name, {})
        params, trials = tune(
            make,
            grid,
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
        model = make(**params).fit(train)
        run["models"][name] = _rounded(evaluate_model(model, train, test, category, config.metrics, users))
        run["best_params"][name] = params
        run["tuning"][name] = trials
        run["timing"][name] = round(time.perf_counter() - t0, 2)

    factories: dict[str, Any] = {}
    for source in config.funnel.sources:
        if source == TWO_TOWER:
            if side is not None:
                factories[source] = functools.partial(
                    TwoTowerRecommender,
                    side.users,
                    side.items,
                    data.user_ids,
                    data.item_ids,
                    config.two_tower,
                    timestamps=data.time_matrix(),
                )
        elif source in best:
            factories[source] = functools.partial(_maker(source, seed), **best[source])
        else:
            factories[source] = _maker(source, seed)
    t0 = time.perf_counter()
    folds = [
        (parts.data.subset(a).matrix(), parts.data.subset(b).matrix())
        for a, b in replays(parts, config.funnel.replay_folds, config.protocol, seed)
    ]
    funnel = FunnelRecommender(factories, category, config.funnel, progress)
    funnel.fit(train, val_train, val, folds)
    run["models"][OURS] = _rounded(evaluate_model(funnel, train, test, category, config.metrics, users))
    run["timing"][OURS] = round(time.perf_counter() - t0, 2)
    run["best_params"][OURS] = funnel.params()
    run["funnel"] = funnel.report
    if TWO_TOWER in funnel.sources:
        two_tower: Recommender = funnel.sources[TWO_TOWER]
        run["models"][TWO_TOWER] = _rounded(
            evaluate_model(two_tower, train, test, category, config.metrics, users)
        )
        run["best_params"][TWO_TOWER] = two_tower.params()
    run["timing"]["total"] = round(time.perf_counter() - started, 2)
    return run
