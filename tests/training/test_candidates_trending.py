"""Trending: decayed sliding window minus the everyday level, overall and per category."""

from __future__ import annotations

import pandas as pd

from training.candidates.trending import TrendingLists, trending_lists, trending_scores
from training.config import TrendingConfig

NOW = pd.Timestamp("2026-03-08 12:00", tz="UTC")
ITEMS = pd.DataFrame(
    {
        "item_id": ["rising", "steady", "old", "lamp", "late"],
        "category": ["shoes", "shoes", "shoes", "lamps", "lamps"],
    }
)


def _clicks(item: str, hours_ago: list[float], event_type: str = "click") -> list[dict]:
    return [
        {
            "user_id": f"u{n}",
            "item_id": item,
            "event_type": event_type,
            "timestamp": NOW - pd.Timedelta(hours=h),
        }
        for n, h in enumerate(hours_ago)
    ]


def _events() -> pd.DataFrame:
    rows = _clicks("rising", [0.1, 0.2, 0.5, 0.9, 1.5])  # a burst now, nothing before
    rows += _clicks("steady", [h / 4 for h in range(0, 7 * 96)])  # four clicks an hour all week
    rows += _clicks("old", [30, 31, 32, 33, 34, 35])  # busy yesterday, quiet now
    rows += _clicks("lamp", [0.3, 3.5, 3.6])
    rows += _clicks("lamp", [0.2, 0.4], event_type="skip")  # negative events add nothing
    rows += [
        {
            "user_id": "u",
            "item_id": "late",
            "event_type": "purchase",
            "timestamp": NOW + pd.Timedelta(hours=1),
        }
    ]
    return pd.DataFrame(rows)


def test_a_burst_beats_a_steady_seller_and_yesterday_is_forgotten() -> None:
    scores = trending_scores(_events(), ITEMS, NOW).set_index("item_id")
    assert "rising" in scores.index and "old" not in scores.index
    assert "steady" not in scores.index, "its window matches its everyday rate: not a rise"
    plain = trending_scores(_events(), ITEMS, NOW, TrendingConfig(baseline_weight=0)).set_index("item_id")
    assert plain.loc["steady", "score"] > plain.loc["rising", "score"], "raw popularity would pick steady"
    assert "late" not in scores.index, "events after `now` are not seen"


def test_decay_favours_the_latest_hour() -> None:
    events = pd.DataFrame(_clicks("a", [0.1, 0.1]) + _clicks("b", [3.0, 3.0, 3.0]))
    items = pd.DataFrame({"item_id": ["a", "b"], "category": ["x", "x"]})
    scores = trending_scores(events, items, NOW, TrendingConfig(min_score=0.0)).set_index("item_id")
    assert scores.loc["a", "score"] > scores.loc["b", "score"]  # 2 fresh clicks beat 3 three hours old


def test_lists_overall_per_category_and_round_trip(tmp_path) -> None:
    lists = trending_lists(_events(), ITEMS, NOW, TrendingConfig(min_score=0.5))
    assert lists.overall[0] == "rising"
    assert lists.by_category["lamps"] == ["lamp"]
    assert lists.top(2, categories=["lamps"]) == ["lamp", "rising"]
    assert lists.top(1) == ["rising"]
    again = TrendingLists.load(lists.save(tmp_path))
    assert again == lists


def test_no_events_gives_empty_lists() -> None:
    empty = _events().iloc[:0]
    assert trending_lists(empty, ITEMS).overall == []
