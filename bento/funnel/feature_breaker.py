"""The feature-store circuit breaker (design part 9, slow dependency 1).

A slow online store makes every request wait on it; past its budget each read serves defaults,
but the store keeps taking the load that made it slow. So when the reads' p99 over the last minute
passes 20 ms the breaker opens: requests use cached features only (the item table, each user's last
read) and send the store nothing. After ``open_s`` it half-opens: reads go through again and the
window starts afresh, so the breaker closes by itself once the store is fast, or opens again.
A read that fails counts as slow: a store that is down is not read on every request either.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from contracts.funnel_config import FeatureBreakerConfig

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
SLOWEST_MS = 3_600_000.0  # a failed read (``inf``) counts as this slow: percentiles stay finite


class LatencyBreaker:
    def __init__(
        self,
        config: FeatureBreakerConfig,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self.config, self.clock, self.on_change = config, clock, on_change
        self._reads: deque[tuple[float, float]] = deque()  # (when, ms), oldest first
        self._opened_at: float | None = None
        self._state = CLOSED
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            return self._current()

    def allows_reads(self) -> bool:
        """False while open: serve cached features only."""
        return self.state != OPEN

    def record(self, ms: float) -> None:
        """One online read's time (``inf`` for a read that failed)."""
        with self._lock:
            now = self.clock()
            state = self._current()
            if state == OPEN:
                return  # a straggler from before it opened: no evidence about now
            self._reads.append((now, min(ms, SLOWEST_MS)))
            horizon = now - self.config.window_s
            while self._reads and self._reads[0][0] < horizon:
                self._reads.popleft()
            if len(self._reads) < self.config.min_reads:
                return
            p99 = float(np.percentile([read for _, read in self._reads], 99))
            if p99 > self.config.p99_ms:
                self._move(OPEN, now)
            elif state == HALF_OPEN:
                self._move(CLOSED, now)

    def _current(self) -> str:
        """The state now: an open breaker half-opens once ``open_s`` has passed."""
        opened_at = self._opened_at
        if self._state == OPEN and opened_at is not None and self.clock() - opened_at >= self.config.open_s:
            self._move(HALF_OPEN, self.clock())
        return self._state

    def _move(self, state: str, now: float) -> None:
        self._state = state
        if state == OPEN:
            self._opened_at = now
        if state in (OPEN, HALF_OPEN):
            self._reads.clear()  # the next verdict is on reads made after this moment
        if self.on_change is not None:
            self.on_change(state)
