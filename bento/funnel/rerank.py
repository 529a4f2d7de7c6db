"""Re-ranking rules applied after scoring: diversity caps, sponsored limits, and a reason per item."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from contracts.funnel_config import RulesConfig

REASONS = {
    "collaborative": "Picked for you from people with similar taste",
    "session": "Because of what you just looked at",
    "item_knn": "Liked by people who liked what you engaged with",
    "ease": "Liked by people who liked what you engaged with",
    "als": "Picked for you from people with similar taste",
    "editorial": "Editor's pick",
    "co_interaction": "Often enjoyed together with items you engaged with",
    "content": "Similar to items you engaged with",
    "segment": "Popular with people like you",
    "trending": "Trending now",
    "popular": "Popular right now",
    "new_arrival": "New arrival",
    "related": "Related to this item",
}


def category_caps(rules: RulesConfig, taste: Mapping[str, float] | None) -> dict[str, int]:
    """Per category, how many of each window it may hold beyond ``max_per_category``: its share of
    the user's history (``taste``), rounded up, when the rules are calibrated."""
    if not rules.calibrated or not taste:
        return {}
    window = rules.category_window
    return {
        category: cap
        for category, share in taste.items()
        if (cap := math.ceil(share * window - 1e-9)) > rules.max_per_category
    }


def history_taste(categories: Sequence[str]) -> dict[str, float]:
    """Each category's share of a user's engaged items (their categories, one per item)."""
    if not categories:
        return {}
    names, counts = np.unique(np.asarray(categories, dtype=object), return_counts=True)
    return {str(name): float(n) / len(categories) for name, n in zip(names, counts, strict=True)}


def diversify(
    scored: pd.DataFrame, rules: RulesConfig, page_size: int, taste: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Greedy by score: at most ``max_per_category`` of a category in each window of
    ``category_window`` positions (more for a category the user's ``taste`` leans to, see
    :func:`category_caps`) and at most ``max_sponsored`` sponsored items. Items held back fill the
    page if it runs short (sponsored excepted), so the caps never empty a slot."""
    ordered = scored.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    categories = ordered["category"].to_numpy()
    sponsored = (
        ordered["sponsored"].to_numpy(dtype=bool) if "sponsored" in ordered else np.zeros(len(ordered), bool)
    )
    chosen: list[int] = []
    held: list[int] = []
    n_sponsored = 0
    window = max(rules.category_window - 1, 0)
    caps = category_caps(rules, taste)
    for row in range(len(ordered)):
        if len(chosen) >= page_size:
            break
        recent = categories[chosen[max(len(chosen) - window, 0) :]] if window else categories[:0]
        limit = caps.get(categories[row], rules.max_per_category)
        too_many = int((recent == categories[row]).sum()) >= limit
        if too_many or (sponsored[row] and n_sponsored >= rules.max_sponsored):
            held.append(row)
            continue
        n_sponsored += int(sponsored[row])
        chosen.append(row)
    chosen += [row for row in held if not sponsored[row]][: max(page_size - len(chosen), 0)]
    page = ordered.iloc[chosen].copy()
    page["reason"] = page["source"].map(REASONS).fillna(REASONS["popular"])
    page["position"] = range(1, len(page) + 1)
    return page
