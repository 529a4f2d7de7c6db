"""The promotion gate: its rules on numbers, and as a blocking Dagster check on real candidates."""

from __future__ import annotations

import json
import shutil
from itertools import count
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
import torch

from contracts.features import RANKER_INPUTS
from contracts.registry import read_production
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.ranking.assets import TRAINING_SET_FILE
from orchestration.defs.serving.assets import production_model, serving_bundle, staged_bundle
from orchestration.defs.serving.checks import promotion_gate
from orchestration.defs.serving.promotion import (
    GateConfig,
    LatencyConfig,
    check_scores,
    compare_metrics,
    load_promotion_config,
    measure_latency,
    ranker_verdict,
)
from orchestration.defs.serving.registry import ModelRegistry
from orchestration.materialize import gate_blocked
from training.export import MANIFEST_FILE, export_ranker, read_manifest
from training.models.ranking.ranker import RankerModel

CONFIG = GateConfig()


def test_shipped_config_matches_the_documented_defaults() -> None:
    config = load_promotion_config()
    assert config.registry.keep_versions == 10
    assert config.gate.candidates == 1000 and config.gate.max_relative_drop["ndcg@10"] == 0.05


def test_metrics_may_drop_only_within_the_threshold() -> None:
    production = {"ndcg@10": 0.20, "recall@10": 0.30}
    ok = compare_metrics({"ndcg@10": 0.191, "recall@10": 0.31}, production, CONFIG)
    assert ok.passed and ok.detail["floor/ndcg@10"] == pytest.approx(0.19)
    regressed = compare_metrics({"ndcg@10": 0.18, "recall@10": 0.31}, production, CONFIG)
    assert not regressed.passed and regressed.detail["relative_change/ndcg@10"] == pytest.approx(-0.1)
    assert compare_metrics({"ndcg@10": 0.01, "recall@10": 0.01}, None, CONFIG).passed, "first version"
    assert not compare_metrics({"ndcg@10": float("nan"), "recall@10": 0.3}, None, CONFIG).passed
    assert not compare_metrics({"recall@10": 0.3}, production, CONFIG).passed, "a gated metric is missing"


def test_scores_must_be_finite_and_in_range() -> None:
    rows = np.zeros((1000, 4), np.float32)
    assert check_scores(lambda x, s: np.full(len(x), 0.5), rows, CONFIG).passed

    def one_nan(x: np.ndarray, surface: str) -> np.ndarray:
        scores = np.full(len(x), 0.5)
        scores[7] = np.nan
        return scores

    verdict = check_scores(one_nan, rows, CONFIG)
    assert not verdict.passed and verdict.detail["home_feed/non_finite"] == 1
    assert not check_scores(lambda x, s: np.full(len(x), 1.5), rows, CONFIG).passed
    assert not check_scores(lambda x, s: np.full(len(x), 0.5), rows[:0], CONFIG).passed


def test_latency_p99_against_the_budget() -> None:
    ticks = count()

    def clock() -> float:  # two reads per batch: every batch takes exactly 10 ms
        return next(ticks) * 0.010

    config = GateConfig(latency=LatencyConfig(p99_budget_ms=25, repeats=10))
    verdict = measure_latency(lambda x, s: np.zeros(len(x)), np.zeros((1000, 4)), config, clock=clock)
    assert verdict.passed and verdict.detail["p99_ms"] == pytest.approx(10.0)
    tight = GateConfig(latency=LatencyConfig(p99_budget_ms=5, repeats=10))
    ticks = count()
    assert not measure_latency(lambda x, s: np.zeros(len(x)), np.zeros((1000, 4)), tight, clock=clock).passed


def test_the_ranker_serves_only_where_it_beats_retrieval_order() -> None:
    def models(ranked: float | None, retrieval: float) -> dict[str, dict[str, float]]:
        return {
            "ranked": {} if ranked is None else {"ndcg@10": ranked, "n_users": 40.0},
            "retrieval_order": {"ndcg@10": retrieval},
        }

    assert ranker_verdict(models(0.25, 0.20)).detail["served_order"] == "ranked"
    assert ranker_verdict(models(0.20, 0.20)).detail["served_order"] == "ranked", "a tie keeps it"
    refused = ranker_verdict(models(0.13, 0.21))
    assert refused.detail["served_order"] == "retrieval_order" and refused.passed, "never blocks"
    assert ranker_verdict(models(None, 0.2)).detail["served_order"] == "retrieval_order"


