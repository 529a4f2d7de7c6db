"""A small world with planted structure, in the contract schemas, for tests and benchmarks.

Each user prefers one category (their segment hints at it), items are Zipf-popular within their
category and titles carry category words. A recommender that learns anything personal must beat
popularity here, which makes "beats popularity" a test that can actually fail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from contracts.features import RANKER_INPUTS
from contracts.schemas import DEVICES, SURFACES

COUNTRIES = ("us", "gb", "de", "fr", "in", "br")
AGE_BUCKETS = ("18-24", "25-34", "35-44", "45-54", "55+")
WORDS = ("red", "blue", "soft", "smart", "classic", "mini", "pro", "eco", "max", "lite")
POSITIVE_MIX = {"view": 0.40, "click": 0.30, "dwell": 0.15, "purchase": 0.10, "share": 0.05}
NEGATIVE_MIX = {"impression": 0.85, "skip": 0.15}
START = pd.Timestamp("2026-01-01", tz="UTC")


@dataclass(frozen=True)
class SyntheticWorld:
    users: pd.DataFrame
    items: pd.DataFrame
    events: pd.DataFrame
    preferred_category: dict[str, str]
    cold_items: list[str]


def _sample_within(
    rng: np.random.Generator, groups: np.ndarray, members: list[np.ndarray], cdfs: list[np.ndarray]
) -> np.ndarray:
    """For each row, draw one member of its group following that group's popularity."""
    out = np.empty(len(groups), dtype=np.int64)
    for g, (ids, cdf) in enumerate(zip(members, cdfs, strict=True)):
        rows = np.flatnonzero(groups == g)
        if len(rows):
            out[rows] = ids[np.minimum(np.searchsorted(cdf, rng.random(len(rows))), len(ids) - 1)]
    return out


