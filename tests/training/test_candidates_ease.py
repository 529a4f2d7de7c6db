"""EASE as a served source: capped fit, sparse lists by magnitude, scores from a history."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from training.candidates.ease import EASENeighbours, ease_neighbours
from training.candidates.neighbour_lists import top_neighbours
from training.config import EASEConfig
from training.recommenders.ease import EASERecommender

T0 = pd.Timestamp("2026-01-01", tz="UTC")


def _positives(seed: int = 0, users: int = 300, items: int = 40) -> pd.DataFrame:
    """Two taste groups: the first half of the items go together, and so does the second."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        group = u % 2
        pool = np.arange(items // 2) + group * (items // 2)
        for i in rng.choice(pool, size=6, replace=False):
            rows.append((f"u{u}", f"i{i:02d}"))
    stamps = [T0 + pd.Timedelta(minutes=k) for k in range(len(rows))]
    return pd.DataFrame(rows, columns=["user_id", "item_id"]).assign(timestamp=stamps)


def test_unpruned_lists_score_like_the_ease_recommender() -> None:
    positives = _positives()
    config = EASEConfig(neighbours=1_000, max_items=1_000, l2_per_mean_count=1.0)
    served = ease_neighbours(positives, config)
    items = served.item_ids.tolist()
    matrix = sp.csr_matrix(
        (
            np.ones(len(positives), np.float32),
            (
                pd.factorize(positives["user_id"])[0],
                pd.Index(items).get_indexer(positives["item_id"]),
            ),
        )
    )
    l2 = float(np.asarray(matrix.sum(axis=0)).mean())
    reference = EASERecommender(l2=l2).fit(matrix)
    history = positives[positives["user_id"] == "u0"]["item_id"].tolist()
    expected = reference.scores(np.array([0]))[0] / len(history)
    np.testing.assert_allclose(served.scores_of(history, items), expected, rtol=1e-4, atol=1e-6)


def test_a_history_finds_its_own_taste_group_and_not_itself() -> None:
    served = ease_neighbours(_positives(), EASEConfig(neighbours=10))
    history = ["i00", "i01", "i02"]
    top = served.top(history, 5)
    assert len(top) == 5 and not set(top) & set(history)
    assert all(int(item[1:]) < 20 for item in top), "the first group's items"
    assert all(int(n[1:]) < 20 for n in served.neighbours("i00", 3))


def test_the_cap_keeps_the_most_engaged_items_only() -> None:
    positives = _positives()
    extra = pd.DataFrame({"user_id": ["u0", "u1"], "item_id": ["rare", "rare"], "timestamp": [T0, T0]})
    served = ease_neighbours(pd.concat([positives, extra], ignore_index=True), EASEConfig(max_items=40))
    assert "rare" not in set(served.item_ids) and len(served) == 40
    assert served.scores_of(["i00"], ["rare"])[0] == 0.0


def test_pruning_by_magnitude_keeps_strong_negative_weights() -> None:
    weights = sp.csr_matrix(np.array([[0.0, 0.1, -0.9, 0.5], [0.2, 0.0, 0.3, -0.1]], dtype=np.float32))
    kept = top_neighbours(weights, 2, by_magnitude=True).toarray()
    assert kept[0].tolist() == [0.0, 0.0, np.float32(-0.9), np.float32(0.5)]
    assert kept[1].tolist() == [np.float32(0.2), 0.0, np.float32(0.3), 0.0]


def test_saved_lists_load_back_the_same(tmp_path: Path) -> None:
    served = ease_neighbours(_positives(), EASEConfig(neighbours=10))
    loaded = EASENeighbours.load(served.save(tmp_path))
    assert loaded.top(["i00", "i21"], 6) == served.top(["i00", "i21"], 6)
