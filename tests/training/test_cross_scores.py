"""Item-to-item source scores as ranker cross features: the same seeds and numbers offline and online."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.candidates.co_interaction import CoInteractionNeighbours
from training.candidates.cross_scores import (
    CO_INTERACTION_SCORE,
    CONTENT_SIMILARITY,
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


def test_recent_items_put_the_session_first_newest_first() -> None:
    assert recent_items(["a", "b", "c"], {"x", "b"}, limit=4) == ["c", "b", "a", "x"]
    assert recent_items([], {"y", "x"}, limit=1) == ["x"]


def test_a_candidate_gets_its_best_seed_discounted_score_and_zero_when_unreached() -> None:
    got = source_scores(NEIGHBOURS, None, ["a", "b"], ["x", "y", "z"])
    # x: max(0.8 from the newest seed, 0.9 * 0.5 from the older one); y: 0.5; z: unreached
    np.testing.assert_allclose(got[CO_INTERACTION_SCORE], [0.8, 0.5, 0.0])
    np.testing.assert_array_equal(got[CONTENT_SIMILARITY], [0.0, 0.0, 0.0])  # absent source: 0
    assert source_scores(NEIGHBOURS, None, [], ["x"])[CO_INTERACTION_SCORE].tolist() == [0.0]


def test_training_rows_use_the_session_before_them_then_history() -> None:
    got = row_source_scores(
        NEIGHBOURS,
        None,
        user_ids=["u1", "u1", "u2"],
        session_items=[[], ["b"], None],
        item_ids=["x", "x", "y"],
        history={"u1": {"a"}, "u2": {"a"}},
    )
    # row 0: seeds [a] -> x 0.8; row 1: seeds [b, a] -> x max(0.9, 0.8 * 0.5); row 2: seeds [a] -> y 0.5
    np.testing.assert_allclose(got[CO_INTERACTION_SCORE], [0.8, 0.9, 0.5])
    serving = source_scores(NEIGHBOURS, None, recent_items(["b"], {"a"}), ["x"])
    assert serving[CO_INTERACTION_SCORE][0] == got[CO_INTERACTION_SCORE][1], "train and serve agree"
