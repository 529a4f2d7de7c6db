"""The demo world's behaviour follows its latent model: the invariants a model trainer relies on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contracts.schemas import EVENT_TYPES, NO_POSITION
from contracts.world.generator import latent_truth
from contracts.world.latent import CATEGORY_NAMES
from contracts.world.sizes import spec_for


@pytest.fixture(scope="module")
def impressions(tiny_tables) -> pd.DataFrame:
    """Impressions with a ``clicked`` flag (a click in the same session on the same item)."""
    events = tiny_tables.events
    key = ["session_id", "item_id"]
    clicks = events.loc[events["event_type"] == "click", key].drop_duplicates().assign(clicked=True)
    shown = events[events["event_type"] == "impression"].merge(clicks, on=key, how="left")
    return shown.assign(clicked=shown["clicked"].eq(True))


def test_events_lie_inside_the_window(tiny_tables, world_end) -> None:
    ts = tiny_tables.events["timestamp"]
    assert ts.min() >= world_end - pd.Timedelta(days=spec_for("tiny").days)
    assert ts.max() < world_end


def test_event_vocabulary_and_positions(tiny_tables) -> None:
    events = tiny_tables.events
    assert set(events["event_type"]) == set(EVENT_TYPES)
    assert set(events["surface"]) == {"home_feed", "related_items", "notifications"}
    assert (events["position"] >= 0).all() and NO_POSITION not in set(events["position"])
    dwell = events.loc[events["event_type"] == "dwell", "value"]
    assert (dwell > 0).all()
    assert events.loc[events["event_type"] == "impression", "value"].isna().all()


def test_events_are_sorted_within_each_part(tiny_world) -> None:
    import pyarrow.parquet as pq

    for part in sorted((tiny_world / "events").glob("*.parquet")):
        ts = pq.read_table(part, columns=["timestamp"]).column(0).to_pandas()
        assert ts.is_monotonic_increasing


def test_items_are_shown_only_after_they_exist_and_while_in_stock(tiny_tables, world_end) -> None:
    items = tiny_tables.items.set_index("item_id")
    events = tiny_tables.events
    assert (events["timestamp"] >= events["item_id"].map(items["created_at"])).all()
    assert events["item_id"].map(items["in_stock"]).all()
    arrived = items.index[items["created_at"] > world_end - pd.Timedelta(days=spec_for("tiny").days)]
    assert events["item_id"].isin(arrived).any()  # new items do get shown


def test_users_act_only_after_signing_up(tiny_tables, world_end) -> None:
    users = tiny_tables.users.set_index("user_id")
    events = tiny_tables.events
    assert (events["timestamp"] >= events["user_id"].map(users["signup_ts"])).all()
    window_start = world_end - pd.Timedelta(days=spec_for("tiny").days)
    assert (users["signup_ts"] > window_start).any()  # some users are new


def test_slates_have_distinct_items_and_contiguous_positions(impressions) -> None:
    shown = impressions.sort_values(["session_id", "timestamp"], kind="stable")
    slate = (shown["position"] == 0).groupby(shown["session_id"]).cumsum()
    assert (slate >= 1).all()  # every session starts with position 0
    expected = shown.groupby([shown["session_id"], slate]).cumcount()
    assert (shown["position"] == expected).all()  # positions 0..k-1 in order within each slate
    assert not shown.assign(slate=slate).duplicated(["session_id", "slate", "item_id"]).any()


def test_position_bias(impressions) -> None:
    ctr = impressions.groupby("position")["clicked"].mean()
    assert ctr[0] > 1.5 * ctr[5]


def test_popularity_skew(impressions, tiny_tables) -> None:
    counts = impressions["item_id"].value_counts()
    top = max(1, len(tiny_tables.items) // 100)
    assert counts.iloc[:top].sum() / counts.sum() > 0.10  # top 1% of items: over 10x their fair share


def test_users_click_more_in_their_preferred_categories(impressions, tiny_tables, world_seed) -> None:
    truth = latent_truth("tiny", world_seed)
    assert truth.user_vectors.shape == (len(tiny_tables.users), spec_for("tiny").behaviour.latent_dim)
    top = pd.Series(
        np.array(CATEGORY_NAMES)[truth.user_category_weights.argmax(axis=1)], tiny_tables.users["user_id"]
    )
    category = tiny_tables.items.set_index("item_id")["category"]
    preferred = impressions["user_id"].map(top) == impressions["item_id"].map(category)
    ctr = impressions.groupby(preferred)["clicked"].mean()
    assert ctr[True] > 2 * ctr[False]


def test_latent_truth_matches_the_written_items(tiny_tables, world_seed) -> None:
    truth = latent_truth("tiny", world_seed)
    names = np.array(CATEGORY_NAMES)[truth.item_category]
    assert (names == tiny_tables.items["category"].to_numpy()).all()


def test_sessions_carry_one_surface_and_device(tiny_tables) -> None:
    per_session = tiny_tables.events.groupby("session_id")[["surface", "device", "user_id"]].nunique()
    assert (per_session == 1).all().all()


def test_click_funnel(tiny_tables) -> None:
    counts = tiny_tables.events["event_type"].value_counts()
    assert counts["impression"] > counts["click"] >= counts["view"] == counts["dwell"] > counts["purchase"]
    assert 0.02 < counts["click"] / counts["impression"] < 0.3
