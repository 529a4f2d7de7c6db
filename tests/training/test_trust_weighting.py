"""Trust weights in the candidate sources: all-ones weights change nothing; low weights remove a
farm's pull; nothing is deleted from the events handed in."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.trust import TRUST_WEIGHT
from training.candidates.als import fit_als
from training.candidates.co_interaction import co_interaction_neighbours
from training.candidates.item_knn import item_knn_neighbours
from training.candidates.trending import trending_scores
from training.config import CoInteractionConfig, ItemKNNConfig
from training.synthetic import synthetic_world


def world() -> tuple[pd.DataFrame, pd.DataFrame]:
    w = synthetic_world(n_users=80, n_items=60, n_events=3_000, n_categories=4, seed=2)
    return w.events, w.items


def farm(events: pd.DataFrame, n: int = 15) -> pd.DataFrame:
    """``n`` accounts each engaging with ``t`` and ``c`` just after the last event."""
    end = pd.to_datetime(events["timestamp"], utc=True).max()
    rows = [
        (f"bot{b}", item, "click", end - pd.Timedelta(minutes=30) + pd.Timedelta(seconds=b * 10 + k))
        for b in range(n)
        for k, item in enumerate(["t", "c", "t", "c"])
    ]
    fake = pd.DataFrame(rows, columns=["user_id", "item_id", "event_type", "timestamp"])
    return pd.concat([events[fake.columns], fake], ignore_index=True)


def weighted(frame: pd.DataFrame, bot_weight: float) -> pd.DataFrame:
    return frame.assign(**{TRUST_WEIGHT: np.where(frame["user_id"].str.startswith("bot"), bot_weight, 1.0)})


def test_unit_weights_change_no_source() -> None:
    events, items = world()
    ones = events.assign(**{TRUST_WEIGHT: 1.0})
    pd.testing.assert_frame_equal(co_interaction_neighbours(events), co_interaction_neighbours(ones))
    pd.testing.assert_frame_equal(trending_scores(events, items), trending_scores(ones, items))
    a, b = item_knn_neighbours(events), item_knn_neighbours(ones)
    assert (a.weights != b.weights).nnz == 0
    assert np.allclose(fit_als(events).factors, fit_als(ones).factors)


def test_low_weights_remove_the_farms_pair() -> None:
    events, _ = world()
    attacked = farm(events)
    config = CoInteractionConfig(min_count=2.0)
    raw = co_interaction_neighbours(attacked, config)
    assert ((raw["item_id"] == "t") & (raw["neighbour_id"] == "c")).any()
    trusted = co_interaction_neighbours(weighted(attacked, 0.01), config)
    assert not (trusted["item_id"] == "t").any()  # 15 x 0.01 is below min_count
    knn = item_knn_neighbours(weighted(attacked, 0.01), ItemKNNConfig(min_count=1.0))
    assert "t" not in knn.neighbours("c", 50)
    assert "t" in item_knn_neighbours(attacked, ItemKNNConfig(min_count=1.0)).neighbours("c", 50)


def test_trending_caps_one_accounts_share_and_weighs_trust() -> None:
    events, items = world()
    end = pd.to_datetime(events["timestamp"], utc=True).max()
    spam = pd.DataFrame(
        {
            "user_id": "fan",
            "item_id": items["item_id"].iloc[0],
            "event_type": "click",
            "timestamp": [end - pd.Timedelta(seconds=s) for s in range(200)],
        }
    )
    one_fan = pd.concat([events, spam], ignore_index=True)
    scores = trending_scores(one_fan, items).set_index("item_id")["recent"]
    assert scores[items["item_id"].iloc[0]] <= 3.0 + trending_scores(events, items).set_index("item_id")[
        "recent"
    ].get(items["item_id"].iloc[0], 0.0)  # 200 clicks of one account count as one purchase at most
    attacked = farm(events, n=40)
    assert "t" in set(trending_scores(attacked, items)["item_id"])
    assert "t" not in set(trending_scores(weighted(attacked, 0.005), items)["item_id"])
