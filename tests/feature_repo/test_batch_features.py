"""Behaviour windows per event type and the price band: counted strictly before each snapshot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.features import RANKER_INPUTS, USER_ACTIVITY_FEATURES, ranker_inputs
from feature_repo.batch.user_features import user_activity, user_activity_at, user_stats_at

AS_OF = pd.Timestamp("2026-06-30 00:00", tz="UTC")


def _events(rows: list[tuple[str, str, str, pd.Timedelta]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "event_type": [r[2] for r in rows],
            "timestamp": [AS_OF - r[3] for r in rows],
        }
    )


def test_activity_counts_each_event_type_per_window() -> None:
    hours, days = pd.Timedelta(hours=1), pd.Timedelta(days=1)
    events = _events(
        [
            ("u1", "a", "click", 2 * hours),  # 1d, 7d, 30d
            ("u1", "b", "click", 3 * days),  # 7d, 30d
            ("u1", "c", "click", 20 * days),  # 30d only
            ("u1", "d", "click", 40 * days),  # outside every window
            ("u1", "a", "purchase", 5 * days),
            ("u1", "a", "skip", 10 * hours),
            ("u2", "a", "view", 29 * days),
            ("u2", "a", "view", -hours),  # after the snapshot: never counted
        ]
    )
    got = user_activity_at(events, AS_OF).set_index("user_id")
    assert list(got.columns) == [*USER_ACTIVITY_FEATURES, "event_timestamp"]
    assert got.loc["u1", ["user_click_1d", "user_click_7d", "user_click_30d"]].tolist() == [1, 2, 3]
    assert got.loc["u1", ["user_purchase_1d", "user_purchase_7d", "user_purchase_30d"]].tolist() == [0, 1, 1]
    assert got.loc["u1", ["user_skip_1d", "user_skip_30d"]].tolist() == [1, 1]
    assert got.loc["u2", ["user_view_1d", "user_view_7d", "user_view_30d"]].tolist() == [0, 0, 1]
    assert got[list(USER_ACTIVITY_FEATURES)].dtypes.eq("int64").all()


def test_activity_snapshots_start_with_zero_rows_for_every_user() -> None:
    events = _events([("u1", "a", "click", pd.Timedelta(hours=1))])
    start = AS_OF - pd.Timedelta(days=60)
    stacked = user_activity(events, [AS_OF], pd.Series(["u1", "u2", "u2"]), start)
    births = stacked[stacked["event_timestamp"] == start]
    assert sorted(births["user_id"]) == ["u1", "u2"]
    assert (births[list(USER_ACTIVITY_FEATURES)] == 0).all().all()
    assert stacked.loc[stacked["event_timestamp"] == AS_OF, "user_click_1d"].tolist() == [1]


def test_price_band_is_the_interquartile_range_of_engaged_prices() -> None:
    prices = {"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0, "e": 1000.0}
    events = _events([("u1", item, "click", pd.Timedelta(days=1)) for item in prices])
    items = pd.DataFrame(
        {"item_id": list(prices), "price": list(prices.values()), "category": ["x"] * len(prices)}
    )
    stats = user_stats_at(events, items, AS_OF).set_index("user_id")
    assert stats.at["u1", "user_price_p25"] == 20.0
    assert stats.at["u1", "user_price_p75"] == 40.0
    assert stats.at["u1", "user_avg_price"] == np.mean(list(prices.values()))


def test_price_fit_is_zero_inside_the_band_and_falls_off_outside() -> None:
    raw = pd.DataFrame(
        {
            "item_price": [25.0, 5.0, 400.0, 25.0, 25.0, 0.0],
            "user_price_p25": [20.0, 20.0, 20.0, np.nan, np.nan, 20.0],
            "user_price_p75": [40.0, 40.0, 40.0, np.nan, np.nan, 40.0],
            "user_avg_price": [30.0, 30.0, 30.0, 25.0, np.nan, 30.0],
        }
    )
    fit = ranker_inputs(raw)[:, RANKER_INPUTS.index("price_fit")]
    assert fit[0] == 0.0, "inside the band"
    assert fit[1] < 0 and fit[2] < fit[1], "further from the band fits worse"
    assert fit[1] == np.float32(-(np.log1p(20.0) - np.log1p(5.0)))
    assert fit[3] == 0.0, "no band yet: distance to the mean price, here exact"
    assert fit[4] == 0.0 and fit[5] == 0.0, "nothing known, or an unpriced item: neutral"
