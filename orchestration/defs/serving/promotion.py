"""The promotion gate's rules: no offline regression against production, finite scores, latency.

Pure functions over numbers and a scorer, so the Dagster check (``checks.py``) stays thin and the
rules are testable without a loop. Thresholds come from `config/promotion.yaml`.
"""

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, Field, model_validator

from contracts.schemas import SURFACES
from contracts.settings import REPO_ROOT
from orchestration.defs.ranking.replay import PREFERENCE_HOLDOUT, RANKED, RETRIEVAL_ORDER
from training.evaluation.bootstrap import paired_interval

PROMOTION_CONFIG = REPO_ROOT / "config" / "promotion.yaml"
Scorer = Callable[[np.ndarray, str], np.ndarray]


class RegistryConfig(BaseModel):
    keep_versions: int = Field(10, ge=1)


class LatencyConfig(BaseModel):
    p99_budget_ms: float = Field(50.0, gt=0)
    repeats: int = Field(50, ge=1)


class GateConfig(BaseModel):
    max_relative_drop: dict[str, float] = Field(default_factory=lambda: {"ndcg@10": 0.05, "recall@10": 0.05})
    candidates: int = Field(1000, ge=1)
    score_range: tuple[float, float] = (0.0, 1.0)
    latency: LatencyConfig = Field(default_factory=LatencyConfig)

    @model_validator(mode="after")
    def _sane(self) -> "GateConfig":
        if self.score_range[0] >= self.score_range[1]:
            raise ValueError(f"score_range {self.score_range} is empty")
        if any(not 0 <= drop < 1 for drop in self.max_relative_drop.values()):
            raise ValueError("max_relative_drop values must be in [0, 1)")
        return self


class PromotionConfig(BaseModel):
    registry: RegistryConfig = Field(default_factory=RegistryConfig)
    gate: GateConfig = Field(default_factory=GateConfig)


def load_promotion_config(path: Path | None = None) -> PromotionConfig:
    """The file at ``path``, else ``$RECO_PROMOTION_CONFIG``, else `config/promotion.yaml`."""
    chosen = path or Path(os.environ.get("RECO_PROMOTION_CONFIG", PROMOTION_CONFIG))
    return PromotionConfig.model_validate(yaml.safe_load(chosen.read_text()) or {})


class Verdict(BaseModel):
    """One rule's outcome with every number it looked at (shown as check metadata)."""

    name: str
    passed: bool
    detail: dict[str, float | int | str | None]


def compare_metrics(
    candidate: dict[str, float], production: dict[str, float] | None, config: GateConfig
) -> Verdict:
    """Each configured metric may drop at most its relative threshold below production's."""
    detail: dict[str, float | int | str | None] = {}
    passed = True
    for metric, drop in sorted(config.max_relative_drop.items()):
        value = candidate.get(metric)
        detail[f"candidate/{metric}"] = value
        if value is None or not np.isfinite(value):
            passed = False  # a candidate must report every gated metric
            continue
        if production is None or metric not in production:
            continue  # first version: nothing to regress against
        floor = production[metric] * (1 - drop)
        detail[f"production/{metric}"] = production[metric]
        detail[f"floor/{metric}"] = floor
        detail[f"relative_change/{metric}"] = (
            (value - production[metric]) / production[metric] if production[metric] else None
        )
        passed &= value >= floor
    detail["compared_to"] = "production" if production is not None else "none (first version)"
    return Verdict(name="no_regression", passed=passed, detail=detail)


SERVED_RANKED = "ranked"
LABEL_WINDOW = "label_window"  # the report's unprefixed held-out set: the users of the label window


