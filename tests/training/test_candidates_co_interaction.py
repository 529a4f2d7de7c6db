"""Co-interaction neighbours: session co-occurrence, popularity damping, lookups."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from training.candidates.co_interaction import CoInteractionNeighbours, co_interaction_neighbours
from training.config import CoInteractionConfig

T0 = pd.Timestamp("2026-03-01", tz="UTC")
SESSIONS = CoInteractionConfig(group_by="session", min_count=1)


def _events(sessions: list[list[str]], event_type: str = "click") -> pd.DataFrame:
    rows = []
    for s, items in enumerate(sessions):
        for n, item in enumerate(items):
            rows.append(
                {
                    "user_id": f"u{s % 7}",
                    "session_id": f"s{s}",
                    "item_id": item,
                    "event_type": event_type,
                    "timestamp": T0 + pd.Timedelta(minutes=10 * s + n),
                }
            )
    return pd.DataFrame(rows)


def test_items_of_the_same_sessions_are_neighbours() -> None:
    events = _events([["a", "b"]] * 5 + [["c", "d"]] * 5 + [["a", "c"]])
    table = co_interaction_neighbours(events, CoInteractionConfig(group_by="session", min_count=2))
    lookup = CoInteractionNeighbours(table)
    assert lookup.neighbours("a", 5) == ["b"]  # a-c seen once: below min_count
    assert lookup.neighbours("d", 5) == ["c"]
    assert lookup.neighbours("nobody-saw-me", 5) == []
    assert set(table.columns) == {"item_id", "neighbour_id", "score", "count", "rank"}


def test_popular_items_are_damped() -> None:
    # "hit" co-occurs with "x" 3 times but is in every session; "niche" co-occurs with "x" 3 times
    # and nowhere else: normalised, niche is the closer neighbour although the counts tie.
    sessions = [["x", "hit", "niche"]] * 3 + [["hit", f"o{i}"] for i in range(30)]
    table = co_interaction_neighbours(_events(sessions), SESSIONS)
    lookup = CoInteractionNeighbours(table)
    assert lookup.neighbours("x", 2) == ["niche", "hit"]
    raw = co_interaction_neighbours(_events(sessions), replace(SESSIONS, popularity_damping=0))
    counts = raw[raw["item_id"] == "x"].set_index("neighbour_id")["count"]
    assert counts["hit"] == counts["niche"] == 3


def test_window_negative_events_and_repeat_views() -> None:
    events = _events([["a", "a", "b", "c", "d"]] * 3)
    events = pd.concat([events, _events([["a", "z"]] * 3, event_type="skip")])  # skips say nothing
    table = co_interaction_neighbours(events, replace(SESSIONS, window=1))
    lookup = CoInteractionNeighbours(table)
    assert lookup.neighbours("a", 5) == ["b"]  # the repeat of "a" is not a pair; c is two steps away
    assert "z" not in set(table["neighbour_id"])
    assert sorted(lookup.neighbours("c", 5)) == ["b", "d"]


def test_for_items_merges_recent_seeds_and_excludes() -> None:
    events = _events([["a", "b"]] * 4 + [["c", "d"]] * 4)
    lookup = CoInteractionNeighbours(co_interaction_neighbours(events, SESSIONS))
    assert lookup.for_items(["c", "a"], k=10) == ["d", "b"]  # equally strong: the latest seed first
    assert lookup.for_items(["a", "c"], k=10) == ["b", "d"]
    assert lookup.for_items(["c", "a"], k=10, exclude=["d"]) == ["b"]
    assert lookup.for_items(["a", "b"], k=10) == []  # each is the other's only neighbour: both seeds
    assert co_interaction_neighbours(events.iloc[:0]).empty


def test_user_histories_pair_items_across_one_click_sessions() -> None:
    # Each session holds one click (as in most real logs); the same users come back for b after a.
    sessions = [["a"], ["b"]] * 4
    events = _events(sessions).assign(user_id=[f"u{n // 2}" for n in range(8)])
    assert co_interaction_neighbours(events, SESSIONS).empty
    by_user = co_interaction_neighbours(events, CoInteractionConfig(min_count=2))
    assert CoInteractionNeighbours(by_user).neighbours("a", 3) == ["b"]


def test_only_the_latest_items_of_a_long_history_count() -> None:
    events = _events([["old", "x", "new"]]).assign(user_id="u")
    table = co_interaction_neighbours(events, CoInteractionConfig(min_count=1, max_group_items=2))
    assert set(table["item_id"]) == {"x", "new"}
