"""The session fold and the ranker-input transform shared by training and serving."""

import numpy as np
import pandas as pd

from contracts.features import RANKER_INPUTS, SESSION_HISTORY_LENGTH, ranker_inputs
from contracts.session import next_session_state


def test_session_fold_tracks_engaged_items_and_counts() -> None:
    state = next_session_state(None, "impression", "i1", "books")
    assert state["session_item_ids"] == [] and state["session_events"] == 1
    state = next_session_state(state, "click", "i2", "music")
    assert state["session_item_ids"] == ["i2"]
    assert state["session_last_category"] == "music"
    assert state["session_clicks"] == 1 and state["session_events"] == 2


def test_session_history_is_bounded() -> None:
    state = None
    for n in range(SESSION_HISTORY_LENGTH + 5):
        state = next_session_state(state, "click", f"i{n}", "c")
    assert len(state["session_item_ids"]) == SESSION_HISTORY_LENGTH
    assert state["session_item_ids"][-1] == f"i{SESSION_HISTORY_LENGTH + 4}"


def test_ranker_inputs_cross_features() -> None:
    raw = pd.DataFrame(
        {
            "item_category": ["books", "music"],
            "user_top_categories": [["books", "music"], ["books", "music"]],
            "user_top_category_shares": [[0.7, 0.3], [0.7, 0.3]],
            "session_categories": [["music", "music"], ["music", "music"]],
            "session_last_category": ["music", "music"],
            "item_price": [10.0, 10.0],
            "user_avg_price": [10.0, 10.0],
            "device": ["mobile", "desktop"],
            "hour_of_day": [0, 12],
        }
    )
    m = pd.DataFrame(ranker_inputs(raw), columns=list(RANKER_INPUTS))
    assert m["category_affinity"].tolist() == [np.float32(0.7), np.float32(0.3)]
    assert m["session_last_category_match"].tolist() == [0.0, 1.0]
    assert m["session_category_share"].tolist() == [0.0, 1.0]
    assert m["price_fit"].tolist() == [0.0, 0.0]
    assert m["device_mobile"].tolist() == [1.0, 0.0]


def test_ranker_inputs_never_contain_nan_for_missing_features() -> None:
    raw = pd.DataFrame(
        {"item_category": [None, "x"], "item_price": [np.nan, np.inf], "user_avg_price": [None, 3.0]}
    )
    m = ranker_inputs(raw)
    assert m.shape == (2, len(RANKER_INPUTS))
    assert np.isfinite(m).all()
