"""Item-to-item source scores as ranker cross features: the same seeds and numbers offline and online."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.funnel_config import HistoryConfig
from training.candidates.co_interaction import CoInteractionNeighbours
from training.candidates.cross_scores import (
    CO_INTERACTION_SCORE,
    CONTENT_SIMILARITY,
    ITEM_KNN_SCORE,
    CrossSources,
    latest_first,
    recent_items,
    row_source_scores,
    source_scores,
)

NEIGHBOURS = CoInteractionNeighbours(
    pd.DataFrame(
        {
            "item_id": ["a", "a", "b"],
            "neighbour_id": ["x", "y", "x"],
            "score": [0.8, 0.5, 0.9],
            "count": [3, 2, 4],
            "rank": [0, 1, 0],
        }
    ),
    seed_decay=0.5,
)
WINDOWS = HistoryConfig()


def test_a_seed_past_the_window_scores_nothing() -> None:
    got = source_scores(CrossSources(co_interaction=NEIGHBOURS), ["a", "b"], ["x", "y"], seed_items=1)
    np.testing.assert_allclose(got[CO_INTERACTION_SCORE], [0.8, 0.5])  # only the newest seed, a
    only_b = source_scores(CrossSources(co_interaction=NEIGHBOURS), ["b", "a"], ["x", "y"], seed_items=1)
    assert only_b[CO_INTERACTION_SCORE][1] == 0.0, "y is reached from a, outside the window"


def test_recent_items_put_the_session_first_newest_first() -> None:
    assert recent_items(["a", "b", "c"], ["x", "b"], limit=4) == ["c", "b", "a", "x"]
    assert recent_items([], ["y", "x"], limit=1) == ["y"], "history keeps its newest-first order"


def test_latest_first_orders_by_the_latest_engagement_not_by_id() -> None:
    t = pd.Timestamp("2026-01-01", tz="UTC")
    positives = pd.DataFrame(
        {
            "user_id": ["u", "u", "u", "u", "v"],
            "item_id": ["a", "z", "m", "a", "a"],
            "timestamp": [t, t + pd.Timedelta(hours=1), t + pd.Timedelta(hours=2), t, t],
        }
    )
    assert latest_first(positives) == {"u": ["m", "z", "a"], "v": ["a"]}
    assert latest_first(positives, limit=2)["u"] == ["m", "z"]


def test_a_candidate_gets_its_best_seed_discounted_score_and_zero_when_unreached() -> None:
    got = source_scores(CrossSources(co_interaction=NEIGHBOURS), ["a", "b"], ["x", "y", "z"], seed_items=2)
    # x: max(0.8 from the newest seed, 0.9 * 0.5 from the older one); y: 0.5; z: unreached
    np.testing.assert_allclose(got[CO_INTERACTION_SCORE], [0.8, 0.5, 0.0])
    np.testing.assert_array_equal(got[CONTENT_SIMILARITY], [0.0, 0.0, 0.0])  # absent source: 0
    np.testing.assert_array_equal(got[ITEM_KNN_SCORE], [0.0, 0.0, 0.0])
    empty = source_scores(CrossSources(co_interaction=NEIGHBOURS), [], ["x"], seed_items=2)
    assert empty[CO_INTERACTION_SCORE].tolist() == [0.0]


def test_training_rows_use_the_session_before_them_then_history() -> None:
    got = row_source_scores(
        CrossSources(co_interaction=NEIGHBOURS),
        user_ids=["u1", "u1", "u2"],
        session_items=[[], ["b"], None],
        item_ids=["x", "x", "y"],
        history={"u1": ["a"], "u2": ["a"]},
        windows=WINDOWS,
    )
    # row 0: seeds [a] -> x 0.8; row 1: seeds [b, a] -> x max(0.9, 0.8 * 0.5); row 2: seeds [a] -> y 0.5
    np.testing.assert_allclose(got[CO_INTERACTION_SCORE], [0.8, 0.9, 0.5])
    history = recent_items(["b"], ["a"], WINDOWS.history_items)
    serving = source_scores(CrossSources(co_interaction=NEIGHBOURS), history, ["x"], WINDOWS.seed_items)
    assert serving[CO_INTERACTION_SCORE][0] == got[CO_INTERACTION_SCORE][1], "train and serve agree"