def test_the_ranker_is_judged_on_every_held_out_user_at_once() -> None:
    window = {"ranked": {"ndcg@10": 0.25, "n_users": 40.0}, "retrieval_order": {"ndcg@10": 0.20}}
    likes_worse = {"ranked": {"ndcg@10": 0.19, "n_users": 200.0}, "retrieval_order": {"ndcg@10": 0.43}}
    refused = ranker_verdict(window, likes_worse)
    assert refused.detail["served_order"] == "retrieval_order", "the window's fashions are not enough"
    assert refused.detail["preference_holdout/ranked/ndcg@10"] == 0.19
    likes_better = {"ranked": {"ndcg@10": 0.45, "n_users": 200.0}, "retrieval_order": {"ndcg@10": 0.43}}
    assert ranker_verdict(window, likes_better).detail["served_order"] == "ranked"
    # Without per-user gains (an older report): the pooled mean per user; a few window users
    # slightly worse cannot veto many holdout users better.
    small_loss = {"ranked": {"ndcg@10": 0.21, "n_users": 40.0}, "retrieval_order": {"ndcg@10": 0.22}}
    pooled = ranker_verdict(small_loss, likes_better)
    assert pooled.detail["served_order"] == "ranked"
    assert pooled.detail["pooled_gain/ndcg@10"] == pytest.approx((40 * -0.01 + 200 * 0.02) / 240)
    big_loss = {"ranked": {"ndcg@10": 0.05, "n_users": 40.0}, "retrieval_order": {"ndcg@10": 0.22}}
    assert ranker_verdict(big_loss, likes_better).detail["served_order"] == "retrieval_order"
    nobody = {"ranked": {"n_users": 0.0}, "retrieval_order": {}}
    assert ranker_verdict(window, nobody).detail["served_order"] == "ranked", "an empty holdout abstains"


# ---- the blocking check in a real Dagster run, on candidates derived from the tiny loop ----------


def _copy_platform(tiny_platform, home: Path) -> PlatformResource:
    """The tiny loop's staging area, warehouse, time split, training set and registry, in a home of
    our own."""
    platform, _ = tiny_platform
    source = Path(platform.home)
    shutil.copytree(source / "artifacts" / "staging", home / "artifacts" / "staging")
    shutil.copytree(source / "warehouse", home / "warehouse")  # staged_bundle re-embeds users
    (home / "features").mkdir(parents=True)
    for name in ("time_split.json", TRAINING_SET_FILE):
        shutil.copy2(source / "features" / name, home / "features" / name)
    shutil.copytree(source / "registry", home / "registry", ignore=shutil.ignore_patterns("gates"))
    # The gate's arithmetic is under test, not the tiny world's quality (its handful of held-out
    # users can score 0, and 0 scaled down is no regression): fixed, non-zero figures, the
    # ranker ahead of retrieval order so it is kept.
    report_file = home / "artifacts" / "staging" / "evaluation.json"
    report = json.loads(report_file.read_text())
    report["models"]["ranked"] = {"n_users": 20.0, "ndcg@10": 0.30, "recall@10": 0.25}
    report["models"]["retrieval_order"] = {"n_users": 20.0, "ndcg@10": 0.20, "recall@10": 0.20}
    report_file.write_text(json.dumps(report))
    return PlatformResource(home=str(home), source_kind="demo", world_size="tiny", seed=7, progress=False)


def _restamp(platform: PlatformResource, version: str, metric_scale: float) -> None:
    """Stage the same ranker as a new version whose offline metrics are scaled."""
    area = Path(platform.home) / "artifacts" / "staging"
    manifest = read_manifest(area / "ranker") | {"model_version": version}
    (area / "ranker" / MANIFEST_FILE).write_text(json.dumps(manifest))
    report = json.loads((area / "evaluation.json").read_text())
    for name in ("ranked", "retrieval_order"):  # whichever order the version serves is scaled
        report["models"][name] = {k: v * metric_scale for k, v in report["models"][name].items()}
    (area / "evaluation.json").write_text(json.dumps(report))


def _run(platform: PlatformResource) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [staged_bundle, serving_bundle, production_model, promotion_gate],
        selection=[staged_bundle.key, serving_bundle.key, production_model.key],
        resources={"platform": platform},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _gate(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "promotion_gate"]
    return evaluation


def test_the_loop_promoted_its_first_candidate(tiny_platform) -> None:
    platform, result = tiny_platform
    gate = _gate(result)
    assert gate.passed, gate.metadata
    version = gate.metadata["candidate_version"].value
    assert gate.metadata["production_version"].value == "none"
    assert gate.metadata["latency_budget/p99_ms"].value <= gate.metadata["latency_budget/p99_budget_ms"].value
    assert gate.metadata["finite_scores_in_range/rows"].value == 1000
    assert read_production(Path(platform.home)).current.version == version
    served = json.loads((Path(platform.home) / "artifacts" / "current.json").read_text())
    assert served["model_version"] == version


