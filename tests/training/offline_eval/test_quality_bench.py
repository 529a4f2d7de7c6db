"""``bench.quality`` on a small interactions file: the results document's format and its figures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from bench.quality import run
from contracts.datasets import load_interactions
from training.evaluation.benchmark import BenchmarkConfig
from training.evaluation.config import TuningConfig
from training.evaluation.interactions import Interactions

SMALL = BenchmarkConfig(
    tuning=TuningConfig(
        grids={
            "popularity": {},
            "itemknn": {"neighbours": [10, 30], "shrink": [5.0]},
            "ease": {"l2": [5.0, 50.0]},
            "als": {"factors": [8], "regularization": [0.1], "alpha": [2.0], "iterations": [5]},
        }
    ),
)


def _world(tmp_path: Path, blocks: Interactions):
    frame = pd.DataFrame(
        {
            "user": blocks.user_ids[blocks.users],
            "item": blocks.item_ids[blocks.items],
            "ts": blocks.timestamp.astype(int) + 1_600_000_000,
        }
    )
    path = tmp_path / "log.csv"
    frame.to_csv(path, sep=";", index=False)
    return load_interactions(path, columns="user=user,item=item,timestamp=ts", separator=";")


def test_the_served_funnel_is_rebuilt_per_split_and_scored_beside_the_baselines(
    tmp_path: Path, blocks: Interactions
) -> None:
    world = _world(tmp_path, blocks)
    run("interactions", world, ("temporal",), 0, SMALL, tmp_path)

    document = json.loads((tmp_path / "quality_interactions.json").read_text())
    (entry,) = document["runs"]
    assert entry["protocol"] == "temporal"
    assert set(entry["models"]) == {
        "served", "served_retrieval_order", "served_without_rules", "popularity", "itemknn", "ease", "als",
    }  # fmt: skip
    for metrics in entry["models"].values():
        for name in ("ndcg@10", "ndcg@20", "recall@10", "recall@20", "mrr@10", "coverage@10"):
            assert 0.0 <= metrics[name] <= 1.0
        assert "cold_users" in metrics and "cold_items" in metrics
        assert metrics["n_users"] == entry["split"]["test_users"], "every test user counts"
    # Every test user was answered by the served funnel (a page from the fallback stack counts too).
    assert sum(entry["served"]["fallback_levels"].values()) == entry["split"]["test_users"]
    assert entry["models"]["served"]["ndcg@10"] > entry["models"]["popularity"]["ndcg@10"] * 0.5
    for name in ("served", "served_retrieval_order", "served_without_rules"):
        interval = entry["intervals"][name]
        assert interval["against"] in ("popularity", "itemknn", "ease", "als")
        assert interval["low"] <= interval["difference"] <= interval["high"]
    tried = {t["params"]["l2"] for t in entry["tuning"]["ease"]}  # the grid, plus steps past an edge
    assert {5.0, 50.0} <= tried and entry["best_params"]["ease"]["l2"] in tried
    for figure in entry["figures"].values():
        assert (tmp_path / figure).stat().st_size > 0
    assert document["machine"]["cpus"] >= 1

    main = (tmp_path / "quality_interactions.json").read_text()
    run("interactions", world, ("label_window",), 1, SMALL, tmp_path, seeds_only=True)
    assert (tmp_path / "quality_interactions.json").read_text() == main, "--seeds-only leaves it alone"
    seeds = json.loads((tmp_path / "quality_interactions_seeds.json").read_text())
    assert [(r["seed"], r["protocol"]) for r in seeds["runs"]] == [(0, "temporal"), (1, "label_window")]
    for row in seeds["runs"]:
        assert row["best_baseline"] in ("popularity", "itemknn", "ease", "als")
        assert row["margin"] == round(row["served"] - row["best_baseline_value"], 5)
        assert row["interval"][0] <= row["interval"][1]
    assert set(seeds["by_seed"]) == {"0", "1"} and seeds["wins"].endswith("/2")
