"""Collaborative item neighbours: cosine over users, sparse top-k, a user's history scoring items."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from training.candidates.item_knn import ItemKNNNeighbours, item_knn_neighbours, top_neighbours
from training.config import ItemKNNConfig

T0 = pd.Timestamp("2026-01-01", tz="UTC")


def _positives(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    users, items = zip(*pairs, strict=True)
    stamps = [T0 + pd.Timedelta(minutes=i) for i in range(len(pairs))]
    return pd.DataFrame({"user_id": users, "item_id": items, "timestamp": stamps})


# a and b are always taken together; c goes with d; e is alone.
PAIRS = (
    [(f"u{u}", i) for u in range(6) for i in ("a", "b")]
    + [(f"v{u}", i) for u in range(4) for i in ("c", "d")]
    + [("w", "e"), ("x", "a"), ("x", "c")]
)


def test_items_taken_together_are_each_others_best_neighbour() -> None:
    knn = item_knn_neighbours(_positives(PAIRS), ItemKNNConfig(shrink=0.0))
    assert knn.neighbours("a", 1) == ["b"] and knn.neighbours("c", 1) == ["d"]
    assert knn.neighbours("e", 5) == [], "an item nobody shares has no neighbours"
    assert knn.neighbours("unknown", 5) == []


def test_a_history_scores_the_catalogue_and_excludes_what_it_holds() -> None:
    knn = item_knn_neighbours(_positives(PAIRS), ItemKNNConfig(shrink=0.0))
    assert knn.top(["a"], 3) == ["b", "c"], "b shares six users with a, c one"
    assert knn.top(["a"], 3, exclude=["b"]) == ["c"]
    scores = knn.scores_of(["a", "c"], ["b", "d", "e", "nope"])
    assert scores[0] > 0 and scores[1] > 0 and scores[2] == 0 and scores[3] == 0
    assert np.all(scores <= 1.0), "a mean of cosines"
    assert knn.top([], 3) == []


def test_shrink_damps_pairs_resting_on_few_users() -> None:
    plain = item_knn_neighbours(_positives(PAIRS), ItemKNNConfig(shrink=0.0)).scores_of(["a"], ["b", "c"])
    shrunk = item_knn_neighbours(_positives(PAIRS), ItemKNNConfig(shrink=5.0)).scores_of(["a"], ["b", "c"])
    assert shrunk[1] / plain[1] < shrunk[0] / plain[0], "the one-user pair loses more"


def test_top_neighbours_keeps_k_per_row() -> None:
    import scipy.sparse as sp

    sim = sp.csr_matrix(np.array([[0, 3, 1, 2], [1, 0, 5, 4], [0, 0, 0, 0], [2, 2, 2, 0]], dtype=np.float32))
    kept = top_neighbours(sim, 2).toarray()
    assert (kept > 0).sum(axis=1).tolist() == [2, 2, 0, 2]
    assert kept[0].tolist() == [0, 3, 0, 2] and kept[1].tolist() == [0, 0, 5, 4]


def test_saved_lists_load_back_the_same(tmp_path: Path) -> None:
    knn = item_knn_neighbours(_positives(PAIRS))
    path = knn.save(tmp_path)
    loaded = ItemKNNNeighbours.load(path)
    assert loaded.top(["a", "c"], 4) == knn.top(["a", "c"], 4)
    np.testing.assert_allclose(loaded.scores_of(["a"], ["b", "c"]), knn.scores_of(["a"], ["b", "c"]))
