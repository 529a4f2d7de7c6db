"""Trending: what is gaining engagement right now, overall and per category.

Positive events in the last ``window_hours`` count with exponential decay (half-life
``half_life_hours``), so the last hour weighs most. An item's everyday level is subtracted: its
rate over the previous ``baseline_days``, integrated over the same decayed window. What is left is
the rise, so trending surfaces what popularity alone would not. Each event counts with its trust
weight (``contracts.trust``), and one account adds at most ``max_user_item_weight`` to an item's
window, so neither a low-trust farm nor one account's re-clicks make a trend. Recomputed every few
minutes from the event stream (or daily in batch); serving reads ranked lists.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.schemas import POSITIVE_EVENT_WEIGHTS, UNKNOWN
from contracts.trust import event_trust
from training.config import TrendingConfig

TRENDING_FILE = "trending.json"


def _as_of(stamps: pd.Series, now: datetime | None) -> pd.Timestamp:
    at = pd.Timestamp(now) if now is not None else stamps.max()
    if pd.isna(at):
        return pd.Timestamp(0, tz="UTC")  # no events: nothing is recent
    return at.tz_localize("UTC") if at.tzinfo is None else at


def _capped_sum(events: pd.DataFrame, rows: np.ndarray, weights: np.ndarray, cap: float) -> pd.Series:
    """Per item, the sum of ``weights`` over ``rows``, each user's share of an item capped at ``cap``
    (weighted by their trust, so a low-trust account's cap is lower still): one account re-clicking
    an item a hundred times is one enthusiast, not a trend. Events without a ``user_id`` are uncapped."""
    items = events["item_id"].astype(str).to_numpy()[rows]
    users = events["user_id"].to_numpy()[rows] if "user_id" in events else np.full(len(items), None)
    known = pd.notna(users)
    frame = pd.DataFrame({"user": users[known].astype(str), "item": items[known], "w": weights[known]})
    frame["t"] = event_trust(events)[rows][known]
    per_user = frame.groupby(["user", "item"], sort=False).agg(w=("w", "sum"), t=("t", "max"))
    capped = np.minimum(per_user["w"].to_numpy(), cap * per_user["t"].to_numpy())
    anonymous = pd.Series(weights[~known]).groupby(items[~known]).sum()  # no account: uncapped
    per_item = pd.Series(capped, index=per_user.index.get_level_values("item")).groupby(level=0).sum()
    return per_item.add(anonymous, fill_value=0.0)


def trending_scores(
    events: pd.DataFrame,
    items: pd.DataFrame,
    now: datetime | None = None,
    config: TrendingConfig | None = None,
) -> pd.DataFrame:
    """``item_id, category, recent, baseline, score`` for items trending at ``now``, best first.

    ``now`` defaults to the latest event; events after it are ignored (point-in-time correct).
    """
    config = config or TrendingConfig()
    stamps = pd.to_datetime(events["timestamp"], utc=True)
    at = _as_of(stamps, now)
    kinds = events["event_type"].map(POSITIVE_EVENT_WEIGHTS).fillna(0.0).to_numpy()
    weights = kinds * event_trust(events)
    age_h = ((at - stamps).dt.total_seconds() / 3600.0).to_numpy()
    recent = (age_h >= 0) & (age_h < config.window_hours) & (kinds > 0)
    base = (age_h >= config.window_hours) & (age_h < config.baseline_days * 24) & (kinds > 0)
    item_ids = events["item_id"].astype(str).to_numpy()
    decayed = weights[recent] * np.exp2(-age_h[recent] / config.half_life_hours)
    recent_sum = _capped_sum(events, recent, decayed, config.max_user_item_weight)
    base_hours = max(config.baseline_days * 24 - config.window_hours, 1e-9)
    rate = pd.Series(weights[base]).groupby(item_ids[base]).sum() / base_hours
    h = config.half_life_hours  # a steady rate r gives r * h/ln2 * (1 - 2^(-W/h)) in the window
    expected_per_rate = h / math.log(2) * (1 - 2 ** (-config.window_hours / h))
    frame = pd.DataFrame({"recent": recent_sum}).join(pd.DataFrame({"rate": rate}), how="left").fillna(0.0)
    frame["baseline"] = frame["rate"] * expected_per_rate
    frame["score"] = frame["recent"] - config.baseline_weight * frame["baseline"]
    frame = frame[frame["score"] >= config.min_score].rename_axis("item_id").reset_index()
    known = items.drop_duplicates("item_id")
    categories = pd.Series(known["category"].astype(str).to_numpy(), index=known["item_id"].astype(str))
    frame["category"] = frame["item_id"].map(categories).fillna(UNKNOWN).astype(str)
    frame = frame.sort_values(["score", "item_id"], ascending=[False, True], kind="stable")
    return frame[["item_id", "category", "recent", "baseline", "score"]].reset_index(drop=True)


@dataclass(frozen=True)
class TrendingLists:
    """Ranked trending item ids, overall and per category, as of one moment."""

    as_of: str
    overall: list[str]
    by_category: dict[str, list[str]] = field(default_factory=dict)

    def top(self, k: int, categories: Sequence[str] = ()) -> list[str]:
        """Overall trending, or when ``categories`` (the user's active ones, most active first)
        are given, their lists interleaved round-robin, topped up from the overall list."""
        lists = [self.by_category.get(c, []) for c in dict.fromkeys(categories)]
        out: dict[str, None] = {}
        for rank in range(max((len(x) for x in lists), default=0)):
            for ranked in lists:
                if rank < len(ranked):
                    out.setdefault(ranked[rank])
        for item in self.overall:
            if len(out) >= k:
                break
            out.setdefault(item)
        return list(out)[: max(k, 0)]

    def save(self, directory: str | Path) -> Path:
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        path = out / TRENDING_FILE
        path.write_text(
            json.dumps({"as_of": self.as_of, "overall": self.overall, "by_category": self.by_category})
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> TrendingLists:
        data = json.loads(Path(path).read_text())
        return cls(data["as_of"], list(data["overall"]), {k: list(v) for k, v in data["by_category"].items()})


def trending_lists(
    events: pd.DataFrame,
    items: pd.DataFrame,
    now: datetime | None = None,
    config: TrendingConfig | None = None,
) -> TrendingLists:
    """The ranked lists serving reads: top ``size`` overall and ``per_category`` per category."""
    config = config or TrendingConfig()
    scores = trending_scores(events, items, now, config)
    at = _as_of(pd.to_datetime(events["timestamp"], utc=True), now)
    by_category = {
        str(cat): group["item_id"].head(config.per_category).tolist()
        for cat, group in scores.groupby("category", sort=True)
    }
    return TrendingLists(str(at), scores["item_id"].head(config.size).tolist(), by_category)
