"""Trust scoring, pure: each signal on hand-made events, and the score they add up to."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.trust.behaviour import click_quality, early_engagements, peak_in_window
from training.trust.config import CoordinationConfig, RobustThreshold, TrustConfig, WeightConfig
from training.trust.coordination import group_sizes
from training.trust.score import ramp, robust_start, score_users, trust_weight

T0 = pd.Timestamp("2026-01-10 12:00", tz="UTC")


def frame(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    """(user, item, type, seconds after T0) rows as an events table."""
    users, items, kinds, seconds = zip(*rows, strict=True)
    stamps = [T0 + pd.Timedelta(seconds=s) for s in seconds]
    return pd.DataFrame({"user_id": users, "item_id": items, "event_type": kinds, "timestamp": stamps})


def browsing(user: str, items: list[str], start: float) -> list[tuple[str, str, str, float]]:
    """A person: sees each item, clicks it a minute apart, views and dwells on it."""
    rows = []
    for k, item in enumerate(items):
        t = start + 60.0 * k
        rows += [(user, item, "impression", t), (user, item, "click", t + 5)]
        rows += [(user, item, "view", t + 6), (user, item, "dwell", t + 40)]
    return rows


def bot(user: str, target: str, cover: list[str], start: float, clicks: int = 40) -> list:
    """A script: clicks the target ``clicks`` times and the cover items in 90 seconds, nothing else."""
    offsets = np.linspace(0, 90, clicks + len(cover))
    return [
        (user, item, "click", start + o) for item, o in zip([target] * clicks + cover, offsets, strict=True)
    ]


def people(n: int, start: float = -86_400.0 * 3) -> list:
    rng = np.random.default_rng(0)
    rows = []
    for u in range(n):
        items = [f"i{j}" for j in rng.choice(200, size=int(rng.integers(2, 12)), replace=False)]
        rows += browsing(f"u{u}", items, start + 3_600.0 * u)
    return rows


def test_ramp_and_robust_start() -> None:
    assert ramp(np.array([0.0, 5.0, 10.0, 20.0, np.nan]), 5.0, 15.0).tolist() == [0, 0, 0.5, 1, 0]
    threshold = RobustThreshold(floor=10.0, mads=3.0)
    assert robust_start(pd.Series([1.0, 2.0, 2.0, 3.0]), threshold) == 10.0  # the floor
    spread = pd.Series([10.0, 20.0, 30.0, 40.0, 50.0] * 10 + [5_000.0] * 5)  # a contaminating tenth
    assert robust_start(spread, threshold) == pytest.approx(30.0 + 3 * 1.4826 * 10.0)


def test_peak_counts_engagements_within_the_window_per_user() -> None:
    rows = [("a", "x", "click", s) for s in range(0, 30, 3)]  # 10 in 30 s
    rows += [("b", "x", "click", 120.0 * k) for k in range(10)]  # 10, two minutes apart
    rows += [("c", "x", "impression", 0.0)] * 50  # impressions are not engagements
    peak = peak_in_window(frame(rows), 60)
    assert peak.to_dict() == {"a": 10, "b": 1}


def test_blind_and_unread_clicks() -> None:
    rows = browsing("person", ["a", "b", "c", "d", "e"], 0.0)
    rows += [("late", "a", "click", 0.0), ("late", "a", "impression", 10.0), ("late", "a", "view", 1.0)]
    rows += [("slow", "b", "impression", 0.0), ("slow", "b", "click", 1.0), ("slow", "b", "dwell", 4_000.0)]
    rows += bot("script", "t", [], 0.0, clicks=6)
    quality = click_quality(frame(rows), TrustConfig().clicks)
    assert quality.loc["person", ["blind_share", "unread_share"]].tolist() == [0.0, 0.0]
    assert quality.loc["late", "blind_share"] == 1.0  # the impression came after the click
    assert quality.loc["slow", "unread_share"] == 1.0  # dwell outside the read window
    assert quality.loc["script", ["blind_share", "unread_share"]].tolist() == [1.0, 1.0]


def test_a_source_without_impressions_is_not_judged_blind() -> None:
    rows = [(f"u{u}", f"i{k}", "click", 60.0 * k) for u in range(5) for k in range(6)]
    quality = click_quality(frame(rows), TrustConfig().clicks)
    assert quality["blind_share"].isna().all() and quality["unread_share"].isna().all()


def test_early_engagements_count_a_fresh_account_only() -> None:
    rows = [("old", "a", "click", 10.0 * k) for k in range(40)] + [
        ("new", "a", "click", 10.0 * k) for k in range(40)
    ]
    users = pd.DataFrame({"user_id": ["old", "new"], "signup_ts": [T0 - pd.Timedelta(days=400), T0]})
    early = early_engagements(frame(rows), users, hours=24)
    assert early.to_dict() == {"new": 40, "old": 0}
    assert early_engagements(frame(rows), None, hours=24).to_dict() == {"new": 40, "old": 40}  # no sign-up


def test_identical_item_sets_form_a_group_and_people_do_not() -> None:
    rows = people(60)
    for k in range(12):
        rows += bot(f"bot{k}", "t", ["c1", "c2", "c3"], 100.0 * k, clicks=3)
    sizes = group_sizes(frame(rows), CoordinationConfig())
    bots = sizes[sizes.index.str.startswith("bot")]
    assert (bots == 12).all() and len(bots) == 12
    assert sizes[sizes.index.str.startswith("u")].max() == 1
    small = group_sizes(frame([(f"v{k}", "same", "click", 0.0) for k in range(20)]), CoordinationConfig())
    assert small.empty  # one-item sets coincide by chance: never compared


def test_a_farm_loses_trust_and_people_keep_full_weight() -> None:
    rows = people(80)
    for k in range(20):
        rows += bot(f"bot{k}", "target", ["c1", "c2", "c3"], 600.0 * k)
    signups = [T0 - pd.Timedelta(days=300)] * 80 + [T0 - pd.Timedelta(hours=1)] * 20
    users = pd.DataFrame(
        {"user_id": [f"u{u}" for u in range(80)] + [f"bot{k}" for k in range(20)], "signup_ts": signups}
    )
    config = TrustConfig()
    scored, _ = score_users(frame(rows), users, config)
    table = scored.set_index("user_id")
    bots, humans = table.loc[table.index.str.startswith("bot")], table.loc[table.index.str.startswith("u")]
    assert (bots["trust"] < 0.1).all()
    assert (bots["weight"] <= 0.02).all()
    assert set(bots["reasons"].iloc[0].split(",")) == {
        "velocity", "blind_clicks", "unread_clicks", "young_burst", "coordination"
    }  # fmt: skip
    assert (humans["weight"] == 1.0).all() and (humans["trust"] == 1.0).all()

    off = config.model_copy(update={"enabled": False})
    disabled, _ = score_users(frame(rows), users, off)
    assert (disabled["weight"] == 1.0).all() and disabled["trust"].min() < 0.1  # scored, not applied


def test_bulk_ratings_of_a_real_dataset_are_not_a_farm() -> None:
    """MovieLens-style: no impressions, no reads, no sign-up, dozens of ratings a minute each."""
    rng = np.random.default_rng(3)
    rows = []
    for u in range(200):
        n = int(rng.integers(20, 120))
        items = rng.choice(1_000, size=n, replace=False)
        stamps = 86_400.0 * u + np.cumsum(rng.uniform(0.5, 4.0 * rng.uniform(0.5, 2.0), size=n))
        rows += [(f"u{u}", f"m{i}", "click", t) for t, i in zip(stamps, items, strict=True)]
    table, thresholds = score_users(frame(rows), None, TrustConfig())
    assert thresholds["velocity_start"] > 30  # the population bursts: so does the threshold
    assert (table["weight"] == 1.0).mean() >= 0.97


def test_weight_is_full_above_the_threshold_and_never_zero() -> None:
    config = WeightConfig(full_weight_at=0.7, sharpness=2.0, min_weight=0.005)
    weights = trust_weight(np.array([1.0, 0.7, 0.35, 0.0]), config)
    assert weights.tolist() == pytest.approx([1.0, 1.0, 0.25, 0.005])
