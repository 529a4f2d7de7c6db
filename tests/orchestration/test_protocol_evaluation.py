"""The protocol-evaluation asset on a tiny world: every protocol, every model, figures on disk."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from contracts.world.generator import generate_world
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.evaluation.assets import protocol_evaluation
from orchestration.defs.ingestion.assets import catalogue, events, source_world, users


def test_protocol_evaluation_reports_every_protocol_with_figures(tmp_path: Path) -> None:
    generate_world(tmp_path / "world", "tiny", seed=3, progress=False)
    platform = PlatformResource(home=str(tmp_path), world_size="tiny", seed=3, progress=False)
    result = dg.materialize(
        [source_world, events, catalogue, users, protocol_evaluation], resources={"platform": platform}
    )
    assert result.success
    events_by_key = {e.asset_key.path[-1]: e for e in result.get_asset_materialization_events()}
    materialization = events_by_key["protocol_evaluation"].materialization
    metadata = materialization.metadata
    assert "| protocol | model |" in metadata["table"].value
    for protocol in ("stratified", "random", "temporal"):
        for model in ("ours", "popularity", "itemknn", "ease", "als"):
            assert 0.0 <= metadata[f"{protocol}/{model}/ndcg@10"].value <= 1.0
        for figure in ("metric_vs_k", "popularity_bias"):
            assert Path(metadata[f"{protocol}/{figure}"].value).stat().st_size > 0
    report = json.loads((tmp_path / "artifacts" / "staging" / "quality" / "quality.json").read_text())
    assert [r["protocol"] for r in report["runs"]] == ["stratified", "random", "temporal"]
