"""The fallback stack: which pre-computed list answers when the funnel cannot (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

L0_FULL_RANKING = 0
L3_SEGMENT = 3
L4_GLOBAL = 4


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
