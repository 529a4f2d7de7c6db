"""A trust score in [0, 1] per account, and the weight its events carry.

Each signal becomes a severity in [0, 1] (a ramp from where it starts to look anomalous to where it
is certain); each severity takes away up to its ``penalty`` of the remaining trust:
``trust = prod(1 - penalty_k * severity_k)``. One mild signal leaves a real user at full weight;
a burst of blind, unread clicks from a fresh account in a farm leaves almost nothing. Trust becomes
a weight by ``clip((trust / full_weight_at) ** sharpness, min_weight, 1)``: never zero, so nothing
is deleted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.trust.behaviour import click_quality, early_engagements, peak_in_window
from training.trust.config import RobustThreshold, TrustConfig, WeightConfig
from training.trust.coordination import group_sizes

SIGNALS = ("peak_engagements", "blind_share", "unread_share", "early_engagements", "group_size")
SEVERITIES = ("velocity", "blind_clicks", "unread_clicks", "young_burst", "coordination")
MAD_TO_SIGMA = 1.4826


def ramp(values: np.ndarray, start: float, full: float) -> np.ndarray:
    """0 at or below ``start``, 1 at or above ``full``, linear between (NaN: 0, not judged)."""
    span = max(full - start, 1e-12)
    return np.nan_to_num(np.clip((np.asarray(values, np.float64) - start) / span, 0.0, 1.0))


def robust_start(values: pd.Series, threshold: RobustThreshold) -> float:
    """``max(floor, median + mads * MAD)`` over every account (zeros included): a contaminated
    minority (a farm of a tenth of the accounts) moves neither the median nor the MAD much."""
    present = values.to_numpy(np.float64)
    if not len(present):
        return threshold.floor
    median = float(np.median(present))
    mad = float(np.median(np.abs(present - median))) * MAD_TO_SIGMA
    return max(threshold.floor, median + threshold.mads * mad)


def user_signals(events: pd.DataFrame, users: pd.DataFrame | None, config: TrustConfig) -> pd.DataFrame:
    """One row per user with any event: the raw signals, indexed by ``user_id``."""
    everyone = pd.Index(events["user_id"].astype(str).unique(), name="user_id")
    frame = pd.DataFrame(index=everyone)
    frame["peak_engagements"] = peak_in_window(events, config.velocity.window_seconds)
    quality = click_quality(events, config.clicks)
    frame["clicks"] = quality["clicks"]
    judged = quality["clicks"] >= config.clicks.min_clicks
    frame["blind_share"] = quality["blind_share"].where(judged)
    frame["unread_share"] = quality["unread_share"].where(judged)
    frame["early_engagements"] = early_engagements(events, users, config.young.hours)
    frame["group_size"] = group_sizes(events, config.coordination)
    counts = ["peak_engagements", "clicks", "early_engagements", "group_size"]
    frame[counts] = frame[counts].fillna(0).astype(np.int64)
    frame["group_size"] = frame["group_size"].clip(lower=1)
    return frame


def severities(signals: pd.DataFrame, config: TrustConfig) -> tuple[pd.DataFrame, dict[str, float]]:
    """Severity per signal and user, and the population thresholds they were measured against."""
    velocity = robust_start(signals["peak_engagements"], config.velocity.threshold)
    young = robust_start(signals["early_engagements"], config.young.threshold)
    clicks, group = config.clicks, config.coordination
    out = pd.DataFrame(
        {
            "velocity": ramp(
                signals["peak_engagements"], velocity, velocity * config.velocity.threshold.full_at
            ),
            "blind_clicks": ramp(signals["blind_share"], clicks.blind_from, clicks.blind_full),
            "unread_clicks": ramp(signals["unread_share"], clicks.unread_from, clicks.unread_full),
            "young_burst": ramp(signals["early_engagements"], young, young * config.young.threshold.full_at),
            "coordination": ramp(signals["group_size"], group.min_accounts - 1, group.full_accounts),
        },
        index=signals.index,
    )
    return out, {"velocity_start": velocity, "young_start": young}


def penalties(config: TrustConfig) -> dict[str, float]:
    return {
        "velocity": config.velocity.penalty,
        "blind_clicks": config.clicks.blind_penalty,
        "unread_clicks": config.clicks.unread_penalty,
        "young_burst": config.young.penalty,
        "coordination": config.coordination.penalty,
    }


def trust_from(severity: pd.DataFrame, config: TrustConfig) -> pd.Series:
    """``prod(1 - penalty * severity)`` over the signals."""
    trust = pd.Series(1.0, index=severity.index)
    for name, penalty in penalties(config).items():
        trust *= 1.0 - penalty * severity[name]
    return trust.clip(0.0, 1.0)


def trust_weight(trust: pd.Series | np.ndarray, config: WeightConfig) -> np.ndarray:
    """The weight an event carries: full from ``full_weight_at`` up, never below ``min_weight``."""
    relative = np.asarray(trust, np.float64) / config.full_weight_at
    return np.clip(relative**config.sharpness, config.min_weight, 1.0)


def score_users(
    events: pd.DataFrame, users: pd.DataFrame | None, config: TrustConfig
) -> tuple[pd.DataFrame, dict[str, float]]:
    """``user_id, trust, weight, reasons`` plus every signal and severity, one row per user with
    events; and the population thresholds used. ``weight`` is 1 everywhere when trust is disabled."""
    signals = user_signals(events, users, config)
    severity, thresholds = severities(signals, config)
    trust = trust_from(severity, config)
    flagged = severity.gt(0)
    reasons = flagged.apply(lambda row: ",".join(row.index[row]), axis=1) if len(flagged) else []
    frame = pd.concat([signals, severity.add_prefix("severity_")], axis=1)
    frame["trust"] = trust
    frame["weight"] = trust_weight(trust, config.weights) if config.enabled else 1.0
    frame["reasons"] = reasons
    frame = frame.reset_index()
    first = ["user_id", "trust", "weight", "reasons"]
    return frame[first + [c for c in frame.columns if c not in first]], thresholds
