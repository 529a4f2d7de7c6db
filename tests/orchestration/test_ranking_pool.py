"""Replay rows for the ranker: who is held out, which candidates become rows, and how they are labelled."""

from __future__ import annotations

import pandas as pd
import pytest

from orchestration.defs.common.config import RankerPoolConfig, SplitConfig
from orchestration.defs.common.split import evaluation_users
from orchestration.defs.ranking.labels import distinct_row_times
from orchestration.defs.ranking.pool import COLUMNS, POOL_SESSION_PREFIX, pool_rows
from orchestration.defs.ranking.replay import EVAL_SURFACE, label_window_positives
from training.data.ranking import SAMPLE_WEIGHT

CUT = pd.Timestamp("2026-01-10", tz="UTC")


def scored(n: int) -> pd.DataFrame:
    """A pool of ``n`` items whose retrieval score falls with the item number."""
    return pd.DataFrame(
        {"item_id": [f"i{k}" for k in range(n)], "retrieval_score": [-float(k) for k in range(n)]}
    )


def test_held_out_users_are_stable_and_about_the_configured_share() -> None:
    users = [f"u{k}" for k in range(4000)]
    held = evaluation_users(users)
    assert held == evaluation_users(reversed(users)), "the split must not depend on order or a seed"
    assert 0.22 < len(held) / len(users) < 0.28
    assert evaluation_users(users, SplitConfig(evaluation_user_share=0.0)) == set()
    assert evaluation_users(users[:10], SplitConfig(evaluation_user_share=1.0)) == set(users[:10])


def test_pool_rows_keep_positives_hard_and_random_negatives() -> None:
    config = RankerPoolConfig(hard_negatives=5, random_negatives=10)
    fresh = {"u1": {"i3", "i50", "not-retrieved"}}
    rows = pool_rows(lambda _: scored(100), pd.Series({"u1": "ios"}), fresh, ["u1"], CUT, config, seed=0)
    assert tuple(rows.columns) == (*COLUMNS, SAMPLE_WEIGHT)
    assert set(rows.loc[rows["label"] == 1, "item_id"]) == {"i3", "i50"}, "only retrieved positives"
    # Positives and hard negatives stand for themselves; each random one for the 83 it was drawn from.
    weight = rows.set_index("item_id")[SAMPLE_WEIGHT]
    assert (weight[["i3", "i50", "i0", "i1", "i2", "i4", "i5"]] == 1.0).all()
    assert rows[SAMPLE_WEIGHT].iloc[7:].eq((100 - 2 - 5) / 10).all()
    negatives = rows.loc[rows["label"] == 0, "item_id"].tolist()
    assert len(negatives) == 15 and len(set(negatives)) == 15
    assert negatives[:5] == ["i0", "i1", "i2", "i4", "i5"], (
        "hard negatives: best retrieved, positives skipped"
    )
    assert not set(negatives[5:]) & {f"i{k}" for k in range(6)}
    assert (rows["timestamp"] == CUT).all() and (rows["surface"] == EVAL_SURFACE).all()
    assert (rows["device"] == "ios").all()
    assert rows["session_id"].str.startswith(POOL_SESSION_PREFIX).all()


def test_a_burst_of_positives_is_capped_and_keeps_its_negatives() -> None:
    config = RankerPoolConfig(hard_negatives=5, random_negatives=5, max_positives=3)
    fresh = {"u1": {f"i{k}" for k in range(0, 40, 2)}}  # 20 retrieved positives
    rows = pool_rows(lambda _: scored(100), pd.Series(dtype=str), fresh, ["u1"], CUT, config, seed=0)
    assert (rows["label"] == 1).sum() == 3
    assert set(rows.loc[rows["label"] == 1, "item_id"]) <= fresh["u1"]
    negatives = rows.loc[rows["label"] == 0, "item_id"]
    assert len(negatives) == 10 and not set(negatives) & fresh["u1"], "a dropped positive is no negative"


def test_users_whose_engagement_was_not_retrieved_add_no_rows() -> None:
    config = RankerPoolConfig(hard_negatives=5, random_negatives=5)
    fresh = {"u1": {"elsewhere"}, "u2": {"i1"}}
    pools = {"u1": scored(20), "u2": scored(20), "u3": scored(0)}
    rows = pool_rows(pools.__getitem__, pd.Series(dtype=str), fresh, ["u1", "u2", "u3"], CUT, config, seed=0)
    assert set(rows["user_id"]) == {"u2"}
    assert (rows["device"] == "").all()
    empty = pool_rows(pools.__getitem__, pd.Series(dtype=str), fresh, ["u1"], CUT, config, seed=0)
    assert empty.empty and tuple(empty.columns) == (*COLUMNS, SAMPLE_WEIGHT)


def test_small_pools_give_what_they_have() -> None:
    config = RankerPoolConfig(hard_negatives=5, random_negatives=50)
    rows = pool_rows(lambda _: scored(8), pd.Series(dtype=str), {"u": {"i0"}}, ["u"], CUT, config, seed=3)
    assert sorted(rows["item_id"]) == sorted(f"i{k}" for k in range(8))


@pytest.mark.parametrize("event_type", ["click", "purchase"])
def test_label_window_positives_are_new_items_only(event_type: str) -> None:
    events = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "b"],
            "item_id": ["x", "x", "y", "x"],
            "event_type": [event_type, event_type, event_type, "impression"],
            "timestamp": [CUT - pd.Timedelta("1h"), CUT, CUT + pd.Timedelta("1h"), CUT],
        }
    )
    seen, fresh = label_window_positives(events, CUT)
    assert seen == {"a": {"x"}}
    assert fresh == {"a": {"y"}}, "a re-engagement with a seen item is not a new positive"


def test_row_times_become_distinct_and_keep_their_order() -> None:
    times = pd.Series([CUT, CUT, CUT + pd.Timedelta("1s"), CUT, CUT + pd.Timedelta("1s")])
    nudged = distinct_row_times(times)
    assert nudged.is_unique
    assert ((nudged - times) < pd.Timedelta("1ms")).all() and (nudged >= times).all()
    assert nudged.iloc[0] == CUT, "the first row at an instant keeps its time"


def test_label_rows_need_impressions_and_never_invent_negatives() -> None:
    from orchestration.defs.ranking.labels import ROW_COLUMNS, label_rows

    stamp = CUT + pd.Timedelta(hours=1)
    base = {"session_id": "s1", "surface": "home_feed", "device": "mobile", "timestamp": stamp}
    clicks = pd.DataFrame(
        [{**base, "user_id": "u1", "item_id": i, "event_type": "click"} for i in ("a", "b")]
    )
    rows = label_rows(clicks, 1_000, seed=0)
    assert rows.empty and tuple(rows.columns) == ROW_COLUMNS, "no random catalogue items as negatives"
    shown = pd.DataFrame([{**base, "user_id": "u1", "item_id": "c", "event_type": "impression"}])
    rows = label_rows(pd.concat([clicks, shown], ignore_index=True), 1_000, seed=0)
    assert sorted(zip(rows["item_id"], rows["label"], strict=True)) == [("a", 1), ("b", 1), ("c", 0)]
