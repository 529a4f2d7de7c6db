"""The last-good-page store (level 2): per user and surface, bounded, expiring, thread-safe."""

from __future__ import annotations

import threading

from bento.funnel.last_good import LastGoodPages, Page
from contracts.api import RecommendedItem
from contracts.funnel_config import CacheConfig


def page(*items: str) -> Page:
    return [
        RecommendedItem(item_id=item, score=0.5, reason="r", position=k, is_sponsored=False)
        for k, item in enumerate(items, start=1)
    ]


def ids(kept: Page | None) -> list[str]:
    assert kept is not None
    return [item.item_id for item in kept]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_kept_page_comes_back_without_excluded_items_renumbered() -> None:
    pages = LastGoodPages(CacheConfig(capacity=10, ttl_s=3600))
    pages.keep("u1", "home_feed", page("a", "b", "c", "d"))
    kept = pages.page("u1", "home_feed", excluded={"b"}, size=2)
    assert ids(kept) == ["a", "c"] and [item.position for item in kept or []] == [1, 2]
    assert pages.page("u1", "notifications", set(), 2) is None, "per surface"
    assert pages.page("u2", "home_feed", set(), 2) is None, "per user"
    assert pages.page("u1", "home_feed", {"a", "b", "c", "d"}, 2) is None, "nothing left to show"


def test_pages_expire_after_the_ttl_and_the_oldest_go_first() -> None:
    clock = Clock()
    pages = LastGoodPages(CacheConfig(capacity=2, ttl_s=3600), clock=clock)
    pages.keep("u1", "home_feed", page("a"))
    clock.now = 3599.0
    assert pages.page("u1", "home_feed", set(), 5) is not None
    clock.now = 3601.0
    assert pages.page("u1", "home_feed", set(), 5) is None, "an hour old: no longer a good page"
    for user in ("u2", "u3", "u4"):
        pages.keep(user, "home_feed", page("a"))
    assert len(pages) == 2 and pages.page("u2", "home_feed", set(), 5) is None


def test_forget_user_drops_every_surface_of_that_user_only() -> None:
    pages = LastGoodPages(CacheConfig(capacity=10, ttl_s=3600))
    for surface in ("home_feed", "notifications"):
        pages.keep("u1", surface, page("a"))
    pages.keep("u2", "home_feed", page("a"))
    assert pages.forget_user("u1") == 2
    assert pages.page("u1", "home_feed", set(), 5) is None
    assert pages.page("u2", "home_feed", set(), 5) is not None


def test_the_store_keeps_a_copy_and_is_safe_across_threads() -> None:
    pages = LastGoodPages(CacheConfig(capacity=1000, ttl_s=3600))
    original = page("a", "b")
    pages.keep("u0", "home_feed", original)
    original[0] = page("changed")[0]
    assert ids(pages.page("u0", "home_feed", set(), 5)) == ["a", "b"]

    def churn(n: int) -> None:
        for i in range(200):
            pages.keep(f"u{n}-{i}", "home_feed", page("a"))
            pages.page(f"u{n}-{i // 2}", "home_feed", set(), 1)
            pages.forget_user(f"u{n}-{i // 3}")

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(pages) <= 1000
