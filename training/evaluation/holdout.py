"""Temporal holdout: each user's most recent positives are the test set.

A random split would let the model train on what a user did after the moment being predicted;
cutting per user at the first test interaction keeps every training event strictly earlier.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.schemas import POSITIVE_EVENT_WEIGHTS


def temporal_split(events: pd.DataFrame, test_fraction: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) event frames.

    Per user, the last ``floor(n_positive * test_fraction)`` positive events by time go to test.
    Train keeps that user's events (of any type) strictly before their first test event, and all
    events of users with no test events. Users with too few positives stay entirely in train.
    """
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    sort_cols = ["user_id", "timestamp"] + (["event_id"] if "event_id" in events else [])
    ordered = events.sort_values(sort_cols, kind="mergesort")
    positive = ordered[ordered["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))]
    n_pos = positive.groupby("user_id")["user_id"].transform("size")
    rank_from_end = positive.groupby("user_id").cumcount(ascending=False)
    n_test = np.floor(n_pos * test_fraction).astype(int)
    test = positive[rank_from_end < n_test]
    cutoff = test.groupby("user_id")["timestamp"].min()
    user_cutoff = ordered["user_id"].map(cutoff)
    keep = user_cutoff.isna() | (ordered["timestamp"] < user_cutoff)
    return ordered[keep].reset_index(drop=True), test.reset_index(drop=True)


def items_by_user(events: pd.DataFrame, positive_only: bool = True) -> dict[str, set[str]]:
    """user -> set of items, e.g. the train items to exclude or the test items to find."""
    frame = events[events["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))] if positive_only else events
    return {str(u): set(map(str, g)) for u, g in frame.groupby("user_id")["item_id"]}


def target_items(train: pd.DataFrame, test: pd.DataFrame, exclude_seen: bool = True) -> dict[str, set[str]]:
    """Test targets per user; by default items the user already had in train are dropped (not news)."""
    targets = items_by_user(test)
    if not exclude_seen:
        return targets
    seen = items_by_user(train)
    return {u: items - seen.get(u, set()) for u, items in targets.items()}
