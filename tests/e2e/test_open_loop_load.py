"""A short open-loop run against the real service (127.0.0.1, bounded: 60 requests in 3 s)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import bentoml
import pandas as pd

from bench.load.open_loop import fire, plan, summarise


def test_every_request_of_a_short_open_loop_run_gets_a_page(service_url: str, mint_key) -> None:
    root = Path(bentoml.models.get("reco_bundle:latest").path)
    users = pd.read_parquet(root / "history.parquet")["user_id"].unique().tolist()
    items = pd.read_parquet(root / "catalogue.parquet")["item_id"].tolist()
    key = mint_key("load-e2e", "client")
    shots = plan(rate=20, duration_s=3, users=users, items=items, seed=1)
    outcomes = asyncio.run(fire(service_url, shots, key, timeout_s=30))
    summary = summarise(outcomes, rate=20, duration_s=3)
    assert summary["requests"] == 60
    assert [o.status for o in outcomes] == [200] * 60, summary
    assert summary["empty_pages"] == 0 and summary["error_rate"] == 0
    assert sum(summary["fallback_levels"].values()) == 60
    assert all(o.server_ms is not None and o.latency_ms >= 0 for o in outcomes)
