"""Baselines: EASE's closed form, full ranking without seen items, and each beats random on toy data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from training.evaluation.config import MetricConfig
from training.evaluation.interactions import Interactions
from training.evaluation.protocols import split
from training.evaluation.report import evaluate_model
from training.evaluation.tuning import beyond, grid_points, tune
from training.recommenders import ALSRecommender, EASERecommender, ItemKNNRecommender, PopularityRecommender
from training.recommenders.base import top_k
from training.recommenders.ease import ease_weights
from training.recommenders.itemknn import cosine_neighbours

CONFIG = MetricConfig(ks=(10, 20), plot_ks=(10, 20))


class RandomScores:
    """The reference floor: uniformly random scores."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.n_items = 0

    def fit(self, matrix: sp.csr_matrix) -> RandomScores:
        self.n_items = matrix.shape[1]
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return self.rng.random((len(users), self.n_items)).astype(np.float32)

    def params(self) -> dict[str, Any]:
        return {}


def test_ease_matches_the_constrained_least_squares_solution() -> None:
    rng = np.random.default_rng(0)
    x = (rng.random((30, 6)) < 0.4).astype(np.float64)
    l2 = 2.0
    weights = ease_weights(sp.csr_matrix(x), l2)
    assert np.allclose(np.diag(weights), 0.0)
    for j in range(6):
        others = [i for i in range(6) if i != j]
        a = x[:, others]
        # column j regresses item j on every other item with ridge penalty l2 (diag constrained to 0)
        expected = np.linalg.solve(a.T @ a + l2 * np.eye(5), a.T @ x[:, j])
        assert np.allclose(weights[others, j], expected, atol=1e-4)


def test_top_k_excludes_seen_items_and_pads() -> None:
    matrix = sp.csr_matrix(np.array([[1, 0, 1, 0], [0, 0, 0, 0]], dtype=np.float32))
    model = PopularityRecommender().fit(sp.csr_matrix(np.array([[1, 1, 1, 0], [1, 0, 1, 0]], np.float32)))
    top = top_k(model, matrix, np.array([0, 1]), 4)
    assert top[0].tolist() == [1, 3, -1, -1]  # items 0 and 2 are seen; only two unseen remain
    assert top[1].tolist() == [0, 2, 1, 3]


def test_itemknn_keeps_k_neighbours_per_item() -> None:
    rng = np.random.default_rng(1)
    sim = cosine_neighbours(sp.csr_matrix((rng.random((40, 12)) < 0.3).astype(np.float32)), 3, 0.0)
    assert (np.diff(sim.tocsc().indptr) <= 3).all()
    assert np.allclose(sim.diagonal(), 0.0)


@pytest.mark.parametrize(
    "model",
    [
        PopularityRecommender(),
        ItemKNNRecommender(neighbours=20, shrink=5.0),
        EASERecommender(l2=10.0),
        ALSRecommender(factors=8, regularization=0.1, alpha=2.0, iterations=10),
    ],
    ids=["popularity", "itemknn", "ease", "als"],
)
def test_each_baseline_beats_random(blocks: Interactions, model: Any) -> None:
    s = split(blocks, "stratified", seed=0)
    train, test = s.part("train").matrix(), s.part("test").matrix()
    random = evaluate_model(RandomScores().fit(train), train, test, blocks.item_category, CONFIG)
    got = evaluate_model(model.fit(train), train, test, blocks.item_category, CONFIG)
    assert got["ndcg@10"] > random["ndcg@10"] + 0.05


def test_tuning_picks_the_best_validation_point(blocks: Interactions) -> None:
    s = split(blocks, "stratified", seed=0)
    grid = {"l2": [1.0, 1e6]}  # a huge l2 shrinks EASE to nothing useful
    best, trials = tune(
        EASERecommender, grid, s.part("val_train").matrix(), s.part("val").matrix(), "ndcg@10", CONFIG
    )
    assert len(trials) == 2 and best == max(trials, key=lambda t: t["ndcg@10"])["params"]
    assert grid_points({}) == [{}]
    assert len(grid_points({"a": [1, 2], "b": [3, 4, 5]})) == 6


def test_tuning_steps_past_an_edge_optimum(blocks: Interactions) -> None:
    s = split(blocks, "stratified", seed=0)
    grid = {"l2": [1e5, 1e6]}  # both far too strong: the optimum sits on the lower edge
    best, trials = tune(
        EASERecommender, grid, s.part("val_train").matrix(), s.part("val").matrix(), "ndcg@10", CONFIG,
        edge_steps=2, bounds={"l2": (1e3, 1e7)},
    )  # fmt: skip
    tried = [t["params"]["l2"] for t in trials]
    assert tried[:2] == [1e5, 1e6] and tried[2] == pytest.approx(1e4)  # one geometric step down
    assert len(trials) <= 4 and min(tried) >= 1e3  # at most edge_steps per side, within bounds
    assert best == max(trials, key=lambda t: t["ndcg@10"])["params"]


def test_beyond_steps_geometrically_and_respects_bounds() -> None:
    assert beyond([16, 32, 64], 16, (4, 512)) == 8
    assert beyond([16, 32, 64], 32, None) is None  # interior
    assert beyond([1.0, 5.0], 5.0, None) == pytest.approx(25.0)
    assert beyond([0.0, 10.0], 0.0, (0.0, 100.0)) is None  # below the bound
    assert beyond([256, 512], 512, (4, 512)) is None
    assert beyond([15], 15, None) is None  # a fixed value is not an axis
