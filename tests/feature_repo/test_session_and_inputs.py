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


def _request_rows(n: int, seed: int) -> tuple[dict, dict]:
    """One request's candidate columns (with missing values) and its user's and context's values."""
    rng = np.random.default_rng(seed)
    categories = np.array(["books", "music", "games", "", "toys"])[rng.integers(0, 5, n)]
    items = {
        "item_category": categories,
        "item_price": np.where(rng.random(n) < 0.2, np.nan, rng.gamma(2.0, 10.0, n)),
        "item_sponsored": np.where(rng.random(n) < 0.1, np.nan, (rng.random(n) < 0.3).astype(float)),
        "item_popularity": rng.random(n),
        "item_ctr": np.where(rng.random(n) < 0.1, np.nan, rng.random(n)),
        "item_created_ts": 1e9 - rng.random(n) * 1e7,
        "retrieval_score": rng.random(n).astype(np.float32),
        "item_knn_score": rng.random(n),
        "ease_score": rng.normal(size=n),
        "als_score": rng.normal(size=n),
    }
    user = {
        "user_top_categories": ["music", "books", "music"],  # a repeat: the first share counts
        "user_top_category_shares": [0.6, 0.3, 0.1],
        "session_categories": ["games", "games", "books", None],
        "session_last_category": "games",
        "user_avg_price": 20.0,
        "user_price_p25": None,
        "user_price_p75": 35.0,
        "user_clicks_30d": 7,
        "user_ctr_30d": float("nan"),
        "session_clicks": 3,
        "device": "mobile",
        "now_ts": 1e9,
        "hour_of_day": 21,
    }
    return items, user


def test_request_columns_give_the_training_frame_s_matrix() -> None:
    """Serving passes arrays and request constants, training a frame of the same rows: one
    transformation, the same matrix to the bit (a cross feature computed differently fails)."""
    items, user = _request_rows(300, seed=3)
    frame = pd.DataFrame(items)
    for name, value in user.items():
        frame[name] = [value] * len(frame)
    served = ranker_inputs({**items, **user})
    np.testing.assert_array_equal(served, ranker_inputs(frame))
    m = pd.DataFrame(served, columns=list(RANKER_INPUTS))
    music = items["item_category"] == "music"
    assert (m["category_affinity"][music] == np.float32(0.6)).all(), "the first listed share"
    assert (m["session_category_share"][items["item_category"] == "games"] == 0.5).all()
    assert m["session_last_category_match"].sum() == (items["item_category"] == "games").sum()
    assert not m["session_last_category_match"][items["item_category"] == ""].any()


def test_request_columns_without_user_lists_match_the_frame() -> None:
    items, user = _request_rows(50, seed=4)
    bare = {k: v for k, v in user.items() if not isinstance(v, list)}
    bare |= {"user_top_categories": None, "session_last_category": None}
    frame = pd.DataFrame(items).assign(**{k: v for k, v in bare.items() if v is not None})
    frame["user_top_categories"] = frame["session_last_category"] = [None] * len(frame)
    served = ranker_inputs({**items, **bare})
    np.testing.assert_array_equal(served, ranker_inputs(frame))
    crosses = [RANKER_INPUTS.index(c) for c in ("category_affinity", "session_last_category_match")]
    assert not served[:, crosses].any(), "no lists, no last category: neutral crosses"


def test_request_columns_must_agree_in_length() -> None:
    import pytest

    with pytest.raises(ValueError, match="differ in length"):
        ranker_inputs({"item_price": np.ones(3), "retrieval_score": np.ones(2)})
