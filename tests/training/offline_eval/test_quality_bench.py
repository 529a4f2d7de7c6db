"""``bench.quality`` on a small interactions file: the results document's format and its figures."""

from __future__ import annotations

import json
from dataclasses import replace
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
SMALL = replace(SMALL, funnel=replace(SMALL.funnel, sources=("ease", "itemknn", "popularity"), max_epochs=3))


def test_results_document_format(tmp_path: Path, blocks: Interactions) -> None:
    frame = pd.DataFrame(
        {
            "user": blocks.user_ids[blocks.users],
            "item": blocks.item_ids[blocks.items],
            "ts": blocks.timestamp.astype(int) + 1_600_000_000,
        }
    )
    path = tmp_path / "log.csv"
    frame.to_csv(path, sep=";", index=False)
    world = load_interactions(path, columns="user=user,item=item,timestamp=ts", separator=";")
    run("interactions", world, ("stratified", "temporal"), 0, SMALL, tmp_path, two_tower=False)
    run("interactions", world, ("random",), 0, SMALL, tmp_path, two_tower=False)  # merges, keeps the others

    document = json.loads((tmp_path / "quality_interactions.json").read_text())
    assert [r["protocol"] for r in document["runs"]] == ["stratified", "random", "temporal"]
    for entry in document["runs"]:
        assert set(entry["models"]) == {"ours", "popularity", "itemknn", "ease", "als"}
        for metrics in entry["models"].values():
            for name in ("ndcg@10", "ndcg@20", "recall@10", "recall@20", "mrr@10", "coverage@10"):
                assert 0.0 <= metrics[name] <= 1.0
            assert "cold_users" in metrics and "cold_items" in metrics
        tried = {t["params"]["l2"] for t in entry["tuning"]["ease"]}  # the grid, plus steps past an edge
        assert {5.0, 50.0} <= tried and entry["best_params"]["ease"]["l2"] in tried
        for figure in entry["figures"].values():
            assert (tmp_path / figure).stat().st_size > 0
    assert document["machine"]["cpus"] >= 1


def test_seeds_only_updates_just_the_seeds_file(tmp_path: Path, blocks: Interactions) -> None:
    frame = pd.DataFrame({"user": blocks.user_ids[blocks.users], "item": blocks.item_ids[blocks.items]})
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    world = load_interactions(path, columns="user=user,item=item")
    run("interactions", world, ("random",), 0, SMALL, tmp_path, two_tower=False)
    main = (tmp_path / "quality_interactions.json").read_text()
    run("interactions", world, ("random",), 1, SMALL, tmp_path, two_tower=False, seeds_only=True)
    assert (tmp_path / "quality_interactions.json").read_text() == main
    seeds = json.loads((tmp_path / "quality_interactions_seeds.json").read_text())
    assert [(r["seed"], r["protocol"]) for r in seeds["runs"]] == [(0, "random"), (1, "random")]
    for row in seeds["runs"]:
        assert row["best_baseline"] in ("popularity", "itemknn", "ease", "als")
        assert row["margin"] == round(row["ours"] - row["best_baseline_value"], 5)
    assert set(seeds["by_seed"]) == {"0", "1"} and seeds["wins"].endswith("/2")