def synthetic_world(
    n_users: int = 200,
    n_items: int = 300,
    n_events: int = 12_000,
    n_categories: int = 10,
    positive_share: float = 0.2,
    preference: float = 0.85,
    cold_share: float = 0.05,
    seed: int = 0,
) -> SyntheticWorld:
    """Users, items and events DataFrames following ``contracts.schemas`` column layouts."""
    rng = np.random.default_rng(seed)
    categories = np.array([f"cat{c:02d}" for c in range(n_categories)])
    item_cat = np.arange(n_items) % n_categories
    item_ids = np.array([f"i{i:07d}" for i in range(n_items)])
    price = np.exp(rng.normal(2.5 + 0.3 * item_cat, 0.6))
    price[rng.random(n_items) < 0.02] = np.nan
    items = pd.DataFrame(
        {
            "item_id": item_ids,
            "category": categories[item_cat],
            "brand": [
                f"brand{c:02d}_{b}" for c, b in zip(item_cat, rng.integers(0, 4, n_items), strict=True)
            ],
            "price": price,
            "title": [
                f"{WORDS[w]} {categories[c]} thing{c}"
                for w, c in zip(rng.integers(0, len(WORDS), n_items), item_cat, strict=True)
            ],
            "created_at": START - pd.to_timedelta(rng.integers(0, 365, n_items), unit="D"),
            "in_stock": rng.random(n_items) > 0.05,
            "sponsored": rng.random(n_items) < 0.05,
        }
    )
    pref = rng.integers(0, n_categories, n_users)
    hinted = np.where(rng.random(n_users) < 0.7, pref % 5, rng.integers(0, 5, n_users))
    user_ids = np.array([f"u{u:07d}" for u in range(n_users)])
    users = pd.DataFrame(
        {
            "user_id": user_ids,
            "country": np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), n_users)],
            "age_bucket": np.array(AGE_BUCKETS)[rng.integers(0, len(AGE_BUCKETS), n_users)],
            "device": np.array(DEVICES)[rng.integers(0, len(DEVICES), n_users)],
            "segment": [f"seg{h}" for h in hinted],
            "signup_ts": START - pd.to_timedelta(rng.integers(30, 700, n_users), unit="D"),
        }
    )

    n_cold = int(n_items * cold_share)
    cold = rng.choice(n_items, n_cold, replace=False) if n_cold else np.zeros(0, np.int64)
    warm = np.setdiff1d(np.arange(n_items), cold)
    members = [warm[item_cat[warm] == c] for c in range(n_categories)]
    cdfs = []
    for ids in members:
        popularity = 1.0 / (rng.permutation(len(ids)) + 3.0) ** 0.9
        cdfs.append(np.cumsum(popularity) / popularity.sum())

    activity = rng.lognormal(0, 0.7, n_users)
    ev_user = rng.choice(n_users, n_events, p=activity / activity.sum())
    positive = rng.random(n_events) < positive_share
    on_pref = positive & (rng.random(n_events) < preference)
    ev_cat = np.where(on_pref, pref[ev_user], rng.integers(0, n_categories, n_events))
    ev_item = _sample_within(rng, ev_cat, members, cdfs)
    pos_types, pos_p = list(POSITIVE_MIX), np.array(list(POSITIVE_MIX.values()))
    neg_types, neg_p = list(NEGATIVE_MIX), np.array(list(NEGATIVE_MIX.values()))
    ev_type = np.where(
        positive,
        np.array(pos_types)[rng.choice(len(pos_types), n_events, p=pos_p)],
        np.array(neg_types)[rng.choice(len(neg_types), n_events, p=neg_p)],
    )
    seconds = np.sort(rng.integers(0, 30 * 86_400, n_events))
    events = pd.DataFrame(
        {
            "event_id": np.char.add("e", np.arange(n_events).astype(str)),
            "user_id": user_ids[ev_user],
            "item_id": item_ids[ev_item],
            "event_type": ev_type,
            "timestamp": (START + pd.to_timedelta(seconds, unit="s")).astype("datetime64[us, UTC]"),
            "surface": np.array(SURFACES)[rng.integers(0, len(SURFACES), n_events)],
            "position": rng.integers(0, 20, n_events).astype(np.int32),
            "session_id": np.char.add(np.char.add(user_ids[ev_user], "-"), (seconds // 3600).astype(str)),
            "device": users["device"].to_numpy()[ev_user],
            "value": np.where(ev_type == "purchase", price[ev_item], np.nan),
        }
    )
    return SyntheticWorld(
        users=users,
        items=items,
        events=events,
        preferred_category=dict(zip(user_ids, categories[pref], strict=True)),
        cold_items=sorted(item_ids[cold].tolist()),
    )


def synthetic_ranking_frame(n_rows: int = 10_000, seed: int = 0) -> pd.DataFrame:
    """``RANKER_INPUTS`` columns plus ``label`` and ``surface``, with a learnable planted signal.

    Surfaces weigh the signals differently, so a per-surface head has something to learn.
    """
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        rng.normal(0.0, 1.0, (n_rows, len(RANKER_INPUTS))).astype(np.float32), columns=list(RANKER_INPUTS)
    )
    frame["category_affinity"] = rng.beta(1.0, 3.0, n_rows).astype(np.float32)
    frame["session_last_category_match"] = (rng.random(n_rows) < 0.3).astype(np.float32)
    device = rng.integers(0, len(DEVICES), n_rows)
    for i, d in enumerate(DEVICES):
        frame[f"device_{d}"] = (device == i).astype(np.float32)
    surface = rng.integers(0, len(SURFACES), n_rows)
    weights = np.array([[3.0, 1.0, 0.8], [1.0, 2.0, 0.2], [2.0, 0.2, 1.5]])[surface]
    logit = (
        weights[:, 0] * frame["category_affinity"].to_numpy() * 3
        - 1.5
        + weights[:, 1] * frame["retrieval_score"].to_numpy()
        + weights[:, 2] * frame["session_last_category_match"].to_numpy()
        + 0.5 * frame["item_ctr"].to_numpy()
        - 1.0
    )
    frame["label"] = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    frame["surface"] = np.array(SURFACES)[surface]
    return frame
