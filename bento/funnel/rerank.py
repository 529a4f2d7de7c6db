"""Re-ranking rules applied after scoring: diversity caps, sponsored limits, and a reason per item.

The rules run on arrays (``diversify_rows``); the funnel builds its page from the rows kept, the
quality bench and tests may hand a frame (``diversify``): one rule either way."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from bento.funnel.candidate_set import Candidates
from contracts.api import RecommendedItem
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
    if not len(categories):
        return {}
    names, counts = np.unique(np.asarray(categories, dtype=object), return_counts=True)
    return {str(name): float(n) / len(categories) for name, n in zip(names, counts, strict=True)}


def diversify_rows(
    score: np.ndarray,
    category: np.ndarray,
    sponsored: np.ndarray,
    rules: RulesConfig,
    page_size: int,
    taste: Mapping[str, float] | None = None,
) -> np.ndarray:
    """The page's rows (positions into the inputs), in page order. Greedy by score: at most
    ``max_per_category`` of a category in each window of ``category_window`` positions (more for a
    category the user's ``taste`` leans to, see :func:`category_caps`) and at most
    ``max_sponsored`` sponsored items. Items held back fill the page if it runs short (sponsored
    excepted), so the caps never empty a slot."""
    ordered = np.argsort(-np.asarray(score), kind="stable")
    categories = np.asarray(category)[ordered]
    sponsored = np.asarray(sponsored, dtype=bool)[ordered]
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
    return ordered[np.asarray(chosen, dtype=np.int64)]


def reason(source: str) -> str:
    """The words shown for an item proposed by ``source``."""
    return REASONS.get(source, REASONS["popular"])


def page_items(cands: Candidates, rows: np.ndarray) -> list[RecommendedItem]:
    """The page: the candidates at ``rows`` with their reason and 1-based position."""
    return [
        RecommendedItem(
            item_id=cands.item_id[row],
            score=float(cands["score"][row]),
            reason=reason(cands.source[row]),
            position=position,
            is_sponsored=bool(cands["sponsored"][row]),
            category=cands["category"][row],
            source=cands.source[row],
        )
        for position, row in enumerate(rows.tolist(), start=1)
    ]


def diversify_page(
    cands: Candidates, rules: RulesConfig, page_size: int, taste: Mapping[str, float] | None = None
) -> list[RecommendedItem]:
    """The re-ranked page of scored candidates (``score``, ``category``, ``sponsored``)."""
    rows = diversify_rows(cands["score"], cands["category"], cands["sponsored"], rules, page_size, taste)
    return page_items(cands, rows)


def diversify(
    scored: pd.DataFrame, rules: RulesConfig, page_size: int, taste: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """``diversify_rows`` over a frame: the page's rows with ``reason`` and ``position``."""
    sponsored = (
        scored["sponsored"].to_numpy(dtype=bool) if "sponsored" in scored else np.zeros(len(scored), bool)
    )
    rows = diversify_rows(
        scored["score"].to_numpy(), scored["category"].to_numpy(), sponsored, rules, page_size, taste
    )
    page = scored.iloc[rows].reset_index(drop=True)
    page["reason"] = page["source"].map(REASONS).fillna(REASONS["popular"])
    page["position"] = range(1, len(page) + 1)
    return page
