"""Re-ranking rules applied after scoring: diversity caps, sponsored limits, and a reason per item."""

from __future__ import annotations

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


def diversify(scored: pd.DataFrame, rules: RulesConfig, page_size: int) -> pd.DataFrame:
    """Greedy by score: at most ``max_per_category`` of a category in each window of
    ``category_window`` positions and at most ``max_sponsored`` sponsored items. Items held back
    fill the page if it runs short (sponsored excepted), so the caps never empty a slot."""
    ordered = scored.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    categories = ordered["category"].to_numpy()
    sponsored = (
        ordered["sponsored"].to_numpy(dtype=bool) if "sponsored" in ordered else np.zeros(len(ordered), bool)
    )
    chosen: list[int] = []
    held: list[int] = []
    n_sponsored = 0
    window = max(rules.category_window - 1, 0)
    for row in range(len(ordered)):
        if len(chosen) >= page_size:
            break
        recent = categories[chosen[len(chosen) - window :]] if window else categories[:0]
        too_many = int((recent == categories[row]).sum()) >= rules.max_per_category
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
