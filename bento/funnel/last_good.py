"""Level 2 of the fallback stack: each user's last full-ranking page, kept for a while.

When the ranking stages cannot answer, a page ranked for this very user minutes ago beats any
non-personal list. Pages are kept per (user, surface) from every level-0 answer, bounded in number
(least recently used dropped first) and in age (the TTL, an hour by default), safe to share between
request threads, and erased with the rest of a forgotten user's state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from bento.caching import TTLCache
from contracts.api import RecommendedItem
from contracts.funnel_config import CacheConfig

Key = tuple[str, str]  # (user_id, surface)
Page = list[RecommendedItem]


def renumbered(items: list[RecommendedItem]) -> Page:
    """The items with positions 1, 2, ... in their order."""
    return [
        item if item.position == k else item.model_copy(update={"position": k})
        for k, item in enumerate(items, start=1)
    ]


class LastGoodPages:
    """A bounded, expiring, thread-safe map of (user, surface) to their last level-0 page."""

    def __init__(self, config: CacheConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._pages: TTLCache[tuple[RecommendedItem, ...]] = TTLCache(
            config.capacity, config.ttl_s, clock=clock
        )

    def keep(self, user_id: str, surface: str, page: Page) -> None:
        """Remember a level-0 page (a tuple: the caller's list may change afterwards)."""
        if user_id and page:
            self._pages.put((user_id, surface), tuple(page))

    def page(self, user_id: str, surface: str, excluded: Iterable[str], size: int) -> Page | None:
        """The kept page without ``excluded`` items (engaged since, out of stock), renumbered and cut
        to ``size``; None when there is none, it expired, or nothing on it may be shown now."""
        kept = self._pages.get((user_id, surface))
        if kept is None:
            return None
        blocked = set(excluded)
        page = [item for item in kept if item.item_id not in blocked][:size]
        return renumbered(page) if page else None

    def forget_user(self, user_id: str) -> int:
        """Drop every page of ``user_id`` (the erasure path); returns how many were dropped."""
        return self._pages.pop_where(lambda key: isinstance(key, tuple) and key[0] == user_id)

    def __len__(self) -> int:
        return len(self._pages)
