"""World events -> unique implicit-feedback pairs with the catalogue's categories."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.evaluation.interactions import from_events


def test_positive_events_become_unique_pairs_with_first_time_and_category() -> None:
    events = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "b", "b"],
            "item_id": ["x", "x", "y", "y", "z"],
            "event_type": ["click", "purchase", "impression", "view", "click"],
            "timestamp": pd.to_datetime([5, 2, 1, 3, 4], unit="s", utc=True),
        }
    )
    items = pd.DataFrame({"item_id": ["x", "y", "z"], "category": ["books", "games", "books"]})
    data = from_events(events, items)
    pairs = {
        (data.user_ids[u], data.item_ids[i]): t
        for u, i, t in zip(data.users, data.items, data.timestamp, strict=True)
    }
    assert pairs == {("a", "x"): 2.0, ("b", "y"): 3.0, ("b", "z"): 4.0}  # the impression is not feedback
    assert data.matrix().sum() == 3
    codes = dict(zip(data.item_ids, data.item_category, strict=True))
    assert codes["x"] == codes["z"] != codes["y"]
    assert np.array_equal(data.matrix().toarray(), [[1, 0, 0], [0, 1, 1]])
