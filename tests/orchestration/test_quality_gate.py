"""A failing Great Expectations check on events stops every downstream asset."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from contracts.world.generator import generate_world
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.features.assets import batch_features
from orchestration.defs.ingestion.assets import catalogue, events, source_world, users
from orchestration.defs.ingestion.checks import catalogue_quality, events_quality


def _corrupt_events(world: Path) -> None:
    part = sorted((world / "events").glob("*.parquet"))[0]
    table = pq.read_table(part)
    frame = table.to_pandas()
    frame.loc[frame.index[0], "event_type"] = "bogus"
    frame.loc[frame.index[1], "timestamp"] = pd.Timestamp("2099-01-01", tz="UTC")
    pq.write_table(pa.Table.from_pandas(frame, schema=table.schema, preserve_index=False), part)


def test_bad_events_block_features(tmp_path: Path) -> None:
    platform = PlatformResource(home=str(tmp_path), world_size="tiny", seed=3, progress=False)
    generate_world(tmp_path / "world", "tiny", seed=3, progress=False)
    _corrupt_events(tmp_path / "world")

    result = dg.materialize(
        [source_world, events, catalogue, users, events_quality, catalogue_quality, batch_features],
        resources={"platform": platform},
        raise_on_error=False,
    )
    assert not result.success
    checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert checks["events_quality"].passed is False
    failed = checks["events_quality"].metadata["expectations_failed"].value
    assert any("event_type" in f for f in failed) and any("timestamp" in f for f in failed)
    assert checks["catalogue_quality"].passed is True
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert batch_features.key not in materialized, "a blocking check must stop downstream assets"
    assert not (tmp_path / "features" / "user_stats.parquet").exists()
