"""Re-ranking rules applied after scoring: diversity caps, sponsored limits, and a reason per item."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

REASONS = {
    "collaborative": "Picked for you from people with similar taste",
    "session": "Because of what you just looked at",
    "content": "Similar to items you engaged with",
    "trending": "Trending now",
    "popular": "Popular right now",
    "new_arrival": "New arrival",
    "related": "Related to this item",
}


@dataclass(frozen=True)
class RerankRules:
    """Per-surface rules (loaded from config/surfaces.yaml)."""

    max_per_category: int = 3
    max_sponsored: int = 1
    category_window: int = 10


def diversify(scored: pd.DataFrame, rules: RerankRules, page_size: int) -> pd.DataFrame:
    """Greedy by score: at most ``max_per_category`` of a category in each window of positions,
    at most ``max_sponsored`` sponsored items. Items held back fill the page if it runs short,
    so the cap never empties a slot."""
    ordered = scored.sort_values("score", ascending=False, kind="stable")
    chosen: list[int] = []
    held: list[int] = []
    sponsored = 0
    for idx, row in zip(ordered.index, ordered.itertuples(index=False), strict=True):
        if len(chosen) >= page_size:
            break
        recent = (
            [ordered.at[i, "category"] for i in chosen[-(rules.category_window - 1) :]]
            if rules.category_window > 1
            else []
        )
        too_many = recent.count(row.category) >= rules.max_per_category
        is_sponsored = bool(getattr(row, "sponsored", False))
        if too_many or (is_sponsored and sponsored >= rules.max_sponsored):
            held.append(idx)
            continue
        sponsored += int(is_sponsored)
        chosen.append(idx)
    for idx in held:
        if len(chosen) >= page_size:
            break
        if bool(ordered.at[idx, "sponsored"]) if "sponsored" in ordered else False:
            continue
        chosen.append(idx)
    page = ordered.loc[chosen].copy()
    page["reason"] = page["source"].map(REASONS).fillna(REASONS["popular"])
    page["position"] = range(1, len(page) + 1)
    return page
