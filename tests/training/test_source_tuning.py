"""Each build tunes its ALS and EASE sources on its own held-out engagements."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.candidates.source_tuning import TunedSources, pair_matrices, tune_sources
from training.config import ALSConfig, EASEConfig, SourceTuningConfig
from training.evaluation.config import MetricConfig
from training.evaluation.tuning import coordinate_tune, tune
from training.recommenders.ease import EASERecommender


def _tastes(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four tastes of 15 items each; every user takes 8 of their taste's items and 1 stray item;
    a quarter of each user's items is held out."""
    rng = np.random.default_rng(seed)
    seen, held = [], []
    for taste in range(4):
        for u in range(30):
            items = [f"t{taste}-i{i}" for i in rng.choice(15, size=8, replace=False)]
            items.append(f"t{(taste + 1) % 4}-i{rng.integers(15)}")
            for k, item in enumerate(rng.permutation(items)):
                (held if k < 2 else seen).append((f"t{taste}-u{u}", item))
    columns = ["user_id", "item_id"]
    return pd.DataFrame(seen, columns=columns), pd.DataFrame(held, columns=columns)


def test_a_setting_that_cannot_learn_is_tuned_away() -> None:
    seen, held = _tastes()
    config = SourceTuningConfig(
        als={"regularization": [1e4, 1.0], "factors": [4]}, ease={"l2_per_mean_count": [0.5, 1e4]}
    )
    start = ALSConfig(factors=4, regularization=1e4, alpha=5.0, iterations=10)
    tuned = tune_sources(seen, held, config, als=start, ease=EASEConfig(l2_per_mean_count=1e4))
    assert tuned.als.regularization == 1.0, tuned.trials["als"]
    assert (tuned.als.factors, tuned.als.alpha, tuned.als.iterations) == (4, 5.0, 10), "the rest is kept"
    for source, chosen in (("als", {"regularization": 1.0}), ("ease", {})):
        best = max(tuned.trials[source], key=lambda t: t["ndcg@10"])
        assert chosen.items() <= best["params"].items()
    assert tuned.ease.l2_per_mean_count == best["params"]["l2_per_mean_count"]
    assert tuned.validation_users == 120
    assert TunedSources.from_dict(tuned.to_dict()) == tuned


def test_without_tuning_or_held_out_data_the_defaults_serve() -> None:
    seen, held = _tastes()
    off = tune_sources(seen, held, SourceTuningConfig(enabled=False))
    assert (off.als, off.ease, off.trials) == (ALSConfig(), EASEConfig(), {})
    empty = tune_sources(seen, held.iloc[:0], SourceTuningConfig())
    assert (empty.als, empty.ease, empty.validation_users) == (ALSConfig(), EASEConfig(), 0)


def test_a_held_out_pair_the_model_saw_is_not_something_to_find() -> None:
    seen = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["a", "b", "a"]})
    held = pd.DataFrame({"user_id": ["u1", "u2", "u3"], "item_id": ["a", "c", "b"]})
    train, val = pair_matrices(seen, held)
    assert train.shape == val.shape == (3, 3)
    assert train.nnz == 3 and val.nnz == 2, "u1's held-out a was already seen"
    assert train.multiply(val).nnz == 0


def test_one_axis_at_a_time_finds_the_grid_optimum_for_less() -> None:
    seen, held = _tastes(1)
    train, val = pair_matrices(seen, held)
    grid = {"l2": [0.1, 1.0, 10.0, 100.0, 1000.0]}
    metrics = MetricConfig()
    full, full_trials = tune(EASERecommender, grid, train, val, "ndcg@10", metrics)
    best, trials = coordinate_tune(EASERecommender, grid, {"l2": 100.0}, train, val, "ndcg@10", metrics)
    assert best == full and len(trials) == len(full_trials), "one axis: the same search"
    both = {"l2": [1.0, 100.0], "max_items": [5, 10_000]}
    best, trials = coordinate_tune(
        EASERecommender, both, {"l2": 100.0, "max_items": 5}, train, val, "ndcg@10", metrics, passes=1
    )
    assert len(trials) == 3, "start, then one new value per axis: no product"
    assert best == max(trials, key=lambda t: t["ndcg@10"])["params"]


def test_a_spent_budget_stops_the_search_with_the_best_so_far() -> None:
    seen, held = _tastes(2)
    train, val = pair_matrices(seen, held)
    grid = {"l2": [0.1, 1.0, 10.0, 100.0]}
    metrics = MetricConfig()
    best, trials = coordinate_tune(
        EASERecommender, grid, {"l2": 1e4}, train, val, "ndcg@10", metrics, edge_steps=2, budget_s=0.0
    )
    assert best == {"l2": 1e4} and len(trials) == 1, "only the starting point was tried"
