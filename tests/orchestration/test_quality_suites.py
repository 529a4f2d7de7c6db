"""Each Great Expectations suite passes on the tiny world and catches a planted defect.

The tables are built in process from a tiny world with the same functions the assets use (the
training set joins the label-cut snapshot directly, which is what Feast's point-in-time join
returns for rows inside the label window), so this runs in seconds without Feast or models.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from contracts.features import RANKER_INPUTS, ranker_inputs
from contracts.world.generator import generate_world
from contracts.world.io import WorldTables, read_world
from feature_repo.batch.item_features import item_stats_at
from feature_repo.batch.tables import batch_feature_tables
from feature_repo.batch.user_features import user_stats_at
from orchestration.defs.common.split import time_split
from orchestration.defs.ingestion.expectations import (
    catalogue_expectations,
    daily_volume,
    users_expectations,
    users_for_validation,
    validate_events,
)
from orchestration.defs.quality.config import QUALITY, QualityConfig
from orchestration.defs.quality.suites import (
    USER_STATS_SCHEMA,
    item_stats_expectations,
    training_set_expectations,
    user_profile_expectations,
    user_stats_expectations,
)
from orchestration.defs.quality.validation import SuiteOutcome, validate
from orchestration.defs.ranking.labels import label_rows, session_features_before, with_session_columns

END = datetime(2026, 11, 20, 12, tzinfo=UTC)  # pinned: the world never depends on the wall clock


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> WorldTables:
    out = tmp_path_factory.mktemp("world")
    generate_world(out, "tiny", seed=5, end_time=END, progress=False)
    tables = read_world(out)
    events = tables.events.sort_values("timestamp", kind="stable").reset_index(drop=True)
    return WorldTables(tables.users, tables.items, events)


@pytest.fixture(scope="module")
def features(world: WorldTables) -> dict[str, pd.DataFrame]:
    split = time_split(world.events["timestamp"])
    return batch_feature_tables(world.events, world.items, world.users, [split.cut, split.end], split.start)


@pytest.fixture(scope="module")
def training(world: WorldTables) -> pd.DataFrame:
    events, items = world.events, world.items
    split = time_split(events["timestamp"])
    window = events[events["timestamp"] >= split.cut]
    rows = label_rows(window, 400_000, seed=5)
    rows = with_session_columns(
        rows, session_features_before(window, rows, items.set_index("item_id")["category"])
    )
    users = user_stats_at(events, items, split.cut).drop(columns="event_timestamp")
    stats = item_stats_at(events, items, split.cut).drop(columns="event_timestamp")
    joined = rows.merge(users, on="user_id", how="left").merge(stats, on="item_id", how="left")
    joined["retrieval_score"] = 0.0
    joined["now_ts"] = joined["timestamp"].map(pd.Timestamp.timestamp)
    joined["list_id"] = joined["session_id"].astype(str) + "|" + joined["surface"].astype(str)
    matrix = pd.DataFrame(ranker_inputs(joined), columns=list(RANKER_INPUTS))
    frame = pd.concat([matrix, joined[["label", "surface", "user_id", "item_id"]]], axis=1)
    return frame.assign(origin="impression", list_id=joined["list_id"].to_numpy(), sample_weight=1.0)


def _events(world: WorldTables, frame: pd.DataFrame | None = None) -> SuiteOutcome:
    outcome, _ = validate_events(world.events if frame is None else frame, set(world.items["item_id"]))
    return outcome


def _failed_rows(outcome: SuiteOutcome, fragment: str) -> set[int]:
    """Positions the failed expectation whose name contains ``fragment`` flagged."""
    (result,) = [r for r in outcome.results if fragment in r.name]
    assert not result.success, f"{result.name} should fail"
    return set(result.rows.tolist())


def test_every_suite_passes_on_the_tiny_world(world, features, training) -> None:
    outcome, volume = validate_events(world.events, set(world.items["item_id"]))
    assert outcome.success, outcome.failed
    assert volume["judged"] == "yes"
    assert outcome.evaluated >= 20
    for name, frame, expectations in [
        ("items", world.items, catalogue_expectations()),
        ("users", users_for_validation(world.users), users_expectations()),
        ("user_stats", features["user_stats"], user_stats_expectations()),
        ("user_profile", features["user_profile"], user_profile_expectations()),
        ("item_stats", features["item_stats"], item_stats_expectations()),
        ("training_set", training, training_set_expectations()),
    ]:
        result = validate(name, frame, expectations)
        assert result.success, (name, result.failed)
        assert not result.failing_rows()


def test_user_stats_schema_follows_the_feature_contract() -> None:
    from contracts.features import USER_STATS_FEATURES

    assert USER_STATS_SCHEMA.names == ["user_id", *USER_STATS_FEATURES, "event_timestamp"]


def test_events_suite_flags_each_bad_row(world) -> None:
    bad = world.events.copy()
    bad.loc[3, "event_type"] = "bogus"
    bad.loc[5, "timestamp"] = pd.Timestamp(datetime.now(UTC) + timedelta(days=2))
    bad.loc[7, "item_id"] = "i-not-in-catalogue"
    bad.loc[9, "user_id"] = None
    bad.loc[11, "position"] = 20_000
    outcome = _events(world, bad)
    assert not outcome.success
    assert _failed_rows(outcome, "in_set(event_type)") == {3}
    assert _failed_rows(outcome, "timestamp_epoch_s") == {5}
    assert _failed_rows(outcome, "item_not_in_catalogue") == {7}
    assert _failed_rows(outcome, "not_be_null(user_id)") == {9}
    assert _failed_rows(outcome, "between(position)") == {11}
    assert set(outcome.failing_rows()) == {3, 5, 7, 9, 11}
    (unknown,) = [r for r in outcome.results if "item_not_in_catalogue" in r.name]
    assert unknown.sample == ["i-not-in-catalogue"], "the report shows which item is unknown"


def test_items_deleted_from_the_catalogue_still_count_as_known(world) -> None:
    deleted = world.events["item_id"].iloc[0]
    items = set(world.items["item_id"]) - {deleted}
    assert not validate_events(world.events, items)[0].success
    assert validate_events(world.events, items | {deleted})[0].success


def test_natural_key_duplicates_fail_above_their_share_and_are_tolerated_below(world) -> None:
    events = world.events
    many = events.sample(frac=0.01, random_state=1).assign(event_id=lambda f: "dup-" + f["event_id"])
    outcome = _events(world, pd.concat([events, many], ignore_index=True))
    flagged = _failed_rows(outcome, "compound_columns_to_be_unique")
    assert len(flagged) == 2 * len(many), "both copies of each duplicated key are flagged"

    one = events.iloc[[0]].assign(event_id="dup-one")
    outcome = _events(world, pd.concat([events, one], ignore_index=True))
    assert outcome.success, "two rows in 30k is below the 0.1% duplicate share"
    assert [r.unexpected_count for r in outcome.tolerated] == [2]


def test_duplicate_event_ids_fail(world) -> None:
    outcome = _events(world, pd.concat([world.events, world.events.iloc[[4]]], ignore_index=True))
    assert {4, len(world.events)} <= _failed_rows(outcome, "unique(event_id)")


def test_volume_drop_on_the_last_day_fails(world) -> None:
    events = world.events
    end = events["timestamp"].max()
    last_day = events.index[events["timestamp"] > end - pd.Timedelta(days=1)]
    dropped = events.drop(index=last_day[:-20])  # keep the newest 20 so the window stays anchored
    outcome, volume = validate_events(dropped, set(world.items["item_id"]))
    assert outcome.failed == ["expect_column_values_to_be_between(ratio_to_trailing_mean)"]
    assert volume["daily_events"][0]["events"] == 20
    assert not outcome.failing_rows(), "a volume drop quarantines no rows: they are all fine"


def test_volume_needs_enough_complete_days(world) -> None:
    events = world.events
    recent = events[events["timestamp"] > events["timestamp"].max() - pd.Timedelta(days=2)]
    assert len(daily_volume(recent["timestamp"])) <= 2
    outcome, volume = validate_events(recent, set(world.items["item_id"]))
    assert outcome.success and volume["judged"].startswith("no")


def test_volume_band_comes_from_the_config(world) -> None:
    strict = QualityConfig(volume_min_ratio=5.0, volume_max_ratio=10.0)
    outcome, _ = validate_events(world.events, set(world.items["item_id"]), config=strict)
    assert outcome.failed == ["expect_column_values_to_be_between(ratio_to_trailing_mean)"]


def test_catalogue_and_users_suites_catch_defects(world) -> None:
    items = world.items.copy()
    items.loc[2, "price"] = -1.0
    items.loc[4, "item_id"] = items.loc[5, "item_id"]
    outcome = validate("items", items, catalogue_expectations())
    assert _failed_rows(outcome, "between(price)") == {2}
    assert _failed_rows(outcome, "unique(item_id)") == {4, 5}

    users = world.users.copy()
    users.loc[1, "device"] = "fridge"
    users.loc[2, "age_bucket"] = "ancient"
    users.loc[3, "signup_ts"] = pd.Timestamp("2099-01-01", tz="UTC")
    outcome = validate("users", users_for_validation(users), users_expectations())
    assert _failed_rows(outcome, "in_set(device)") == {1}
    assert _failed_rows(outcome, "in_set(age_bucket)") == {2}
    assert _failed_rows(outcome, "signup_epoch_s") == {3}


def test_feature_suites_catch_out_of_range_values(features) -> None:
    stats = features["item_stats"].copy()
    stats.loc[0, "item_ctr"] = 1.5
    stats.loc[1, "item_popularity"] = np.nan
    outcome = validate("item_stats", stats, item_stats_expectations())
    assert _failed_rows(outcome, "between(item_ctr)") == {0}
    assert _failed_rows(outcome, "not_be_null(item_popularity)") == {1}

    users = features["user_stats"].copy()
    users.loc[2, "user_clicks_30d"] = -3
    users.loc[3, "user_ctr_30d"] = 1.2
    outcome = validate("user_stats", users, user_stats_expectations())
    assert _failed_rows(outcome, "between(user_clicks_30d)") == {2}
    assert _failed_rows(outcome, "between(user_ctr_30d)") == {3}

    duplicated = pd.concat([features["user_stats"], features["user_stats"].iloc[[0]]], ignore_index=True)
    outcome = validate("user_stats", duplicated, user_stats_expectations())
    assert _failed_rows(outcome, "compound_columns_to_be_unique(user_id,event_timestamp)")


def test_training_suite_catches_non_finite_inputs_and_bad_labels(training) -> None:
    bad = training.copy()
    bad.loc[4, "item_popularity"] = np.nan
    bad.loc[6, "retrieval_score"] = np.inf
    bad.loc[8, "label"] = 2
    bad.loc[10, "surface"] = "homepage"
    bad.loc[12, "item_ctr"] = 1.5
    outcome = validate("training_set", bad, training_set_expectations())
    assert _failed_rows(outcome, "not_be_null(item_popularity)") == {4}
    assert _failed_rows(outcome, "between(retrieval_score)") == {6}
    assert _failed_rows(outcome, "in_set(label)") == {8}
    assert _failed_rows(outcome, "in_set(surface)") == {10}
    assert _failed_rows(outcome, "between(item_ctr)") == {12}


def test_training_suite_bounds_the_positive_rate(training) -> None:
    assert QUALITY.positive_rate_min < training["label"].mean() < QUALITY.positive_rate_max
    outcome = validate("training_set", training.assign(label=1), training_set_expectations())
    assert outcome.failed == ["expect_column_mean_to_be_between(label)"]
    (mean,) = [r for r in outcome.results if not r.success]
    assert mean.observed == 1.0
    missing = validate(
        "training_set", training.drop(columns=["retrieval_score"]), training_set_expectations()
    )
    assert "expect_table_columns_to_match_set()" in missing.failed


def test_wrong_types_are_caught(world) -> None:
    events = world.events.copy()
    events["position"] = events["position"].astype("float64")
    events["user_id"] = events["user_id"].astype(object)
    events.loc[0, "user_id"] = 12345
    outcome = _events(world, events)
    assert "expect_column_values_to_be_in_type_list(position)" in outcome.failed
    assert _failed_rows(outcome, "of_type(user_id)") == {0}
