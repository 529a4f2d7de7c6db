"""Failing rows land in the quarantine with a report; clean tables leave nothing behind."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from contracts.world.generator import generate_world
from contracts.world.io import WorldTables, read_world
from orchestration.defs.ingestion.expectations import validate_events
from orchestration.defs.quality.quarantine import (
    FAILED_COLUMN,
    ROW_COLUMN,
    run_stamp,
    write_quarantine,
)
from orchestration.defs.quality.results import TableCheck, check_result

END = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> WorldTables:
    out = tmp_path_factory.mktemp("world")
    generate_world(out, "tiny", seed=11, end_time=END, progress=False)
    tables = read_world(out)
    return WorldTables(
        tables.users, tables.items, tables.events.sort_values("timestamp").reset_index(drop=True)
    )


def _planted(world: WorldTables) -> pd.DataFrame:
    bad = world.events.copy()
    bad.loc[2, "event_type"] = "bogus"
    bad.loc[4, "item_id"] = "i-unknown"
    bad.loc[6, "timestamp"] = pd.Timestamp("2099-01-01", tz="UTC")
    bad.loc[4, "event_type"] = "teleport"  # one row failing two expectations is quarantined once
    return bad


def test_failing_rows_and_report_are_written(world, tmp_path: Path) -> None:
    bad = _planted(world)
    outcome, volume = validate_events(bad, set(world.items["item_id"]))
    stamp = run_stamp("0123456789abcdef", datetime(2026, 11, 25, 3, tzinfo=UTC))
    assert stamp == "20261125T030000Z-01234567"
    q = write_quarantine(
        tmp_path, bad, outcome, stamp=stamp, run_id="0123456789abcdef", extra={"volume": volume}
    )

    assert q.data_path == tmp_path / "events" / f"{stamp}.parquet"
    assert q.report_path == tmp_path / "events" / f"{stamp}.json"
    rows = pd.read_parquet(q.data_path)
    assert rows[ROW_COLUMN].tolist() == [2, 4, 6] and q.rows == 3
    assert rows["event_id"].tolist() == bad.loc[[2, 4, 6], "event_id"].tolist()
    assert list(rows.columns[1:-1]) == list(bad.columns), "the original row, unchanged"
    reasons = dict(zip(rows[ROW_COLUMN], rows[FAILED_COLUMN], strict=True))
    assert "in_set(event_type)" in reasons[4] and "item_not_in_catalogue" in reasons[4]
    assert "timestamp_epoch_s" in reasons[6]

    report = json.loads(q.report_path.read_text())
    assert report["passed"] is False and report["quarantined_rows"] == 3
    assert report["run_id"] == "0123456789abcdef" and report["quarantine_file"] == str(q.data_path)
    failed = {f["expectation"]: f for f in report["failed"]}
    assert failed["expect_column_values_to_be_in_set(event_type)"]["unexpected_count"] == 2
    assert sorted(failed["expect_column_values_to_be_in_set(event_type)"]["sample_values"]) == [
        "bogus",
        "teleport",
    ]
    assert failed["expect_column_values_to_be_null(item_not_in_catalogue)"]["sample_values"] == ["i-unknown"]
    assert report["extra"]["volume"]["judged"] == "yes"


def test_clean_tables_write_nothing(world, tmp_path: Path) -> None:
    outcome, _ = validate_events(world.events, set(world.items["item_id"]))
    q = write_quarantine(tmp_path, world.events, outcome, stamp="s", run_id="r")
    assert q.rows == 0 and q.data_path is None and q.report_path is None
    assert not any(tmp_path.iterdir())


def test_tolerated_rows_are_reported_not_quarantined(world, tmp_path: Path) -> None:
    events = pd.concat([world.events, world.events.iloc[[0]].assign(event_id="dup")], ignore_index=True)
    outcome, _ = validate_events(events, set(world.items["item_id"]))
    assert outcome.success
    q = write_quarantine(tmp_path, events, outcome, stamp="s", run_id="r")
    assert q.data_path is None and q.rows == 0
    report = json.loads(q.report_path.read_text())
    assert report["passed"] is True and report["failed"] == []
    assert report["tolerated"][0]["unexpected_count"] == 2


def test_rows_with_mixed_types_are_still_written(world, tmp_path: Path) -> None:
    bad = world.events.astype({"position": object})
    bad.loc[1, "position"] = "first"
    outcome, _ = validate_events(bad, set(world.items["item_id"]))
    q = write_quarantine(tmp_path, bad, outcome, stamp="s", run_id="r")
    rows = pd.read_parquet(q.data_path)
    assert rows[ROW_COLUMN].tolist() == [1] and rows["position"].tolist() == ["first"]


def test_check_result_carries_the_metadata_the_ui_shows(world, tmp_path: Path) -> None:
    bad = _planted(world)
    outcome, volume = validate_events(bad, set(world.items["item_id"]))
    q = write_quarantine(tmp_path, bad, outcome, stamp="s", run_id="r")
    result = check_result([TableCheck(bad, outcome, {"volume": volume})], [q])
    assert result.passed is False and result.severity == dg.AssetCheckSeverity.ERROR
    meta = result.metadata
    assert meta["rows"].value == len(bad)
    assert meta["expectations_evaluated"].value == outcome.evaluated
    assert meta["quarantined_rows"].value == 3
    assert meta["quarantine_path"].value == str(q.data_path)
    assert meta["quarantine_report"].value == str(q.report_path)
    failed = meta["expectations_failed"].value
    assert failed["expect_column_values_to_be_in_set(event_type)"]["sample_values"]
    assert meta["volume"].value["judged"] == "yes"
