"""Failing Great Expectations checks stop every downstream asset and quarantine the bad rows."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from contracts.features import RANKER_INPUTS
from contracts.world.generator import generate_world
from contracts.world.io import read_world
from feature_repo.batch.tables import batch_feature_tables
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.split import time_split
from orchestration.defs.features.assets import batch_features, feature_registry
from orchestration.defs.features.checks import batch_features_quality
from orchestration.defs.ingestion.assets import catalogue, events, source_world, users
from orchestration.defs.ingestion.checks import catalogue_quality, events_quality, users_quality
from orchestration.defs.quality.quarantine import FAILED_COLUMN
from orchestration.defs.ranking.assets import TRAINING_SET_FILE, ranking_model, training_set
from orchestration.defs.ranking.checks import training_set_quality

INGESTION = [source_world, events, catalogue, users, events_quality, catalogue_quality, users_quality]


def _corrupt_events(world: Path) -> list[str]:
    part = sorted((world / "events").glob("*.parquet"))[0]
    table = pq.read_table(part)
    frame = table.to_pandas()
    frame.loc[frame.index[0], "event_type"] = "bogus"
    frame.loc[frame.index[1], "timestamp"] = pd.Timestamp("2099-01-01", tz="UTC")
    pq.write_table(pa.Table.from_pandas(frame, schema=table.schema, preserve_index=False), part)
    return frame["event_id"].iloc[:2].tolist()


def _platform(home: Path) -> PlatformResource:
    generate_world(home / "world", "tiny", seed=3, progress=False)
    return PlatformResource(home=str(home), world_size="tiny", seed=3, progress=False)


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}


def _materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


def test_clean_world_passes_ingestion_and_feature_checks(tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    result = dg.materialize(
        [*INGESTION, batch_features, batch_features_quality], resources={"platform": platform}
    )
    assert result.success
    checks = _checks(result)
    assert set(checks) == {"events_quality", "catalogue_quality", "users_quality", "batch_features_quality"}
    for name, check in checks.items():
        assert check.passed, (name, check.metadata["expectations_failed"].value)
        assert check.metadata["quarantined_rows"].value == 0
        assert check.metadata["expectations_evaluated"].value > 10
    assert checks["events_quality"].metadata["volume"].value["judged"] == "yes"
    assert set(checks["batch_features_quality"].metadata["rows_by_table"].value) == {
        "user_stats",
        "user_activity",
        "user_profile",
        "item_stats",
    }
    assert not (tmp_path / "quarantine").exists()


def test_bad_events_block_features_and_are_quarantined(tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    bad_ids = _corrupt_events(tmp_path / "world")

    result = dg.materialize(
        [*INGESTION, batch_features], resources={"platform": platform}, raise_on_error=False
    )
    assert not result.success
    checks = _checks(result)
    assert checks["events_quality"].passed is False
    failed = checks["events_quality"].metadata["expectations_failed"].value
    assert any("event_type" in f for f in failed) and any("timestamp" in f for f in failed)
    assert checks["catalogue_quality"].passed is True and checks["users_quality"].passed is True
    assert batch_features.key not in _materialized(result), "a blocking check must stop downstream assets"
    assert not (tmp_path / "features" / "user_stats.parquet").exists()

    meta = checks["events_quality"].metadata
    assert meta["quarantined_rows"].value == 2
    quarantined = pd.read_parquet(meta["quarantine_path"].value)
    assert sorted(quarantined["event_id"]) == sorted(bad_ids)
    assert Path(meta["quarantine_path"].value).parent == tmp_path / "quarantine" / "events"
    assert all(quarantined[FAILED_COLUMN].str.len() > 0)
    report = json.loads(Path(meta["quarantine_report"].value).read_text())
    assert report["quarantined_rows"] == 2 and report["run_id"] == result.run_id
    assert {f["expectation"] for f in report["failed"]} == set(failed)


def _features(home: Path) -> dict[str, pd.DataFrame]:
    world = read_world(home / "world")
    split = time_split(world.events["timestamp"])
    return batch_feature_tables(world.events, world.items, world.users, [split.cut, split.end], split.start)


def test_bad_features_block_the_feature_registry(tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    tables = _features(tmp_path)
    tables["item_stats"].loc[3, "item_ctr"] = 1.7

    @dg.asset(key=batch_features.key)
    def planted_features() -> None:
        """Stands in for batch_features: writes the tables with one CTR above 1."""
        (tmp_path / "features").mkdir(exist_ok=True)
        for name, frame in tables.items():
            frame.to_parquet(tmp_path / "features" / f"{name}.parquet", index=False)

    result = dg.materialize(
        [planted_features, feature_registry, batch_features_quality],
        resources={"platform": platform},
        raise_on_error=False,
    )
    check = _checks(result)["batch_features_quality"]
    assert check.passed is False
    assert list(check.metadata["expectations_failed"].value) == [
        "item_stats: expect_column_values_to_be_between(item_ctr)"
    ]
    assert feature_registry.key not in _materialized(result)
    quarantined = pd.read_parquet(check.metadata["quarantine_path"].value)
    assert quarantined["item_ctr"].tolist() == [1.7]
    assert Path(check.metadata["quarantine_path"].value).parent.name == "item_stats"


def test_bad_training_set_blocks_the_ranker(tmp_path: Path) -> None:
    platform = PlatformResource(home=str(tmp_path), world_size="tiny", seed=3, progress=False)
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        rng.uniform(0, 1, (n, len(RANKER_INPUTS))).astype(np.float32), columns=list(RANKER_INPUTS)
    )
    frame["label"] = (rng.uniform(size=n) < 0.1).astype("int64")
    frame["surface"] = "home_feed"
    frame["user_id"] = [f"u{i % 40}" for i in range(n)]
    frame["item_id"] = [f"i{i % 90}" for i in range(n)]
    frame["origin"] = "impression"
    frame["list_id"] = frame["user_id"] + "|home_feed"
    frame["sample_weight"] = 1.0
    frame.loc[[5, 9], "price_fit"] = np.nan

    @dg.asset(key=training_set.key)
    def planted_training_set() -> None:
        """Stands in for training_set: writes rows with NaN ranker inputs."""
        (tmp_path / "features").mkdir(exist_ok=True)
        frame.to_parquet(tmp_path / "features" / TRAINING_SET_FILE, index=False)

    result = dg.materialize(
        [planted_training_set, ranking_model, training_set_quality],
        resources={"platform": platform},
        raise_on_error=False,
    )
    check = _checks(result)["training_set_quality"]
    assert check.passed is False
    assert list(check.metadata["expectations_failed"].value) == [
        "expect_column_values_to_not_be_null(price_fit)"
    ]
    assert check.metadata["quarantined_rows"].value == 2
    assert ranking_model.key not in _materialized(result)
    assert not (tmp_path / "artifacts").exists(), "the ranker never trained"
