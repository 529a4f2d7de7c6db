"""A bounded LRU cache with a time-to-live and hit counters (thread-safe, in process).

Used for the hottest items' features (the design's hot-key mitigation) and for whole responses;
session features are never put in one, so a click is reflected on the very next request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class TTLCache(Generic[V]):
    def __init__(
        self,
        capacity: int,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
        on_lookup: Callable[[bool], None] | None = None,
    ) -> None:
        self.capacity, self.ttl_s, self._clock, self._on_lookup = capacity, ttl_s, clock, on_lookup
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.stats = CacheStats()

    def get(self, key: Hashable) -> V | None:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            hit = entry is not None and entry[0] > now
            if hit:
                self._entries.move_to_end(key)
                self.stats.hits += 1
            else:
                if entry is not None:
                    del self._entries[key]
                self.stats.misses += 1
        if self._on_lookup is not None:
            self._on_lookup(hit)
        return entry[1] if hit and entry is not None else None

    def put(self, key: Hashable, value: V) -> None:
        if self.capacity <= 0 or self.ttl_s <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl_s, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def pop_where(self, predicate: Callable[[Hashable], bool]) -> int:
        with self._lock:
            doomed = [key for key in self._entries if predicate(key)]
            for key in doomed:
                del self._entries[key]
        return len(doomed)

    def __len__(self) -> int:
        return len(self._entries)
