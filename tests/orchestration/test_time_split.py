"""The label window: a share of the time span within bounds, widened to hold enough events."""

from __future__ import annotations

import pandas as pd

from orchestration.defs.common.config import SplitConfig
from orchestration.defs.common.split import time_split


def _stamps(days: list[float]) -> pd.Series:
    return pd.Series(pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(days, unit="D"))


def test_even_activity_gets_the_time_share_of_the_span() -> None:
    split = time_split(_stamps([d / 10 for d in range(1000)]), SplitConfig(label_window_min_event_share=0.05))
    window = split.end - split.cut
    assert abs(window - pd.Timedelta(days=99.9 * 0.12)) < pd.Timedelta(minutes=1)


def test_bursty_history_widens_the_window_to_the_event_share() -> None:
    # 90% of the activity in the first 30 days, then a trickle for 200 days: 14 days would hold ~1%.
    days = [d * 30 / 900 for d in range(900)] + [30 + d * 2 for d in range(100)]
    split = time_split(_stamps(days), SplitConfig(label_window_min_event_share=0.12))
    inside = (_stamps(days) >= split.cut).mean()
    assert 0.11 <= inside <= 0.13
    assert split.end - split.cut > pd.Timedelta(days=14)
