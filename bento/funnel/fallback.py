"""The fallback stack (pure): which level answers given what failed, and the L3/L4 lists.

L0 full ranking; L1 the light ranker over reduced candidates (the full ranker failed, returned
garbage or ran past its budget, or the online store did); L2 the user's last level-0 page; L3 the
segment list; L4 global popular. The funnel records what each stage managed in a ``Health`` and
asks ``ranking_level`` how far down it must go; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from contracts.api import RecommendedItem
from contracts.slis import FEATURE_BREAKER_OPEN, NO_CANDIDATES, REASON_NONE, SOURCE_FAILED, SOURCE_LATE

L0_FULL_RANKING = 0
L1_LIGHT_RANKER = 1
L2_LAST_GOOD_PAGE = 2
L3_SEGMENT = 3
L4_GLOBAL = 4


@dataclass(frozen=True)
class Health:
    """What one request's ranking stages managed; a fault is a ``contracts.slis`` reason kind."""

    candidates: bool = True  # retrieval found something to rank
    features: str | None = None  # the online store failed or ran past its budget
    ranker: str | None = None  # the full ranker failed, returned garbage or ran past its budget
    light_ranker: bool = True  # the bundle has a light ranker (and it scored)
    sources_failed: bool = False  # some retrieval source raised; the others answered
    sources_late: bool = False  # some retrieval source ran past its budget; the others answered
    cached_features: bool = False  # the feature-store breaker is open: cached features only


def ranking_level(health: Health) -> tuple[int, str]:
    """The best level the ranking stages can still give, and the reason kind: L0, L1, or L2 (the
    funnel then answers from the last good page, else the L3/L4 lists)."""
    if not health.candidates:
        return L2_LAST_GOOD_PAGE, NO_CANDIDATES
    fault = health.features or health.ranker
    if fault is None:
        return L0_FULL_RANKING, degraded_kind(health)
    return (L1_LIGHT_RANKER if health.light_ranker else L2_LAST_GOOD_PAGE), fault


def degraded_kind(health: Health) -> str:
    """Why a level-0 page is less than it could be, if it is: the first of a failed source, the
    open breaker, a late source."""
    if health.sources_failed:
        return SOURCE_FAILED
    if health.cached_features:
        return FEATURE_BREAKER_OPEN
    return SOURCE_LATE if health.sources_late else REASON_NONE


@dataclass(frozen=True)
class FallbackAnswer:
    items: list[str]
    level: int
    source: str


def fallback_items(
    lists: Mapping[str, Sequence[str]],
    segment_lists: Mapping[str, Sequence[str]],
    segment: str | None,
    excluded: Iterable[str],
    page_size: int,
) -> FallbackAnswer:
    """Segment list first (L3), topped up from the global popular list (L4); never empty while
    the global list has any item that is not excluded."""
    blocked = set(excluded)
    picked: list[str] = []
    level = L4_GLOBAL
    for name, candidates in (
        ("segment", segment_lists.get(segment or "", ())),
        ("popular", lists.get("popular", ())),
    ):
        for item in candidates:
            if len(picked) >= page_size:
                break
            if item not in blocked and item not in picked:
                picked.append(item)
                if name == "segment":
                    level = L3_SEGMENT
    if not picked:  # everything excluded: an item seen before beats an empty slot
        picked = list(lists.get("popular", ()))[:page_size]
    return FallbackAnswer(picked, level, "segment" if level == L3_SEGMENT else "popular")


def list_page(
    items: Sequence[str], categories: Sequence[str], sponsored: Sequence[bool], reason: str
) -> list[RecommendedItem]:
    """A fallback list as a page: unscored, numbered from 1, each item's category and sponsorship."""
    return [
        RecommendedItem(
            item_id=item,
            score=0.0,
            reason=reason,
            position=position,
            is_sponsored=bool(flag),
            category=category,
            source="popular",
        )
        for position, (item, category, flag) in enumerate(
            zip(items, categories, sponsored, strict=True), start=1
        )
    ]