def ranker_verdict(
    models: dict[str, dict[str, float]],
    preference: dict[str, dict[str, float]] | None = None,
    metric: str = "ndcg@10",
    gains: Sequence[float] | None = None,
    preference_gains: Sequence[float] | None = None,
    seed: int = 0,
) -> Verdict:
    """Serve the rankers only where they beat their own retrieval order offline (same candidates,
    same held-out users): on the label window's users (what comes next) and the preference
    holdout's (what a user likes).

    Pooled, the lead must be real: with the users' own NDCG differences (``gains``,
    ``preference_gains``) the lower end of the paired bootstrap 95% interval over both sets above
    zero. A ranker is the costlier, more fragile order; a lead inside the noise of a few hundred
    users is not worth serving (on MovieLens such rankers were kept and then lost to retrieval
    order on test). And it may not be behind on either set: a mean loss on one vetoes it however
    much it gains on the other. On the demo world (2,000 users) a ranker ahead by 0.068 on 183
    preference users and behind by 0.008 on the window's 65 passed the pooled test, then served
    the next week's pages 0.026 NDCG@10 worse than retrieval order (0.138 against 0.164, 979
    users). Where the rankers lead, they lead on both sets; a veto on a small set's noise costs
    little, because retrieval order is what the rankers are measured against.

    Without per-user gains (a report of an older build) the pooled mean decides, a tie keeping
    the ranker."""
    detail: dict[str, float | int | str | None] = {}
    gained, users = 0.0, 0.0
    complete = True
    per_set: list[tuple[str, Sequence[float] | None]] = []
    sets = (("", models, gains), (f"{PREFERENCE_HOLDOUT}/", preference, preference_gains))
    for prefix, held_out, set_gains in sets:
        if held_out is None or (prefix and not held_out.get(RANKED, {}).get("n_users")):
            continue  # no preference holdout (too little history per user): the window decides
        ranked, retrieval = held_out[RANKED].get(metric), held_out[RETRIEVAL_ORDER].get(metric)
        n = float(held_out[RANKED].get("n_users") or 0.0)
        detail |= {
            f"{prefix}ranked/{metric}": ranked,
            f"{prefix}retrieval_order/{metric}": retrieval,
            f"{prefix}users": n,
        }
        if ranked is None or retrieval is None:
            complete = False
            continue
        gained, users = gained + n * (ranked - retrieval), users + n
        per_set.append((prefix, set_gains))
    pooled = gained / users if users else None
    enabled = complete and pooled is not None and pooled >= 0.0
    every = [g for _, set_gains in per_set for g in (set_gains or ())]
    if every:
        low, high = _gain_interval(every, seed)
        detail |= {"gain_low": low, "gain_high": high, "gain_users": len(every)}
        enabled = complete and low > 0.0
        for prefix, set_gains in per_set:
            if not set_gains:
                continue
            set_low, set_high = _gain_interval(set_gains, seed)
            name = prefix or f"{LABEL_WINDOW}/"
            mean = float(np.mean(set_gains))
            detail |= {f"{name}gain": mean, f"{name}gain_low": set_low, f"{name}gain_high": set_high}
            enabled &= mean >= 0.0  # behind on this set: vetoed
    return Verdict(
        name="ranker_beats_retrieval_order",
        passed=True,  # a refused ranker does not block the version: retrieval order serves
        detail={
            "served_order": SERVED_RANKED if enabled else RETRIEVAL_ORDER,
            f"pooled_gain/{metric}": pooled,
            **detail,
        },
    )


def _gain_interval(gains: Sequence[float], seed: int) -> tuple[float, float]:
    """The paired bootstrap 95% interval of the mean per-user gain."""
    diff = np.asarray(gains, dtype=np.float64)
    interval = paired_interval(diff, np.zeros_like(diff), seed=seed)
    return float(interval["low"]), float(interval["high"])


def check_scores(scorer: Scorer, rows: np.ndarray, config: GateConfig) -> Verdict:
    """Every surface head scores the real candidates finite and inside the score range."""
    low, high = config.score_range
    detail: dict[str, float | int | str | None] = {"rows": len(rows)}
    passed = len(rows) > 0
    for surface in SURFACES:
        scores = np.asarray(scorer(rows, surface), dtype=np.float64)
        finite = np.isfinite(scores)
        in_range = finite & (scores >= low) & (scores <= high)
        detail[f"{surface}/non_finite"] = int((~finite).sum())
        detail[f"{surface}/out_of_range"] = int((finite & ~in_range).sum())
        detail[f"{surface}/mean"] = float(scores[finite].mean()) if finite.any() else None
        passed &= len(scores) == len(rows) and bool(in_range.all())
    return Verdict(name="finite_scores_in_range", passed=passed, detail=detail)


def measure_latency(
    scorer: Scorer, rows: np.ndarray, config: GateConfig, clock: Callable[[], float] = time.perf_counter
) -> Verdict:
    """p99 wall time of one full candidate batch, cycling through the surfaces, against the budget."""
    samples_ms = []
    for i in range(config.latency.repeats):
        surface = SURFACES[i % len(SURFACES)]
        start = clock()
        scorer(rows, surface)
        samples_ms.append((clock() - start) * 1000)
    p50, p99 = np.percentile(samples_ms, [50, 99])
    budget = config.latency.p99_budget_ms
    return Verdict(
        name="latency_budget",
        passed=bool(p99 <= budget),
        detail={
            "rows": len(rows),
            "repeats": len(samples_ms),
            "p50_ms": float(p50),
            "p99_ms": float(p99),
            "p99_budget_ms": budget,
        },
    )


def sample_rows(frame_rows: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` real rows (with replacement only when the table is smaller than ``n``)."""
    if len(frame_rows) == 0:
        return frame_rows
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(frame_rows), size=n, replace=len(frame_rows) < n)
    return np.ascontiguousarray(frame_rows[picks], dtype=np.float32)
