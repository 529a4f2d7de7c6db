"""The TTL/LRU cache: expiry, capacity, invalidation and hit counting."""

from bento.caching import TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_their_ttl() -> None:
    clock = Clock()
    cache: TTLCache[int] = TTLCache(capacity=10, ttl_s=5, clock=clock)
    cache.put("a", 1)
    clock.now = 4.9
    assert cache.get("a") == 1
    clock.now = 5.1
    assert cache.get("a") is None
    assert (cache.stats.hits, cache.stats.misses) == (1, 1)


def test_least_recently_used_entry_is_evicted_at_capacity() -> None:
    cache: TTLCache[int] = TTLCache(capacity=2, ttl_s=60, clock=Clock())
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # touch a: b is now the oldest
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3


def test_invalidation_by_predicate_and_lookup_callback() -> None:
    seen: list[bool] = []
    cache: TTLCache[int] = TTLCache(capacity=10, ttl_s=60, clock=Clock(), on_lookup=seen.append)
    cache.put(("u1", "home_feed"), 1)
    cache.put(("u2", "home_feed"), 2)
    assert cache.pop_where(lambda key: key[0] == "u1") == 1
    assert cache.get(("u1", "home_feed")) is None and cache.get(("u2", "home_feed")) == 2
    assert seen == [False, True]
    assert cache.stats.hit_rate == 0.5


def test_zero_ttl_disables_the_cache() -> None:
    cache: TTLCache[int] = TTLCache(capacity=10, ttl_s=0, clock=Clock())
    cache.put("a", 1)
    assert cache.get("a") is None