def test_gate_promotes_a_good_candidate_and_blocks_a_regressed_one(tiny_platform, tmp_path: Path) -> None:
    platform = _copy_platform(tiny_platform, tmp_path / "home")
    home = Path(platform.home)
    # A production version with the known figures of _copy_platform, whatever the tiny loop's own
    # version scored: registered by a run, then promoted by hand (the manual override).
    _restamp(platform, "v29990101000000", metric_scale=1.0)
    _run(platform)
    ModelRegistry(home).promote("v29990101000000", reason="the test's known baseline")
    production = read_production(home).current.version
    assert production == "v29990101000000"

    _restamp(platform, "v29990101000001", metric_scale=0.99)  # within 5%: promoted
    result = _run(platform)
    assert result.success and _gate(result).passed
    assert read_production(home).current.version == "v29990101000001"
    assert read_production(home).history[0].version == production

    _restamp(platform, "v29990101000002", metric_scale=0.8)
    result = _run(platform)
    gate = _gate(result)
    assert not result.success and not gate.passed
    assert gate.metadata["failed_rules"].value == ["no_regression"]
    # the staged metrics were scaled by 0.99 for the first candidate, then by 0.8: 20% below it
    # (each _restamp scales what the previous one left)
    assert gate.metadata["no_regression/relative_change/ndcg@10"].value == pytest.approx(-0.2)
    assert read_production(home).current.version == "v29990101000001", "a blocked candidate leaves production"
    assert production_model.key not in {e.asset_key for e in result.get_asset_materialization_events()}
    registry = ModelRegistry(home)
    assert registry.get("v29990101000002").version == "v29990101000002", "kept for inspection, not served"
    assert registry.gate_report("v29990101000002")["failed_rules"] == ["no_regression"]
    message = gate_blocked(result, platform)  # what `make build` prints instead of failing
    assert message is not None and "v29990101000002" in message and "v29990101000001" in message


def test_gate_blocks_a_candidate_that_scores_nan(tiny_platform, tmp_path: Path) -> None:
    platform = _copy_platform(tiny_platform, tmp_path / "home")
    home = Path(platform.home)
    production = read_production(home).current.version
    model = RankerModel(hidden_dims=(8,), head_dim=4)
    with torch.no_grad():
        next(model.net.parameters()).fill_(float("nan"))  # a diverged training run
    area = home / "artifacts" / "staging"
    shutil.rmtree(area / "ranker")
    export_ranker(model.eval(), area / "ranker", "v29990101000003")
    assert len(RANKER_INPUTS) == len(read_manifest(area / "ranker")["inputs"])

    result = _run(platform)
    gate = _gate(result)
    assert not result.success and not gate.passed
    assert "loads_and_warms_up" in gate.metadata["failed_rules"].value
    assert "NaN" in gate.metadata["loads_and_warms_up/error"].value
    assert read_production(home).current.version == production


def test_with_per_user_gains_the_rankers_lead_must_clear_the_noise() -> None:
    window = {"ranked": {"ndcg@10": 0.25, "n_users": 40.0}, "retrieval_order": {"ndcg@10": 0.20}}
    rng = np.random.default_rng(0)
    clear = rng.normal(0.05, 0.1, size=300)  # a lead of 0.05, ~0.006 standard error
    kept = ranker_verdict(window, gains=clear.tolist())
    assert kept.detail["served_order"] == "ranked" and kept.detail["gain_low"] > 0
    assert kept.detail["gain_users"] == 300
    noisy = rng.normal(0.005, 0.3, size=60)  # ahead on average, inside the noise
    refused = ranker_verdict(window, gains=(noisy - noisy.mean() + 0.005).tolist())
    assert refused.detail["gain_low"] < 0 < refused.detail["gain_high"]
    assert refused.detail["served_order"] == "retrieval_order", "an unproven lead serves retrieval order"
    assert ranker_verdict(window, gains=[0.0] * 50).detail["served_order"] == "retrieval_order"
    assert ranker_verdict(window, gains=[]).detail["served_order"] == "ranked", "no gains: the means"


def test_a_ranker_behind_on_either_holdout_is_refused_whatever_it_gains_on_the_other() -> None:
    rng = np.random.default_rng(1)
    # The demo world's label_window build: well ahead on the preference holdout, a little behind
    # on the window's few users; pooled, the lead looked real. On test it lost to retrieval order.
    window = {"ranked": {"ndcg@10": 0.115, "n_users": 65.0}, "retrieval_order": {"ndcg@10": 0.123}}
    likes = {"ranked": {"ndcg@10": 0.353, "n_users": 183.0}, "retrieval_order": {"ndcg@10": 0.284}}
    behind = rng.normal(0.0, 0.15, size=65)
    behind = behind - behind.mean() - 0.008
    ahead = rng.normal(0.068, 0.15, size=183)
    vetoed = ranker_verdict(window, likes, gains=behind.tolist(), preference_gains=ahead.tolist())
    assert vetoed.detail["gain_low"] > 0, "pooled, the ranker looks ahead"
    assert vetoed.detail["label_window/gain"] == pytest.approx(-0.008)
    assert vetoed.detail["label_window/gain_low"] < 0 < vetoed.detail["label_window/gain_high"]
    assert vetoed.detail["served_order"] == "retrieval_order"
    assert vetoed.detail["preference_holdout/gain_low"] > 0
    level = behind + 0.012  # the same window users, now a little ahead on average
    kept = ranker_verdict(window, likes, gains=level.tolist(), preference_gains=ahead.tolist())
    assert kept.detail["served_order"] == "ranked"
    # Either set vetoes: ahead on the window, behind on what users like.
    ahead_next = rng.normal(0.05, 0.15, size=300)
    behind_likes = ahead - ahead.mean() - 0.002
    assert (
        ranker_verdict(
            window, likes, gains=ahead_next.tolist(), preference_gains=behind_likes.tolist()
        ).detail["served_order"]
        == "retrieval_order"
    )
