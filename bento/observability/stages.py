"""Per-stage timings of one request: the thin hook the funnel calls for the latency-per-stage SLI.

The funnel marks the end of each stage; the sink (the service's histograms) receives the seconds
since the previous mark. Without a sink (offline replay, unit tests) nothing is measured.
"""

from __future__ import annotations

import time
from collections.abc import Callable

StageSink = Callable[[str, str, float], None]  # (stage, surface, seconds)


class Laps:
    """A stopwatch over one request: ``lap(stage)`` reports the time since the last lap."""

    __slots__ = ("_last", "sink", "surface")

    def __init__(self, surface: str, sink: StageSink | None) -> None:
        self.surface, self.sink = surface, sink
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        if self.sink is None:
            return
        now = time.perf_counter()
        self.sink(stage, self.surface, now - self._last)
        self._last = now
