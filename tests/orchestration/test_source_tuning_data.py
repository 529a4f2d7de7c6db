"""What the build's source tuning fits on and scores against."""

from __future__ import annotations

import pandas as pd

from orchestration.defs.candidate_generation.source_tuning import tuning_data
from orchestration.defs.common.split import evaluation_users, hidden_preferences

CUT = pd.Timestamp("2026-01-10", tz="UTC")


def _positives() -> pd.DataFrame:
    rows = []
    for u in range(60):
        for i in range(8):  # before the cut: enough items for the preference holdout
            rows.append((f"user{u}", f"item{(u + i) % 20}", CUT - pd.Timedelta(days=8 - i)))
        rows.append((f"user{u}", f"item{(u + 9) % 20}", CUT + pd.Timedelta(hours=u)))  # label window
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    return frame.assign(event_type="click")


def test_seen_is_the_at_cut_fit_and_held_out_is_the_rest_of_non_evaluation_users() -> None:
    positives = _positives()
    seen, held = tuning_data(positives, CUT)
    hidden = positives[hidden_preferences(positives, CUT)]
    assert len(hidden) > 0 and (seen["timestamp"] < CUT).all()
    assert not set(zip(hidden["user_id"], hidden["item_id"], strict=True)) & set(
        zip(seen["user_id"], seen["item_id"], strict=True)
    ), "a hidden preference is never fitted on"
    kept_out = evaluation_users(positives["user_id"].unique())
    assert 0 < len(kept_out) < 60 and not set(held["user_id"]) & kept_out
    others = positives[~positives["user_id"].isin(kept_out)]
    expected = len(others[others["timestamp"] >= CUT]) + int((~hidden["user_id"].isin(kept_out)).sum())
    assert len(held) == expected, "every label-window engagement and hidden preference of the others"
