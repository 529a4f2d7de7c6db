"""The preference holdout: which engagements every model fitted at the cut is denied."""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.defs.common.config import SplitConfig
from orchestration.defs.common.split import evaluation_users, hidden_preferences, without_hidden

CUT = pd.Timestamp("2026-01-10", tz="UTC")


def engagements(users: int, items: int, event_type: str = "click") -> pd.DataFrame:
    """Every user engaged with every item once, a day before the cut."""
    rows = [(f"u{u}", f"i{i}") for u in range(users) for i in range(items)]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id"])
    return frame.assign(event_type=event_type, timestamp=CUT - pd.Timedelta(days=1))


def test_users_with_enough_history_lose_about_the_share_of_their_pairs() -> None:
    config = SplitConfig(preference_holdout_share=0.2, preference_min_items=5)
    rich = engagements(400, 30)
    hidden = rich[hidden_preferences(rich, CUT, config)]
    assert len(set(hidden["user_id"])) > 390
    assert 0.15 < len(hidden) / len(rich) < 0.25
    assert evaluation_users(hidden["user_id"].unique()), "evaluation users among them: the gate's test"
    poor = engagements(400, 4)
    assert not hidden_preferences(poor, CUT, config).any(), "four items are too few to hide any"


def test_the_holdout_is_stable_and_never_after_the_cut() -> None:
    frame = engagements(300, 20)
    mask = hidden_preferences(frame, CUT)
    shuffled = frame.sample(frac=1.0, random_state=3)
    again = pd.Series(hidden_preferences(shuffled, CUT), index=shuffled.index).sort_index().to_numpy()
    assert np.array_equal(mask, again), "no seed and no order: every asset hides the same pairs"
    later = frame.assign(timestamp=CUT + pd.Timedelta(hours=1))
    assert not hidden_preferences(later, CUT).any()


def test_without_hidden_drops_every_event_of_a_hidden_pair_before_the_cut() -> None:
    clicks = engagements(300, 20)
    hidden = clicks[hidden_preferences(clicks, CUT)]
    assert len(hidden) > 0
    shown = clicks.assign(event_type="impression")
    after = clicks.assign(timestamp=CUT + pd.Timedelta(hours=1))
    kept = without_hidden(pd.concat([clicks, shown, after], ignore_index=True), CUT)
    pairs = set(zip(hidden["user_id"], hidden["item_id"], strict=True))
    before = kept[kept["timestamp"] < CUT]
    assert not pairs & set(zip(before["user_id"], before["item_id"], strict=True)), "impressions too"
    assert len(kept[kept["timestamp"] >= CUT]) == len(after), "what came after the cut stays"
