"""Every trust-and-safety threshold, one typed tree: defaults here, overrides in ``config/trust.yaml``.

``RECO_TRUST_CONFIG`` names another file. Unknown keys are errors, so a misspelt threshold never
silently keeps its default. Thresholds that depend on how a source logs behaviour are relative to
the population (median + k robust deviations, floored), so MovieLens-style bulk ratings are not
read as a bot's burst; the floors are what the demo world's real users never reach.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from contracts.settings import REPO_ROOT

CONFIG_ENV = "RECO_TRUST_CONFIG"
TRUST_FILE = REPO_ROOT / "config" / "trust.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RobustThreshold(_Strict):
    """Where a per-user count starts to look anomalous: ``max(floor, median + mads * MAD)`` over all
    accounts (MAD scaled to a normal's sigma); severity reaches 1 at ``full_at`` times it."""

    floor: float = Field(gt=0)
    mads: float = Field(6.0, ge=0)
    full_at: float = Field(2.0, gt=1)


class VelocityConfig(_Strict):
    """Engagements (clicks, views, purchases, ...) within any ``window_seconds`` of one account."""

    window_seconds: int = Field(60, gt=0)
    threshold: RobustThreshold = RobustThreshold(floor=15.0)
    penalty: float = Field(0.6, ge=0, le=1)


class ClickQualityConfig(_Strict):
    """Clicks with no impression of the item before them (blind), and clicks followed by no view or
    dwell on the item (no read). Judged only for accounts with ``min_clicks`` clicks, and only when the
    source logs impressions (dwell) for at least ``min_coverage`` of clicking accounts."""

    min_clicks: int = Field(5, ge=1)
    min_coverage: float = Field(0.5, ge=0, le=1)
    after_click: tuple[str, ...] = ("view", "dwell")
    read_within_seconds: int = Field(1800, gt=0)
    blind_from: float = Field(0.5, ge=0, le=1)  # share of blind clicks where severity starts
    blind_full: float = Field(0.9, ge=0, le=1)
    blind_penalty: float = Field(0.5, ge=0, le=1)
    unread_from: float = Field(0.6, ge=0, le=1)
    unread_full: float = Field(0.95, ge=0, le=1)
    unread_penalty: float = Field(0.4, ge=0, le=1)


class YoungAccountConfig(_Strict):
    """Engagements in an account's first ``hours`` (its start: sign-up, or first event if earlier)."""

    hours: int = Field(24, gt=0)
    threshold: RobustThreshold = RobustThreshold(floor=30.0)
    penalty: float = Field(0.5, ge=0, le=1)


class CoordinationConfig(_Strict):
    """Co-ordinated accounts: many accounts whose engaged item sets are near-identical (Jaccard at
    least ``jaccard``). Candidates come from MinHash bands, each confirmed by exact Jaccard; only sets
    of ``min_items``..``max_items`` items are compared (tiny sets coincide by chance, large ones
    are people)."""

    min_items: int = Field(3, ge=2)
    max_items: int = Field(50, ge=2)
    jaccard: float = Field(0.75, gt=0, le=1)
    bands: int = Field(6, ge=1)
    rows_per_band: int = Field(3, ge=1)
    max_bucket: int = Field(2000, ge=2)  # larger buckets are compared against a seeded sample
    min_accounts: int = Field(5, ge=2)  # a group this size starts to count
    full_accounts: int = Field(15, ge=2)  # ... and this size counts fully
    penalty: float = Field(0.7, ge=0, le=1)
    seed: int = 7


class WeightConfig(_Strict):
    """From trust to the weight an event carries: ``clip((trust / full_weight_at) ** sharpness,
    min_weight, 1)``. Accounts at or above ``full_weight_at`` count fully (real users' pages do not
    move); below it the weight falls fast, because a farm multiplies whatever one account may do by
    its size. The floor keeps every event in (down-weighted, never deleted) and sample weights
    positive."""

    full_weight_at: float = Field(0.7, gt=0, le=1)
    sharpness: float = Field(2.0, ge=1)
    min_weight: float = Field(0.005, gt=0, le=1)


class ManipulationConfig(_Strict):
    """Items whose engagements (or conversions) spike in the last ``window_hours`` against their
    baseline and come from a small set of accounts: flagged for review, never changed."""

    window_hours: int = Field(24, gt=0)
    baseline_days: int = Field(7, gt=0)
    signals: dict[str, tuple[str, ...]] = {"clicks": ("click",), "conversions": ("purchase",)}
    min_events: int = Field(20, ge=1)
    min_ratio: float = Field(5.0, gt=1)  # recent / (expected from the baseline + prior)
    baseline_prior: float = Field(2.0, ge=0)
    top_users: int = Field(10, ge=1)
    top_share: float = Field(0.5, gt=0, le=1)  # the top accounts' share that says "concentrated"
    per_user: float = Field(4.0, gt=1)  # recent events per distinct account that says "concentrated"
    low_trust_share: float = Field(0.5, gt=0, le=1)  # share from down-weighted accounts
    evidence_users: int = Field(20, ge=0)  # accounts kept as evidence per flag


class TrustConfig(_Strict):
    """``enabled: false`` gives every event weight 1 (scores and flags are still computed)."""

    enabled: bool = True
    velocity: VelocityConfig = VelocityConfig()
    clicks: ClickQualityConfig = ClickQualityConfig()
    young: YoungAccountConfig = YoungAccountConfig()
    coordination: CoordinationConfig = CoordinationConfig()
    weights: WeightConfig = WeightConfig()
    manipulation: ManipulationConfig = ManipulationConfig()
    max_down_weighted_share: float = Field(0.2, ge=0, le=1)  # of accounts; above: the check warns


def load_trust_config(path: Path | None = None) -> TrustConfig:
    """The file ``path``, ``$RECO_TRUST_CONFIG`` or ``config/trust.yaml`` (missing: the defaults)."""
    source = Path(path or os.environ.get(CONFIG_ENV) or TRUST_FILE)
    if not source.exists() and path is None and CONFIG_ENV not in os.environ:
        return TrustConfig()
    return TrustConfig.model_validate(yaml.safe_load(source.read_text()) or {})
