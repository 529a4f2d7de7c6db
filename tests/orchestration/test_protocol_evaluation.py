"""The protocol-evaluation asset of the tiny loop run: the served funnel rebuilt per protocol split
through the real assets and scored beside every baseline, with its interval and figures on disk."""

from __future__ import annotations

import json
from pathlib import Path

from contracts.settings import load_settings
from orchestration.defs.evaluation.protocols import PROTOCOL_EVAL


def test_protocol_evaluation_scores_the_served_funnel_beside_the_baselines(tiny_platform) -> None:
    _, result = tiny_platform
    (event,) = [
        e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == "protocol_evaluation"
    ]
    metadata = event.materialization.metadata
    assert "| protocol | model |" in metadata["table"].value
    for protocol in PROTOCOL_EVAL.protocols:
        for model in ("served", "served_retrieval_order", "popularity", "itemknn", "ease", "als"):
            assert 0.0 <= metadata[f"{protocol}/{model}/ndcg@10"].value <= 1.0
        interval = metadata[f"{protocol}/served/ndcg@10_minus_best_baseline"].value
        assert interval["low"] <= interval["difference"] <= interval["high"]
        for figure in ("metric_vs_k", "popularity_bias"):
            assert Path(metadata[f"{protocol}/{figure}"].value).stat().st_size > 0
    report_file = load_settings().paths.artifacts / "staging" / "quality" / "quality.json"
    report = json.loads(report_file.read_text())
    assert [r["protocol"] for r in report["runs"]] == list(PROTOCOL_EVAL.protocols)
    for run in report["runs"]:  # every test user was answered by the funnel (fallback levels included)
        assert sum(run["served"]["fallback_levels"].values()) == run["split"]["test_users"]
        assert run["models"]["served"]["n_users"] == run["split"]["test_users"]
