"""Bounded evaluation on a big file: a seeded sample of test users (the same for every model) and
of the validation users the grids are tuned on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from bench.quality import run
from contracts.datasets import load_interactions
from training.evaluation.benchmark import BenchmarkConfig, run_protocol, sample_users
from training.evaluation.config import TuningConfig
from training.evaluation.interactions import Interactions

BASELINES = ("popularity", "itemknn", "ease")
GRIDS = {"popularity": {}, "itemknn": {"neighbours": [10], "shrink": [5.0]}, "ease": {"l2": [20.0]}}


def test_sample_users_is_seeded_sorted_and_a_no_op_without_a_limit() -> None:
    users = np.arange(100, 200)
    first = sample_users(users, 10, seed=3)
    assert len(first) == 10 and np.all(np.diff(first) > 0) and set(first) <= set(users)
    assert np.array_equal(first, sample_users(users, 10, seed=3))
    assert not np.array_equal(first, sample_users(users, 10, seed=4))
    assert sample_users(users, None, 0) is users and sample_users(users, 500, 0) is users


def test_every_model_is_scored_on_the_same_sampled_test_users(blocks: Interactions) -> None:
    config = BenchmarkConfig(tuning=TuningConfig(grids=GRIDS, max_val_users=15), max_test_users=25)
    run = run_protocol(blocks, "stratified", config, seed=0, baselines=BASELINES)
    assert run["split"]["test_users"] == 25 < run["split"]["test_users_all"]
    assert {m["n_users"] for m in run["models"].values()} == {25}
    full = run_protocol(
        blocks, "stratified", BenchmarkConfig(tuning=TuningConfig(grids=GRIDS)), 0, baselines=BASELINES
    )
    assert full["split"]["test_users"] == full["split"]["test_users_all"] == run["split"]["test_users_all"]
    assert {m["n_users"] for m in full["models"].values()} == {full["split"]["test_users"]}


def test_bench_baselines_only_scores_the_sampled_users_without_a_platform(
    tmp_path: Path, blocks: Interactions
) -> None:
    frame = pd.DataFrame(
        {
            "user": blocks.user_ids[blocks.users],
            "item": blocks.item_ids[blocks.items],
            "ts": blocks.timestamp.astype(int) + 1_600_000_000,
        }
    )
    frame.to_csv(tmp_path / "log.csv", index=False)
    world = load_interactions(tmp_path / "log.csv", columns="user=user,item=item,timestamp=ts")
    config = BenchmarkConfig(tuning=TuningConfig(grids=GRIDS | {"als": {"factors": [8]}}), max_test_users=20)
    run("interactions", world, ("temporal",), 0, config, tmp_path, baselines_only=True)
    document = json.loads((tmp_path / "quality_interactions_baselines.json").read_text())
    (entry,) = document["runs"]
    assert set(entry["models"]) == {"popularity", "itemknn", "ease", "als"} and "served" not in entry
    assert entry["split"]["test_users"] == 20 and document["subsample"]["max_test_users"] == 20
    assert document["baseline_scale"]["ease_max_items"] > 0
    assert not (tmp_path / "quality_interactions.json").exists()
    assert not (tmp_path / "quality_interactions_seeds.json").exists()
