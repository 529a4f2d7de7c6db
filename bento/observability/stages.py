"""Per-stage timings of one request: the thin hook the funnel calls for the latency-per-stage SLI.

The funnel marks the end of each stage; the sink (the service's histograms) receives the seconds
since the previous mark, and the request keeps them (``ms``: the response's ``stage_ms``), so a
caller sees where its own request's time went without reading ``/metrics``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

StageSink = Callable[[str, str, float], None]  # (stage, surface, seconds)


class Laps:
    """A stopwatch over one request: ``lap(stage)`` reports the time since the last lap."""

    __slots__ = ("_last", "ms", "sink", "surface")

    def __init__(self, surface: str, sink: StageSink | None) -> None:
        self.surface, self.sink = surface, sink
        self.ms: dict[str, float] = {}  # stage -> milliseconds, in the order the stages ran
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        seconds = now - self._last
        self.ms[stage] = round(self.ms.get(stage, 0.0) + seconds * 1000, 3)
        if self.sink is not None:
            self.sink(stage, self.surface, seconds)
        self._last = now
